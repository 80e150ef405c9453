# Each target creates .venv if it is missing and installs what it needs, so a fresh clone needs
# only Python (3.10-3.13) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= build
# `make course SMOKE=1` runs every chapter in smoke mode (about a minute each).
SMOKE  ?=
RUN_FLAGS := $(if $(SMOKE),--smoke,)

.PHONY: course test test-student lab lint exercises clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[lab]"
	touch $@ $(VENV)/.installed

course: $(VENV)/.installed
	$(BIN)/course run $(RUN_FLAGS) --out $(OUT)

test: $(VENV)/.installed-dev
	$(BIN)/course lint
	$(BIN)/course build-exercises --check
	$(BIN)/python -m pytest

# A second venv with only what a student installs (`pip install -e ".[lab]"`): every exercise
# master (solutions, visible checks, hidden tests) must run in it.
STUDENT_VENV := .venv-student
$(STUDENT_VENV)/.installed: pyproject.toml
	rm -rf $(STUDENT_VENV)
	$(PYTHON) -m venv $(STUDENT_VENV)
	$(STUDENT_VENV)/bin/python -m pip install -q --upgrade pip
	$(STUDENT_VENV)/bin/python -m pip install -q -e ".[lab]"
	touch $@

test-student: $(VENV)/.installed-dev $(STUDENT_VENV)/.installed
	COURSE_STUDENT_PYTHON=$(abspath $(STUDENT_VENV))/bin/python $(BIN)/python -m pytest -p no:cacheprovider tests/test_student_install.py

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/

lint: $(VENV)/.installed-dev
	$(BIN)/course lint

exercises: $(VENV)/.installed-dev
	$(BIN)/course build-exercises

clean:
	rm -rf $(OUT) .pytest_cache
