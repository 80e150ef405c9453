"""Maintainer and instructor tools behind the ``course`` command (no notebook imports them).

- :mod:`.cli` - the ``course`` command: one module per subcommand, each exposes ``register()``;
- :mod:`.runner` - ``course run`` (papermill over the chapters); :mod:`.doctor` - ``course doctor``;
- :mod:`.recipes`, :mod:`.bench` - fast training recipes and ``course bench`` (docs/PERFORMANCE.md);
- :mod:`.site` - ``course site``; :mod:`.release` - ``course pin``.
"""
