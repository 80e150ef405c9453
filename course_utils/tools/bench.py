"""``course bench mnist|cifar10``: train a course recipe, evaluate it, and say what it took.

Prints a short report; with ``--json`` the last line of stdout is one JSON object with at least
``test_accuracy``, ``train_seconds``, ``n_train``, ``n_test``, ``data_source``, ``device``,
``backend`` and ``seed``.

``--test-file PATH`` evaluates on an instructor's own test set, an ``.npz`` holding ``x_test``
(uint8, N x 28 x 28 for MNIST, N x 32 x 32 x 3 for CIFAR-10) and ``y_test`` (labels 0-9). The
file is read and checked before training and used only for the final evaluation: never for
training, early stopping or any choice of the recipe. With a test file, the offline MNIST run
trains on all 5,000 bundled digits (their own 1,000-digit test split is then not needed).

Keras (and so TensorFlow) is imported only when the command runs, never at parse time.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

TASKS = ("mnist", "cifar10")
IMAGE_SHAPES = {"mnist": (28, 28), "cifar10": (32, 32, 3)}


def load_test_file(path: str | Path, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Read and check an instructor's test set; returns ``(x_test, y_test)``.

    Raises ``ValueError`` naming the problem (missing key, wrong shape or dtype, bad labels).
    """
    if task not in IMAGE_SHAPES:
        raise ValueError(f"task={task!r}; choose one of {', '.join(TASKS)}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--test-file {str(path)!r} does not exist or is not a file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files if name in ("x_test", "y_test")}
            names = list(archive.files)
    except (OSError, EOFError, ValueError, AttributeError) as err:  # not an npz, damaged, or pickled objects
        raise ValueError(f"--test-file {str(path)!r} is not a readable .npz file ({err})") from err
    missing = {"x_test", "y_test"} - set(arrays)
    if missing:
        raise ValueError(f"--test-file {str(path)!r} lacks {', '.join(sorted(missing))}; "
                         f"it has {', '.join(names) or 'no arrays'}")
    x, y = arrays["x_test"], arrays["y_test"]
    shape = IMAGE_SHAPES[task]
    if x.dtype != np.uint8:
        raise ValueError(f"x_test in {str(path)!r} has dtype {x.dtype}; it must be uint8 (pixel values 0-255)")
    if x.ndim != len(shape) + 1 or x.shape[1:] != shape:
        want = "N x " + " x ".join(map(str, shape))
        raise ValueError(f"x_test in {str(path)!r} has shape {x.shape}; {task} needs {want}")
    y = np.asarray(y).reshape(-1)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y_test in {str(path)!r} has dtype {y.dtype}; it must hold integer labels 0-9")
    if len(y) != len(x) or len(x) == 0:
        raise ValueError(f"--test-file {str(path)!r}: x_test has {len(x)} images but y_test has {len(y)} labels")
    if y.min() < 0 or y.max() > 9:
        raise ValueError(f"y_test in {str(path)!r} has labels {y.min()}..{y.max()}; they must be 0-9")
    return x, y.astype(np.int64)


def _load_data(args):
    """Training arrays, evaluation arrays and the words that describe them."""
    from .. import data

    loader = data.load_mnist if args.task == "mnist" else data.load_cifar10
    ds = loader(n_train=args.n_train, n_test=args.n_test, offline=args.offline, seed=0)
    data.show_banner(ds)
    x_train, y_train = ds.x_train, ds.y_train
    if args.test_file:
        x_test, y_test = load_test_file(args.test_file, args.task)
        test_source = f"file {Path(args.test_file).name}"
        if ds.source == "bundled" and args.n_train is None:
            # The bundled split's own test digits are not needed for evaluation: train on all 5,000.
            x_train = np.concatenate([ds.x_train, ds.x_test])
            y_train = np.concatenate([ds.y_train, ds.y_test])
        if ds.source == "synthetic":
            print("!! training data is the SYNTHETIC stand-in: accuracy on a real test file will be meaningless",
                  file=sys.stderr)
    else:
        x_test, y_test = ds.x_test, ds.y_test
        test_source = {"bundled": "bundled held-out split", "synthetic": "synthetic stand-in"}.get(
            ds.source, "official test set")
    return ds, x_train, y_train, x_test, y_test, test_source


def _load_average() -> float | None:
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def run_bench(args) -> dict:
    """Do the work of ``course bench`` and return the result dictionary (also used by tests)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from . import recipes

    recipe = recipes.recipe_for(args.task, epochs=args.epochs)
    if args.test_file:  # check the file before spending minutes on training
        load_test_file(args.test_file, args.task)
    ds, x_train, y_train, x_test, y_test, test_source = _load_data(args)
    scaled = recipes.step_matched_epochs(args.task, recipe.epochs, len(x_train))
    if args.epochs is None and scaled != recipe.epochs:
        # The epoch count was cross-validated on smaller folds: on more images, keep the number
        # of optimiser steps (the same compute), not the number of epochs.
        print(f"{len(x_train):,} training images (recipe tuned on {recipes.TUNED_TRAIN_SIZE[args.task]:,}): "
              f"{scaled} epochs instead of {recipe.epochs}, the same number of optimiser steps")
        recipe = recipes.recipe_for(args.task, epochs=scaled)
    settings = recipes.device_settings()
    print(f"device: {settings.device_name} | backend {settings.backend} | {settings.dtype_policy} | "
          f"jit_compile={settings.jit_compile} ({settings.reason})")
    print(f"training {recipe.name} for {recipe.epochs} epoch(s) on {len(x_train):,} images, seed {args.seed} ...",
          flush=True)
    result = recipes.TRAINERS[args.task](x_train, y_train, recipe, seed=args.seed, settings=settings,
                                         verbose=1 if args.verbose else 0)
    accuracy = result.accuracy(x_test, y_test)
    report = {
        "task": args.task,
        "test_accuracy": round(accuracy, 6),
        "train_seconds": round(result.train_seconds, 3),
        "cpu_seconds": round(result.cpu_seconds, 3),
        "images_per_second": round(result.images_per_second, 1),
        "n_train": int(len(x_train)),
        "n_test": int(len(x_test)),
        "data_source": ds.source,
        "test_source": test_source,
        "device": settings.device,
        "device_name": settings.device_name,
        "backend": settings.backend,
        "dtype_policy": settings.dtype_policy,
        "jit_compile": settings.jit_compile,
        "seed": args.seed,
        "epochs": recipe.epochs,
        "recipe": recipe.as_dict(),
        "load_average_1min": _load_average(),
    }
    print(f"test accuracy {accuracy:.4f} on {len(x_test):,} images ({test_source}); "
          f"training {result.train_seconds:.1f} s wall, {result.cpu_seconds:.1f} s CPU, "
          f"{result.images_per_second:,.0f} images/s; data: {ds.source}")
    if ds.source == "synthetic":
        print("!! synthetic stand-in: this accuracy says nothing about real CIFAR-10; use the timing only")
    return report


def _cmd_bench(args) -> int:
    try:
        report = run_bench(args)
    except ValueError as err:
        print(f"course bench: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, sort_keys=True))
    return 0


def _int_at_least(minimum: int, what: str = "value"):
    """An argparse type: an integer of at least ``minimum``, with a message naming ``what``."""
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} {value} must be at least {minimum}")
        return value

    return parse


_positive_int = _int_at_least(1)
_seed = _int_at_least(0, "seed")


def main(argv: list[str] | None = None) -> int:
    """Run ``course bench`` on its own: ``python -m course_utils.tools.bench mnist --offline --json``."""
    import argparse

    parser = argparse.ArgumentParser(prog="course")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["bench", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


def register(subparsers) -> None:
    """Add ``course bench`` to the ``course`` command."""
    parser = subparsers.add_parser(
        "bench", help="train a course recipe (mnist or cifar10), evaluate it and report time and accuracy",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("task", choices=TASKS, help="which recipe to train")
    parser.add_argument("--offline", action="store_true",
                        help="use the bundled data (5,000 MNIST digits / synthetic CIFAR-10 stand-in), no download")
    parser.add_argument("--test-file", metavar="PATH",
                        help=".npz with x_test (uint8) and y_test: evaluate on it, never train on it")
    parser.add_argument("--epochs", type=_positive_int, default=None, help="override the recipe's epoch count")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument("--n-train", type=_positive_int, default=None,
                        help="train on a random subset of this size (quick checks; default: all)")
    parser.add_argument("--n-test", type=_positive_int, default=None,
                        help="evaluate on a random subset of the loader's test split (ignored with --test-file)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")
    parser.add_argument("--verbose", action="store_true", help="show Keras's progress bar")
    parser.set_defaults(func=_cmd_bench)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
