"""Authoring tools (instructors and maintainers; no notebook imports them).

- :mod:`.markers` - the master's data model (markers, answers, tests, mutants): the grader reads
  masters through it;
- :mod:`.conventions` - the notebook rules (badge, setup cell, parameters cell, canonical text);
- :mod:`.exercises` - ``course build-exercises``;
- :mod:`.lint` - ``course lint``;
- :mod:`.cli` - their ``register()`` for the ``course`` command.
"""
