"""A thin wrapper around ``model.fit`` that records what a learner needs to compare runs:
how long it took, on which device and backend, and on which data."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass


@dataclass
class RunRecord:
    seconds: float
    epochs: int
    n_train: int
    data_source: str
    device: str
    backend: str
    images_per_second: float

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (f"{self.epochs} epoch(s) on {self.n_train:,} images from {self.data_source} in "
                f"{self.seconds:.1f} s ({self.images_per_second:,.0f} images/s, {self.device}, {self.backend})")


def timed_fit(model, x, y, data_source: str = "unknown", **fit_kwargs):
    """``model.fit(x, y, **fit_kwargs)`` timed; returns ``(history, RunRecord)``.

    Taught in: notebooks/03_mnist_cnn.ipynb
    """
    import keras

    from .env import detect_accelerator

    epochs = int(fit_kwargs.get("epochs", 1))
    start = time.perf_counter()
    history = model.fit(x, y, **fit_kwargs)
    seconds = time.perf_counter() - start
    n_train = len(x)
    if fit_kwargs.get("validation_split"):
        n_train = int(n_train * (1 - fit_kwargs["validation_split"]))
    run = RunRecord(
        seconds=seconds, epochs=epochs, n_train=n_train, data_source=data_source,
        device=str(detect_accelerator()), backend=keras.backend.backend(),
        images_per_second=n_train * epochs / seconds if seconds > 0 else float("nan"),
    )
    return history, run
