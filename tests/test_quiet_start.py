"""TensorFlow's start-up lines stay out of notebooks, and worksheets that train nothing skip it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import env

ROOT = Path(__file__).resolve().parent.parent

# The start-up lines TensorFlow 2.21 prints on a CPU-only machine, as a student sees them.
NOISE_SAMPLES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796071826.546278   10012 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors from different "
    "computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1796071826.702270   10012 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow "
    "with the appropriate compiler flags.",
]
NO_GPU_SAMPLES = [
    "I0000 00:00:1796071826.546676   10012 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.",
    "E0000 00:00:1796071835.596993   10012 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA "
    "error: Failed call to cuInit: UNKNOWN ERROR (303)",
]
# The same lines as TF 2.20 (Colab's version) prints them, with a date-time prefix.
NO_GPU_SAMPLES += [
    "2026-11-30 22:30:57.019802: E external/local_xla/xla/stream_executor/cuda/cuda_platform.cc:51] "
    "failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "2026-11-30 22:30:50.118352: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could not find cuda "
    "drivers on your machine, GPU will not be used.",
]
NOISE_SAMPLES += ["2026-11-30 22:30:50.113512: I tensorflow/core/util/port.cc:153] oneDNN custom operations "
                  "are on. You may see slightly different numerical results."]
# Fragments to look for in real output (timestamps and line numbers vary).
NOISE_FRAGMENTS = ["absl::InitializeLog", "oneDNN custom operations are on", "cpu_feature_guard",
                   "Could not find cuda drivers", "failed call to cuInit"]


def test_noise_lines_are_dropped_and_other_lines_kept():
    patterns = env.TF_STARTUP_NOISE + env.TF_NO_GPU_NOISE
    real = ["E0000 00:00:1.0 1 some_op.cc:12] Out of memory while allocating 4 GB",
            "2026-11-30 22:30:50.1: E some_op.cc:12] a real TF 2.20 error",
            "Traceback (most recent call last):", "UserWarning: something the student should see"]
    text = "\n".join(NOISE_SAMPLES + NO_GPU_SAMPLES[:1] + real[:1] + NO_GPU_SAMPLES[1:] + real[1:]) + "\n"
    assert env.drop_noise_lines(text, patterns) == "\n".join(real) + "\n"


def test_cuda_lines_are_kept_where_an_nvidia_gpu_is_present(monkeypatch):
    monkeypatch.setattr(env, "nvidia_gpu_present", lambda: True)
    kept = env.drop_noise_lines("\n".join(NO_GPU_SAMPLES) + "\n", env.tensorflow_noise_patterns())
    assert kept == "\n".join(NO_GPU_SAMPLES) + "\n", "a failing cuInit on a GPU machine is a real problem"
    monkeypatch.setattr(env, "nvidia_gpu_present", lambda: False)
    assert env.drop_noise_lines("\n".join(NO_GPU_SAMPLES) + "\n", env.tensorflow_noise_patterns()) == ""


def _run(code: str, **extra_env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(extra_env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=environment)


def test_filter_forwards_native_lines_it_does_not_recognise():
    code = ("import os\nfrom course_utils import env\n"
            "with env.filtered_native_stderr(env.TF_STARTUP_NOISE):\n"
            f"    os.write(2, {(NOISE_SAMPLES[1] + chr(10)).encode()!r})\n"
            "    os.write(2, b'native error the student must see\\n')\n"
            "os.write(2, b'after the block\\n')\n")
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "native error the student must see\nafter the block\n"


@pytest.mark.slow
def test_set_seed_imports_tensorflow_without_its_startup_lines():
    plain = _run("import tensorflow as tf; tf.constant(1) + 1")
    assert plain.returncode == 0, plain.stderr
    expected_noise = [f for f in NOISE_FRAGMENTS if f in plain.stderr]
    if not expected_noise:
        pytest.skip("this TensorFlow prints none of the known start-up lines: nothing to hide")
    quiet = _run("from course_utils import env\nenv.set_seed(1)\nimport tensorflow as tf\n"
                 "tf.constant(1) + 1\nprint(env.detect_accelerator())")
    assert quiet.returncode == 0, quiet.stderr
    if env.nvidia_gpu_present():  # the CUDA lines are kept there on purpose
        expected_noise = [f for f in expected_noise if "cuda" not in f.lower() and "cuInit" not in f]
    leaked = [f for f in expected_noise if f in quiet.stderr]
    assert not leaked, f"start-up lines still printed: {leaked}\n{quiet.stderr}"


def _masters_that_skip_keras() -> list[Path]:
    return [p for p in sorted((ROOT / "solutions").glob("*.ipynb"))
            if "keras=False" in p.read_text(encoding="utf-8")]


def test_worksheets_without_deep_learning_skip_keras():
    """The exercise sets that train nothing say so, so their setup cell does not import TensorFlow."""
    skipping = {p.name[:2] for p in _masters_that_skip_keras()}
    assert {"01", "02", "05", "07", "08", "09", "10", "11", "12", "13"} <= skipping


@pytest.mark.slow
@pytest.mark.parametrize("master", _masters_that_skip_keras(), ids=lambda p: p.name[:2])
def test_master_with_keras_false_never_imports_tensorflow(master):
    from nbclient import NotebookClient

    nb = nbformat.read(master, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys\nprint(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(master.parent)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert printed.strip() == "[]", f"{master.name} calls set_seed(keras=False) but imported {printed.strip()}"
