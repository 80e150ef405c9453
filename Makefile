# Each target creates .venv if it is missing and installs what it needs, so a fresh clone needs
# only Python (3.11-3.13) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= build
# `make course SMOKE=1` runs every chapter in smoke mode (about a minute each).
SMOKE  ?=
RUN_FLAGS := $(if $(SMOKE),--smoke,)

.PHONY: course test test-fast test-colab test-student test-browser lab lint exercises site test-site clean

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

# The fast tier, for the edit-test loop: unit tests and doctests of the package, no notebooks, no
# test marked slow (training, kernels, grading runs); under a minute on 2 cores. `make test` stays
# the full suite that CI runs.
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -p no:cacheprovider -q -m "not slow" --timeout=120 course_utils tests

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

# A Colab-like second environment: Python 3.13 with Colab's published versions
# (constraints/colab/) as constraints; the main venv keeps the newest versions. Checks that a wheel
# resolves on Colab's image, that this venv really has Colab's versions, then runs the smoke
# notebooks, the fast unit tests and one real grading run (a master must get full marks).
COLAB_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3.13)
COLAB_VENV   := .venv-colab
COLAB_FREEZE := constraints/colab/pip-freeze-2026-08.txt
COLAB_OUT    := $(abspath build/colab)

$(COLAB_VENV)/bin/python:
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)

$(COLAB_VENV)/.installed: pyproject.toml $(COLAB_FREEZE) | $(COLAB_VENV)/bin/python
	$(COLAB_VENV)/bin/python tools/colab_stack.py constraints --freeze $(COLAB_FREEZE) --out $(COLAB_VENV)/constraints.txt
	$(COLAB_VENV)/bin/python -m pip install -q -c $(COLAB_VENV)/constraints.txt -e ".[dev]"
	touch $@

test-colab: $(COLAB_VENV)/.installed
	$(COLAB_VENV)/bin/python tools/colab_stack.py verify-env --freeze $(COLAB_FREEZE)
	$(COLAB_VENV)/bin/python tools/colab_stack.py check
	$(COLAB_VENV)/bin/course run --smoke --no-progress --out $(COLAB_OUT)/run
	$(COLAB_VENV)/bin/python -m pytest -p no:cacheprovider -q -m "not slow" course_utils tests
	$(COLAB_VENV)/bin/python tools/colab_stack.py grade-master 01 --out $(COLAB_OUT)/grade

# JupyterLab's root is the course folder, so lectures, exercises and data are all one click away;
# it opens START_HERE.ipynb, which links every lecture and exercise set.
lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab START_HERE.ipynb

# The end-to-end test in headless Chromium (tests/test_browser.py). Needs the system's Chromium:
# .ci/install-browser installs it and the playwright package; here a missing browser fails.
$(VENV)/.installed-browser: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev,lab,browser]"
	touch $@ $(VENV)/.installed $(VENV)/.installed-dev $(VENV)/.installed-lab

# JupyterLab and its kernels run from the student's [lab]-only venv; playwright drives Chromium.
test-browser: $(VENV)/.installed-browser $(STUDENT_VENV)/.installed
	COURSE_REQUIRE_BROWSER=1 COURSE_STUDENT_PYTHON=$(abspath $(STUDENT_VENV))/bin/python \
	  $(BIN)/python -m pytest -p no:cacheprovider -s tests/test_browser.py

lint: $(VENV)/.installed-dev
	$(BIN)/course lint

exercises: $(VENV)/.installed-dev
	$(BIN)/course build-exercises

# The course website, from the notebooks `make course` executed into $(OUT)/ (run that first; nothing is
# executed again here). `course site --help` for a smoke-mode preview.
SITE_OUT ?= $(OUT)/site
$(VENV)/.installed-site: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[site]"
	touch $@ $(VENV)/.installed

site: $(VENV)/.installed-site
	$(BIN)/course site --executed $(OUT) --out $(SITE_OUT)

# Headless Chromium on every page of the site: images render, internal links resolve; screenshots
# in $(OUT)/site-screenshots/.
test-site: site $(VENV)/.installed-dev
	COURSE_SITE_DIR=$(abspath $(SITE_OUT)) COURSE_SITE_SCREENSHOTS=$(abspath $(OUT))/site-screenshots \
	  COURSE_SITE_REQUIRED=1 $(BIN)/python -m pytest -p no:cacheprovider -q tests/site

clean:
	rm -rf $(OUT) .pytest_cache
