"""Tests of course_utils.plots: each plot draws, is titled and labelled, and rejects bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import evaluation, plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_confusion_matrix_counts_and_labels():
    ax = plots.plot_confusion_matrix(np.array([[5, 1], [2, 7]]), class_names=["no", "yes"])
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["1", "2", "5", "7"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["no", "yes"]


def test_confusion_matrix_normalized_rows():
    ax = plots.plot_confusion_matrix([[3, 1], [0, 4]], normalize=True, title="Row shares")
    assert ax.get_title() == "Row shares"
    assert sorted(t.get_text() for t in ax.texts) == ["0.00", "0.25", "0.75", "1.00"]


@pytest.mark.parametrize("matrix, names, word", [
    ([[1, 2, 3]], None, "square"),
    ([[1, -1], [0, 1]], None, "negative"),
    ([[1, 0], [0, 1]], ["a"], "class_names"),
])
def test_confusion_matrix_rejects_bad_input(matrix, names, word):
    with pytest.raises(ValueError, match=word):
        plots.plot_confusion_matrix(matrix, class_names=names)


def test_history_plot_from_dict():
    logs = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}
    fig = plots.plot_history(logs, title="Run A")
    assert len(fig.axes) == 2
    assert fig._suptitle.get_text() == "Run A"
    loss_ax = fig.axes[0]
    assert len(loss_ax.lines) == 2 and loss_ax.get_legend() is not None
    assert loss_ax.get_xlabel() == "epoch"
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), [1.1, 0.7])


def test_history_plot_skips_missing_and_rejects_none_present():
    fig = plots.plot_history({"loss": [1.0, 0.9]}, metrics=("loss", "accuracy"))
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="recorded"):
        plots.plot_history({"loss": [1.0]}, metrics=("auc",))
    with pytest.raises(ValueError, match="History"):
        plots.plot_history([1, 2, 3])


def test_image_grid_captions_wrong_predictions_in_red():
    images = np.zeros((5, 8, 8, 3), dtype=np.uint8)
    fig = plots.image_grid(images, labels=[0, 1, 2, 0, 1], predictions=[0, 1, 0, 0, 1],
                           class_names=["cat", "dog", "bird"], n_cols=3)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 5
    wrong = [ax.get_title() for ax in titled if ax.title.get_color() == "red"]
    assert wrong == ["cat / bird"]
    assert "predicted / true" in fig._suptitle.get_text()


def test_image_grid_greyscale_and_errors():
    fig = plots.image_grid(np.zeros((3, 28, 28, 1)), labels=[1, 2, 3])
    assert [ax.get_title() for ax in fig.axes[:3]] == ["1", "2", "3"]
    with pytest.raises(ValueError, match="images must be"):
        plots.image_grid(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="labels has 1"):
        plots.image_grid(np.zeros((3, 8, 8)), labels=[1])
    with pytest.raises(ValueError, match="n_cols"):
        plots.image_grid(np.zeros((3, 8, 8)), n_cols=0)


def test_reliability_diagram_shows_ece():
    bins = evaluation.reliability_bins([0.95] * 10 + [0.55] * 10, [1] * 9 + [0] + [1] * 5 + [0] * 5)
    ax = plots.reliability_diagram(bins)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"ECE {bins.ece():.3f}" in label for label in labels)
    assert ax.get_xlabel().startswith("predicted confidence")


def test_course_theme_is_set_once_and_seaborn_stays_lazy():
    import subprocess
    import sys

    code = ("import sys, course_utils, course_utils.plots; "
            "assert 'seaborn' not in sys.modules, 'import course_utils.plots must not import seaborn'; "
            "print(course_utils.plots.use_course_theme()); "
            "import matplotlib; print(matplotlib.rcParams['axes.grid'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "whitegrid" in out and out.strip().endswith("True")


def test_bootstrap_distribution_marks_interval_and_estimate():
    rng = np.random.default_rng(0)
    ax = plots.bootstrap_distribution(rng.normal(0.9, 0.01, 500), 0.88, 0.92, estimate=0.9,
                                      xlabel="accuracy (share correct)", title="Boot")
    assert ax.get_title() == "Boot" and ax.get_xlabel() == "accuracy (share correct)"
    assert ax.get_ylabel() == "resamples (count)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("95% interval 0.88 to 0.92" in text for text in labels)
    assert any("0.9" in text and "test set" in text for text in labels)


@pytest.mark.parametrize("samples, low, high, word", [
    ([1.0], 0, 1, "at least 2"),
    ([1.0, np.nan], 0, 1, "finite"),
    ([1.0, 2.0], 2, 1, "must not exceed"),
])
def test_bootstrap_distribution_rejects_bad_input(samples, low, high, word):
    with pytest.raises(ValueError, match=word):
        plots.bootstrap_distribution(samples, low, high)


def test_group_rates_one_bar_per_group_and_rate():
    import pandas as pd

    table = pd.DataFrame({"selection_rate": [0.6, 0.8], "tpr": [0.7, 0.9], "fpr": [0.3, 0.5]},
                         index=pd.Index(["A", "B"], name="group"))
    ax = plots.group_rates(table, title="Groups")
    heights = sorted(round(p.get_height(), 2) for p in ax.patches if p.get_height() > 0)
    assert heights == [0.3, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]
    assert ax.get_ylabel() == "rate (fraction of group)" and ax.get_title() == "Groups"
    with pytest.raises(ValueError, match="no column"):
        plots.group_rates(table, rates=("ppv",))
    with pytest.raises(ValueError, match="DataFrame"):
        plots.group_rates({"tpr": [1]})
