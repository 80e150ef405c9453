"""Environment detection, smoke mode, seeding."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from course_utils import env


@pytest.mark.parametrize("raw,expected", [("1", True), ("true", True), ("0", False), ("no", False), ("", False)])
def test_smoke_from_env(monkeypatch, raw, expected):
    monkeypatch.setenv("COURSE_SMOKE", raw)
    assert env.smoke_from_env() is expected


def test_smoke_env_garbage_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "maybe")
    with pytest.raises(ValueError, match="COURSE_SMOKE='maybe'"):
        env.smoke_from_env()


def test_resolve_smoke_combines_parameter_and_env(monkeypatch):
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    assert env.resolve_smoke(False) is False
    assert env.resolve_smoke(True) is True
    monkeypatch.setenv("COURSE_SMOKE", "1")
    assert env.resolve_smoke(False) is True
    with pytest.raises(ValueError, match="SMOKE must be True or False"):
        env.resolve_smoke("yes")


def test_detect_platform(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    assert env.detect_platform() in {"local", "kaggle"}
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20260101")
    assert env.detect_platform() == "colab"


@pytest.mark.slow
def test_set_seed_makes_python_numpy_and_keras_repeat():
    import keras

    env.set_seed(7)
    first = (random.random(), np.random.rand(), keras.random.uniform((3,)).numpy().tolist())
    env.set_seed(7)
    second = (random.random(), np.random.rand(), keras.random.uniform((3,)).numpy().tolist())
    assert first == second


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        env.set_seed(bad)


def test_versions_lists_the_stack_without_importing_it():
    v = env.versions()
    assert v["python"].count(".") == 2 and v["numpy"]
    assert v["keras_backend"] in {"tensorflow", "jax", "torch", "numpy"}


def test_accelerator_on_this_machine_is_described():
    accelerator = env.detect_accelerator()
    assert accelerator.kind in {"cpu", "gpu", "tpu"} and accelerator.count >= 1
    assert str(accelerator)


def test_cpu_strategy_keeps_float32_and_no_xla():
    choice = env.choose_strategy(env.Accelerator("cpu", 1))
    assert choice.mixed_precision == "float32" and choice.jit_compile is False
    assert "CPU" in choice.name


def test_importing_the_package_does_not_import_tensorflow():
    code = ("import sys, course_utils, course_utils.env, course_utils.data, course_utils.tools.cli, "
            "course_utils.tools.runner, course_utils.tools.doctor, course_utils.results, course_utils.paths, "
            "course_utils.models, course_utils.training, course_utils.business; "
            "course_utils.tools.cli.build_parser(); "
            "bad = [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
