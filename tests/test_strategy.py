"""The strategy helper: the CPU defaults, and the multi-device path on a CPU split in two.

TensorFlow can split a device only before it initialises, so the multi-device test runs in a
fresh subprocess.
"""

import json
import math
import os
import subprocess
import sys
import textwrap

import pytest

from course_utils import env

_MIRRORED_SCRIPT = textwrap.dedent("""
    import json, os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from course_utils import env
    devices = env.split_cpu(2)
    choice = env.choose_strategy(prefer_multi_cpu=True)
    import keras
    import numpy as np
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    with choice.strategy.scope():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    print("RESULT " + json.dumps({
        "n_logical": len(devices),
        "name": choice.name,
        "replicas": choice.strategy.num_replicas_in_sync,
        "mixed_precision": choice.mixed_precision,
        "jit_compile": choice.jit_compile,
        "loss": float(history.history["loss"][-1]),
        "strategy_class": type(choice.strategy).__name__,
    }))
""")


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus():
    environment = dict(os.environ, CUDA_VISIBLE_DEVICES="-1")
    done = subprocess.run([sys.executable, "-c", _MIRRORED_SCRIPT], capture_output=True, text=True,
                          timeout=240, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line; stdout: {done.stdout[-2000:]}"
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["n_logical"] == 2
    assert result["strategy_class"] == "MirroredStrategy"
    assert result["replicas"] == 2
    assert result["mixed_precision"] == "float32" and result["jit_compile"] is False
    assert math.isfinite(result["loss"]), f"loss not finite: {result['loss']}"


@pytest.mark.slow
def test_cpu_default_strategy():
    choice = env.choose_strategy(env.Accelerator("cpu", 1))
    import tensorflow as tf

    assert choice.strategy is tf.distribute.get_strategy()
    assert choice.strategy.num_replicas_in_sync == 1
    assert choice.mixed_precision == "float32"
    assert choice.jit_compile is False
    assert "CPU" in choice.name and choice.reason


@pytest.mark.slow
def test_prefer_multi_cpu_without_split_falls_back_to_default():
    import tensorflow as tf

    if len(tf.config.list_logical_devices("CPU")) > 1:
        pytest.skip("this process already split its CPU")
    choice = env.choose_strategy(env.Accelerator("cpu", 1), prefer_multi_cpu=True)
    assert choice.strategy.num_replicas_in_sync == 1
    assert choice.name == "default (CPU)"


def test_split_cpu_rejects_bad_count():
    with pytest.raises(ValueError, match="n_devices"):
        env.split_cpu(0)
