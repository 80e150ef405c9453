"""Where the course runs: platform, accelerator, versions, seeding, smoke mode, strategy.

Nothing here imports TensorFlow at module import time; the functions that need it import it
when called.

>>> resolve_smoke(True)
True
"""

from __future__ import annotations

import contextlib
import glob
import os
import platform as _platform
import random
import re
import sys
import threading
from dataclasses import dataclass, field
from importlib import metadata

SMOKE_ENV_VAR = "COURSE_SMOKE"
_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"0", "false", "no", "off", ""}


# --------------------------------------------------------------------------- platform
def detect_platform() -> str:
    """``"colab"``, ``"kaggle"`` or ``"local"``."""
    if "google.colab" in sys.modules or os.environ.get("COLAB_RELEASE_TAG"):
        return "colab"
    if os.environ.get("KAGGLE_KERNEL_RUN_TYPE") or os.path.isdir("/kaggle/input"):
        return "kaggle"
    return "local"


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or ``None`` when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Versions that matter for the course, without importing any of them."""
    names = ["numpy", "pandas", "scikit-learn", "matplotlib", "tensorflow", "keras", "jax", "torch", "mlxtend"]
    out: dict[str, str | None] = {"python": _platform.python_version()}
    out.update({name: package_version(name) for name in names})
    out["keras_backend"] = keras_backend()
    return out


def keras_backend() -> str:
    """The Keras backend that ``import keras`` will use (read from the environment, no import)."""
    if "keras" in sys.modules:
        try:
            return sys.modules["keras"].backend.backend()
        except AttributeError:
            pass
    return os.environ.get("KERAS_BACKEND", "tensorflow")


# --------------------------------------------------------------------------- quiet TensorFlow start-up
# TensorFlow reads this when it loads; "2" drops its INFO and WARNING lines and keeps errors.
# setdefault: a user's own choice wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Lines TensorFlow's C++ libraries write to stderr while they load, on every CPU-only machine.
#: TensorFlow 2.21 logs them from static initialisers, before it reads ``TF_CPP_MIN_LOG_LEVEL``,
#: so the variable cannot hide them; they reach the notebook because ipykernel forwards fd 2.
# TensorFlow's native log prefix: absl's "I0000 00:00:..." (TF 2.21) or the older
# "2026-11-30 22:30:57.019802: I " (TF 2.20, Colab's version).
_TF_LOG = r"^(?:{levels}\d{{4}} |\d{{4}}-\d{{2}}-\d{{2}} [\d:.]+: (?:{levels}) )"
TF_STARTUP_NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(_TF_LOG.format(levels="[IW]") + r".*\] oneDNN custom operations are on\."),
    re.compile(_TF_LOG.format(levels="[IW]") + r".*cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"),
    re.compile(r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.$"),
)
#: Lines that say "no CUDA GPU here": noise on a machine without one, a real problem on a machine
#: with one (so they are kept there, see :func:`nvidia_gpu_present`).
TF_NO_GPU_NOISE = (
    re.compile(_TF_LOG.format(levels="[IW]") + r".*\] Could not find cuda drivers on your machine, GPU will not be used\.$"),
    re.compile(_TF_LOG.format(levels="E") + r".*\] failed call to cuInit: "),
)

_stderr_lock = threading.Lock()


def nvidia_gpu_present() -> bool:
    """Whether the operating system shows an NVIDIA GPU (a device node or WSL's GPU bridge)."""
    return bool(glob.glob("/dev/nvidia[0-9]*")) or os.path.exists("/dev/dxg")


def tensorflow_noise_patterns() -> tuple[re.Pattern, ...]:
    """The start-up lines :func:`import_tensorflow` hides on this machine."""
    return TF_STARTUP_NOISE + (() if nvidia_gpu_present() else TF_NO_GPU_NOISE)


def drop_noise_lines(text: str, patterns) -> str:
    """``text`` without the lines that match one of ``patterns``.

    >>> drop_noise_lines("keep me\\nI0000 00:00:1.0 1 port.cc:153] oneDNN custom operations are on. x\\n", TF_STARTUP_NOISE)
    'keep me\\n'
    """
    return "".join(line for line in text.splitlines(keepends=True) if not _is_noise(line, patterns))


def _is_noise(line: str, patterns) -> bool:
    return any(pattern.search(line.rstrip("\r\n")) for pattern in patterns)


@contextlib.contextmanager
def filtered_native_stderr(patterns):
    """Pass what is written to file descriptor 2 through a line filter while the block runs.

    Lines matching ``patterns`` are dropped; every other line goes on to the real stderr as soon
    as it is complete, so real warnings and errors are kept, and an abort inside the block does
    not swallow them. Python's own ``sys.stderr`` (where Python warnings go) is untouched. Where
    fd 2 cannot be redirected, nothing is filtered.
    """
    with _stderr_lock:
        for stream in (sys.stderr, sys.__stderr__):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            saved_fd = os.dup(2)
        except OSError:  # no usable fd 2 (e.g. a GUI process): nothing to filter
            yield
            return
        read_fd, write_fd = os.pipe()
        forwarder = threading.Thread(target=_forward_lines, args=(read_fd, saved_fd, patterns),
                                     name="course-stderr-filter", daemon=True)
        forwarder.start()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.__stderr__.flush()
            os.dup2(saved_fd, 2)  # closes the pipe's last write end: the forwarder reads EOF
            # A child process started in the block may hold the pipe open; do not wait for it.
            forwarder.join(timeout=5)
            if not forwarder.is_alive():
                os.close(saved_fd)


def _forward_lines(read_fd: int, target_fd: int, patterns) -> None:
    with os.fdopen(read_fd, "rb") as pipe:
        for raw in pipe:
            if not _is_noise(raw.decode("utf-8", errors="replace"), patterns):
                with contextlib.suppress(OSError):
                    os.write(target_fd, raw)


def import_tensorflow():
    """Import TensorFlow without its start-up lines on stderr, and return the module.

    The CUDA platform is initialised here too (by listing GPUs), so the ``cuInit`` error a
    CPU-only machine gets is filtered as well instead of appearing at the first operation.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with filtered_native_stderr(tensorflow_noise_patterns()):
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
    return tf


# --------------------------------------------------------------------------- smoke mode
def smoke_from_env() -> bool | None:
    """``True``/``False`` when ``COURSE_SMOKE`` is set, ``None`` when it is not."""
    raw = os.environ.get(SMOKE_ENV_VAR)
    if raw is None:
        return None
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError(f"{SMOKE_ENV_VAR}={raw!r} is not understood; use 1 (smoke mode) or 0 (full mode)")


def resolve_smoke(notebook_value: bool) -> bool:
    """The smoke setting a notebook should use.

    Smoke mode is on when the notebook's ``SMOKE`` parameter is true (papermill sets it) or
    when ``COURSE_SMOKE=1`` is in the environment (CI, nbval and the grader set it).

    Taught in: notebooks/01_big_models_scale.ipynb
    """
    if not isinstance(notebook_value, bool):
        raise ValueError(f"SMOKE must be True or False, got {notebook_value!r}")
    return notebook_value or bool(smoke_from_env())


# --------------------------------------------------------------------------- seeding
def set_seed(seed: int, deterministic: bool = False, keras: bool = True) -> int:
    """Seed Python, NumPy and, when ``keras=True`` and Keras is installed, Keras and its backend.

    ``keras=False`` is for notebooks that train nothing (the business worksheets): it skips
    importing Keras, which takes seconds. ``deterministic=True`` also asks TensorFlow for
    deterministic ops, which is slower; the course uses it only where an exact number is checked.
    Returns the seed.

    Taught in: notebooks/01_big_models_scale.ipynb
    """
    from .validation import check_int

    check_int("seed", seed, low=0)
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    import numpy as np

    np.random.seed(seed)
    if keras and package_version("keras") is not None:
        if keras_backend() == "tensorflow" and package_version("tensorflow") is not None:
            import_tensorflow()  # first, so Keras's own import finds it loaded, without the noise
        import keras as keras_module

        keras_module.utils.set_random_seed(seed)
        if deterministic and keras_module.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
    return seed


# --------------------------------------------------------------------------- accelerators
@dataclass(frozen=True)
class Accelerator:
    """What the deep-learning framework can compute on."""

    kind: str  # "tpu", "gpu" or "cpu"
    count: int
    names: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        if self.kind == "cpu":
            return f"CPU ({os.cpu_count()} cores)"
        label = ", ".join(self.names) if self.names else self.kind.upper()
        return f"{self.count} x {self.kind.upper()} ({label})"


def detect_accelerator() -> Accelerator:
    """TPU, GPUs or CPU, as the active Keras backend sees them (imports the backend).

    Taught in: notebooks/04_cifar10_cnn.ipynb
    """
    backend = keras_backend()
    if backend == "jax":
        import jax

        devices = jax.devices()
        kind = devices[0].platform if devices else "cpu"
        kind = {"cuda": "gpu", "rocm": "gpu"}.get(kind, kind)
        if kind == "cpu":
            return Accelerator("cpu", 1)
        return Accelerator(kind, len(devices), tuple(d.device_kind for d in devices))
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            n = torch.cuda.device_count()
            return Accelerator("gpu", n, tuple(torch.cuda.get_device_name(i) for i in range(n)))
        return Accelerator("cpu", 1)
    tf = import_tensorflow()

    if _tpu_address() is not None:
        return Accelerator("tpu", 8, ("TPU",))
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return Accelerator("gpu", len(gpus), tuple(names))
    return Accelerator("cpu", 1)


def _tpu_address() -> str | None:
    return os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR")


def split_cpu(n_devices: int = 2) -> list:
    """Split the CPU into ``n_devices`` logical devices (TensorFlow), to exercise multi-device code.

    Must run before TensorFlow initialises its devices (before any op runs).
    """
    from .validation import check_int

    check_int("n_devices", n_devices, low=1)
    tf = import_tensorflow()

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n_devices)]
        )
    except RuntimeError as err:  # devices already initialised
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) != n_devices:
            raise RuntimeError(
                f"cannot split the CPU into {n_devices} devices: TensorFlow already started with "
                f"{len(existing)}; call split_cpu() at the top of the notebook, before any TensorFlow op"
            ) from err
    return tf.config.list_logical_devices("CPU")


@dataclass(frozen=True)
class StrategyChoice:
    """A distribution strategy and the reason it was chosen."""

    strategy: object
    name: str
    reason: str
    mixed_precision: str  # the Keras dtype policy that helps on this device
    jit_compile: bool  # whether XLA compilation helps on this device


def choose_strategy(accelerator: Accelerator | None = None, prefer_multi_cpu: bool = False) -> StrategyChoice:
    """The one place that picks a ``tf.distribute`` strategy, precision policy and XLA setting.

    - TPU: ``TPUStrategy``, ``mixed_bfloat16``, XLA on (TPUs always compile).
    - several GPUs: ``MirroredStrategy``, ``mixed_float16``, XLA on.
    - one GPU: ``OneDeviceStrategy``, ``mixed_float16``, XLA on.
    - CPU: the default strategy, ``float32``, XLA off: measured on a 2-core CPU, XLA made a
      small CNN about 6x slower and ``mixed_bfloat16`` about 4.7x slower.
    - ``prefer_multi_cpu=True`` with several logical CPUs (see :func:`split_cpu`):
      ``MirroredStrategy`` over them, to test the multi-device path without a GPU.

    Taught in: notebooks/04_cifar10_cnn.ipynb
    """
    tf = import_tensorflow()

    acc = accelerator or detect_accelerator()
    if acc.kind == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return StrategyChoice(
            tf.distribute.TPUStrategy(resolver), "TPUStrategy",
            "a TPU is attached: replicate the model over its cores", "mixed_bfloat16", True,
        )
    if acc.kind == "gpu" and acc.count > 1:
        return StrategyChoice(
            tf.distribute.MirroredStrategy(), "MirroredStrategy",
            f"{acc.count} GPUs: copy the model to each and split every batch", "mixed_float16", True,
        )
    if acc.kind == "gpu":
        return StrategyChoice(
            tf.distribute.OneDeviceStrategy("/gpu:0"), "OneDeviceStrategy",
            "one GPU: place everything on it", "mixed_float16", True,
        )
    logical_cpus = tf.config.list_logical_devices("CPU")
    if prefer_multi_cpu and len(logical_cpus) > 1:
        return StrategyChoice(
            tf.distribute.MirroredStrategy([d.name for d in logical_cpus]), "MirroredStrategy",
            f"{len(logical_cpus)} logical CPU devices: exercises the multi-device path on CPU",
            "float32", False,
        )
    return StrategyChoice(
        tf.distribute.get_strategy(), "default (CPU)",
        "no GPU or TPU found: float32 and no XLA, which are faster than the alternatives on CPU",
        "float32", False,
    )


# --------------------------------------------------------------------------- banner
def describe(smoke: bool | None = None, seed: int | None = None, show_devices: bool = False) -> None:
    """Print one line saying where this notebook runs (platform, versions, device, mode, seed).

    Taught in: notebooks/01_big_models_scale.ipynb
    """
    v = versions()
    parts = [
        f"platform: {detect_platform()}",
        f"python {v['python']}",
        f"keras {v['keras'] or 'not installed'} (backend {v['keras_backend']})",
    ]
    if show_devices:
        parts.append(f"device: {detect_accelerator()}")
    if smoke is not None:
        parts.append("mode: SMOKE (tiny data, few epochs: numbers are not meaningful)" if smoke else "mode: full")
    if seed is not None:
        parts.append(f"seed: {seed}")
    print(" | ".join(parts))
