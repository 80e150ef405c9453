"""Helpers for test cells of exercise masters; they work on a plain function and on the grader's proxy.

In ``course grade`` a student's function runs in another process and the test holds only a proxy:
arguments cross as copies, so a test that looks at its own array after the call never sees an
in-place change. :func:`check_no_mutation` asks the proxy for the arguments as the call left them
(``call_with_state``); in a student's own notebook it calls the function itself and compares.

>>> import numpy as np
>>> def scale(x):
...     x *= 2
...     return x
>>> check_no_mutation(scale, np.ones(3))
Traceback (most recent call last):
    ...
AssertionError: scale() modified its argument 1 (ndarray) in place; work on a copy, e.g. x = np.array(x, dtype=float)
>>> check_no_mutation(lambda x: x * 2, np.ones(3))
array([2., 2., 2.])
"""

from __future__ import annotations

import copy


def same_value(a, b) -> bool:
    """Deep equality for answer data: NaN equals NaN, arrays and frames compare by value and dtype."""
    import numpy as np

    if type(a) is not type(b) and not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if hasattr(a, "equals"):  # pandas
        return bool(a.equals(b))
    return a == b


def check_no_mutation(function, *args, **kwargs):
    """Call ``function(*args, **kwargs)``; fail if the call changed any argument; return its value."""
    before_args, before_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    name = getattr(function, "__name__", "the function")
    if hasattr(function, "call_with_state"):
        value, after_args, after_kwargs = function.call_with_state(*args, **kwargs)
    else:
        value = function(*args, **kwargs)
        after_args, after_kwargs = args, kwargs
    changed = [f"argument {i + 1} ({type(a).__name__})" for i, (a, b) in enumerate(zip(before_args, after_args, strict=False))
               if not same_value(a, b)]
    changed += [f"argument {k}= ({type(v).__name__})" for k, v in before_kwargs.items()
                if not same_value(v, after_kwargs.get(k))]
    if changed:
        hint = "; work on a copy, e.g. x = np.array(x, dtype=float)" if "ndarray" in changed[0] else "; work on a copy"
        raise AssertionError(f"{name}() modified its {', '.join(changed)} in place{hint}")
    return value


def expect_raises(error: type[BaseException], function, *args, match: str | None = None, **kwargs) -> str:
    """Call ``function``; fail unless it raises ``error`` (whose message contains ``match``); return the message."""
    name = getattr(function, "__name__", "the function")
    try:
        function(*args, **kwargs)
    except error as err:
        message = str(err)
        if match is not None and match.lower() not in message.lower():
            raise AssertionError(f"{name}() raised {error.__name__}, but its message {message[:200]!r} does not "
                                 f"mention {match!r}") from None
        return message
    except Exception as err:
        raise AssertionError(f"{name}() raised {type(err).__name__}: {str(err)[:200]}; expected {error.__name__}") from None
    raise AssertionError(f"{name}({', '.join(map(_short, args))}) returned normally; expected {error.__name__}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
