"""The course's digit model: chapter 03's network, saved there and reused by later chapters.

Chapter 03 builds the source article's CNN line by line and checks that
:func:`build_mnist_cnn` is the same network; it then saves its trained model with
:func:`save_mnist_cnn`. Chapters 05, 06 and 08 call :func:`load_or_train_mnist_cnn`, which
reuses that saved model when it fits the chapter's data and mode, and otherwise retrains the
same network and says why; chapter 14 and the exercise masters train it with
:func:`train_mnist_cnn`. Keras is imported inside the functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# Chapter 03 writes this file in its working directory; `course run` runs every chapter in the
# same output folder and Jupyter runs them in notebooks/, so later chapters find it there.
SAVED_MODEL_FILE = "mnist_cnn.keras"
_REAL_MNIST_SOURCES = ("cache", "download")


def build_mnist_cnn(num_classes: int = 10, name: str = "mnist_cnn"):
    """Chapter 03's CNN (the seed article's network): three 3x3 convolutions with 32, 64 and 64
    filters, two max-pooling layers, a 64-unit dense layer and a softmax layer.

    Input: uint8 or float images of shape (28, 28, 1) with values 0-255 (the model rescales
    them). 93,322 parameters for 10 classes (chapter 03 counts them by hand).

    Taught in: notebooks/03_mnist_cnn.ipynb
    """
    if num_classes < 2:
        raise ValueError(f"num_classes={num_classes} must be at least 2")
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Rescaling(1.0 / 255),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name=name,
    )


def train_mnist_cnn(dataset, epochs: int = 3, batch_size: int = 128, seed: int = 0, verbose: int = 0):
    """Build, compile (Adam, learning rate 1e-3, as in chapter 03) and train
    :func:`build_mnist_cnn` on ``dataset`` (a ``course_utils.data.Dataset``).

    Returns ``(model, run)`` where ``run`` is a :class:`course_utils.training.RunRecord`.

    Taught in: notebooks/14_capstone_plan.ipynb
    """
    if epochs < 1:
        raise ValueError(f"epochs={epochs} must be at least 1")
    import keras

    from .training import timed_fit

    keras.utils.set_random_seed(seed)
    model = build_mnist_cnn()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = dataset.x_train[..., None]
    _, run = timed_fit(model, x, dataset.y_train, data_source=dataset.source, epochs=epochs,
                       batch_size=batch_size, verbose=verbose)
    return model, run


def _data_family(source: str) -> str:
    """Real MNIST (one fixed train/test split) or the bundled digits (another fixed split)."""
    return "real MNIST" if source in _REAL_MNIST_SOURCES else source


def _metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def save_mnist_cnn(model, dataset, *, smoke: bool, epochs: int, test_accuracy: float,
                   path: str | Path = SAVED_MODEL_FILE) -> Path:
    """Save chapter 03's trained model and, next to it, a JSON note of how it was trained
    (data source, mode, epochs, test accuracy), which :func:`load_or_train_mnist_cnn` reads.

    Taught in: notebooks/03_mnist_cnn.ipynb
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path={str(path)!r} must end in .keras (Keras 3's native format)")
    model.save(path)
    note = {"data_source": dataset.source, "data_family": _data_family(dataset.source),
            "n_train": int(len(dataset.y_train)), "smoke": bool(smoke), "epochs": int(epochs),
            "test_accuracy": float(test_accuracy), "parameters": int(model.count_params())}
    _metadata_path(path).write_text(json.dumps(note, indent=2), encoding="utf-8")
    return path


@dataclass(frozen=True)
class ModelOrigin:
    """Where a chapter's digit model came from, in words a reader can check."""

    loaded: bool
    message: str
    run: object | None = None  # the RunRecord when the model was trained here

    def __str__(self) -> str:
        return self.message


def _why_not_reusable(path: Path, dataset, smoke: bool) -> str | None:
    """None when the saved model can be reused for ``dataset`` in this mode, else the reason."""
    if not path.is_file():
        return f"no {path.name} from chapter 03 in {path.parent.resolve()} (run chapter 03 there first to reuse it)"
    note_path = _metadata_path(path)
    if not note_path.is_file():
        return f"{path.name} has no {note_path.name} note saying how it was trained"
    try:
        note = json.loads(note_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        return f"{note_path.name} could not be read ({error})"
    if note.get("smoke") != smoke:
        return (f"chapter 03 saved it in {'smoke' if note.get('smoke') else 'full'} mode and this chapter runs in "
                f"{'smoke' if smoke else 'full'} mode")
    if note.get("data_family") != _data_family(dataset.source):
        # Another split could put this chapter's test digits in that model's training set.
        return (f"chapter 03 trained it on {note.get('data_family')} digits and this chapter has "
                f"{_data_family(dataset.source)} digits")
    return None


def load_or_train_mnist_cnn(dataset, *, smoke: bool, epochs: int, seed: int = 0, batch_size: int = 128,
                            path: str | Path = SAVED_MODEL_FILE):
    """Chapter 03's saved model when it fits ``dataset`` and the mode, else the same network
    retrained here. Returns ``(model, origin)``; print ``origin`` so the reader knows which.

    A saved model is reused only when it was trained in the same mode (smoke or full) and on the
    same split of digits (real MNIST, or the bundled offline digits), so this chapter's test
    digits were never in its training set.

    Taught in: notebooks/05_measuring_models.ipynb
    """
    path = Path(path)
    reason = _why_not_reusable(path, dataset, smoke)
    if reason is None:
        import keras

        try:
            model = keras.models.load_model(path)
        except Exception as error:  # a corrupt or foreign file: retrain, and say so
            reason = f"{path.name} could not be loaded ({type(error).__name__}: {error})"
        else:
            note = json.loads(_metadata_path(path).read_text(encoding="utf-8"))
            message = (f"loaded chapter 03's model from {path} ({note['epochs']} epoch(s) on "
                       f"{note['n_train']:,} {note['data_source']} digits, test accuracy there "
                       f"{note['test_accuracy']:.2%})")
            return model, ModelOrigin(loaded=True, message=message)
    model, run = train_mnist_cnn(dataset, epochs=epochs, batch_size=batch_size, seed=seed)
    message = f"retrained chapter 03's network here, {run}; not reused: {reason}"
    return model, ModelOrigin(loaded=False, message=message, run=run)
