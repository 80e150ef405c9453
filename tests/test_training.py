"""Tests of course_utils.training: timed_fit passes everything to ``fit`` and reports the run
(images seen, device, backend) from what really happened."""

import time

import numpy as np
import pytest

from course_utils import training

keras = pytest.importorskip("keras")


class RecordingModel:
    """Stands in for a Keras model: records the ``fit`` call and takes a known time."""

    def __init__(self, seconds: float = 0.05):
        self.seconds = seconds
        self.calls = []

    def fit(self, x, y, **kwargs):
        self.calls.append((x, y, kwargs))
        time.sleep(self.seconds)
        return {"history": "of this fit"}


def test_timed_fit_passes_arguments_and_times_the_fit():
    model = RecordingModel(seconds=0.05)
    x, y = np.zeros((100, 4)), np.zeros(100)
    history, run = training.timed_fit(model, x, y, data_source="bundled", epochs=3, batch_size=10, verbose=0)
    assert history == {"history": "of this fit"}
    [(seen_x, seen_y, kwargs)] = model.calls
    assert seen_x is x and seen_y is y and kwargs == {"epochs": 3, "batch_size": 10, "verbose": 0}
    assert run.epochs == 3 and run.n_train == 100 and run.data_source == "bundled"
    assert run.seconds >= 0.05
    assert run.images_per_second == pytest.approx(100 * 3 / run.seconds)
    assert run.backend == keras.backend.backend() and run.device


def test_validation_split_counts_only_the_training_part():
    _, run = training.timed_fit(RecordingModel(0.0), np.zeros((200, 2)), np.zeros(200), validation_split=0.25)
    assert run.n_train == 150 and run.epochs == 1


def test_run_record_reads_as_a_sentence_and_a_dict():
    run = training.RunRecord(seconds=12.5, epochs=2, n_train=60_000, data_source="cache", device="cpu",
                             backend="tensorflow", images_per_second=9600.0)
    assert str(run) == "2 epoch(s) on 60,000 images from cache in 12.5 s (9,600 images/s, cpu, tensorflow)"
    assert run.as_dict()["images_per_second"] == 9600.0 and set(run.as_dict()) == {
        "seconds", "epochs", "n_train", "data_source", "device", "backend", "images_per_second"}
