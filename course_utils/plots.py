"""Plots that several chapters share: the course theme, confusion matrix, training history,
image grid, reliability diagram, bootstrap distribution, group comparison.

Every function draws a titled, labelled figure and returns the matplotlib object it drew on
(the caller decides when to ``plt.show()``). Matplotlib and seaborn are imported inside the
functions, so ``import course_utils`` stays light. Seaborn draws the heat maps, distributions
and group comparisons; plain matplotlib the rest, where it is clearer.

>>> import numpy as np


>>> ax = plot_confusion_matrix(np.array([[5, 1], [2, 7]]), class_names=["no", "yes"])
>>> ax.get_title()
'Confusion matrix'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .validation import check_int

COURSE_THEME = {"context": "notebook", "style": "whitegrid", "palette": "colorblind"}


def use_course_theme() -> dict:
    """Set the one plot theme of the course (seaborn's ``whitegrid`` style, ``notebook`` context,
    colour-blind-safe palette) for every later figure; each chapter calls it once at the top.

    Returns the settings it applied.

    Taught in: notebooks/01_big_models_scale.ipynb
    """
    import seaborn as sns

    sns.set_theme(**COURSE_THEME)
    return dict(COURSE_THEME)


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_confusion_matrix(matrix, class_names: Sequence[str] | None = None, normalize: bool = False,
                          title: str = "Confusion matrix", ax=None):
    """Heat map of a square confusion matrix (rows: true class, columns: predicted class).

    ``normalize=True`` divides each row by its total, so the diagonal shows per-class recall.

    Taught in: notebooks/04_cifar10_cnn.ipynb
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise ValueError(f"matrix must be square with at least 2 classes, got shape {matrix.shape}")
    if (matrix < 0).any():
        raise ValueError("matrix holds counts and must not be negative")
    n = matrix.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(n)]
    if len(class_names) != n:
        raise ValueError(f"class_names has {len(class_names)} names for a {n}x{n} matrix")
    shown = matrix
    if normalize:
        totals = matrix.sum(axis=1, keepdims=True)
        shown = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    import seaborn as sns

    ax = _axes(ax, (1.0 + 0.55 * n, 0.8 + 0.5 * n))
    sns.heatmap(shown, annot=True, fmt=".2f" if normalize else ".0f", annot_kws={"fontsize": 8},
                cmap="Blues", vmin=0, vmax=1 if normalize else max(shown.max(), 1), square=True,
                linewidths=0.5, linecolor="white", xticklabels=list(class_names),
                yticklabels=list(class_names), ax=ax,
                cbar_kws={"label": "share of true class" if normalize else "count (cases)"})
    ax.tick_params(axis="x", labelrotation=45 if n > 4 else 0)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return ax


def plot_history(history, metrics: Sequence[str] = ("loss", "accuracy"), title: str = "Training history"):
    """One panel per metric with its training and validation curves against the epoch.

    ``history`` is a Keras ``History`` or its ``.history`` dict. Metrics that were not recorded
    are skipped; a ``ValueError`` says which ones exist when none of ``metrics`` does.

    Taught in: notebooks/04_cifar10_cnn.ipynb
    """
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise ValueError(f"history must be a Keras History or a dict of lists, got {type(history).__name__}")
    present = [m for m in metrics if m in logs]
    if not present:
        raise ValueError(f"none of metrics={list(metrics)} in history; recorded: {sorted(logs)}")
    fig, axes = plt.subplots(1, len(present), figsize=(4.5 * len(present), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], present, strict=False):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], marker="o", label=f"training {metric}")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], marker="s", label=f"validation {metric}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric + (" (share correct)" if "acc" in metric else ""))
        ax.set_title(metric)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(images, labels=None, class_names: Sequence[str] | None = None, predictions=None,
               n_cols: int = 8, title: str = "Sample images", max_images: int = 32):
    """Show up to ``max_images`` images in a grid, each captioned with its label (and prediction).

    Greyscale images are ``(N, H, W)`` or ``(N, H, W, 1)``, colour ``(N, H, W, 3)``; values 0-255
    (uint8) or 0-1 (float). A wrong prediction is captioned in red as ``pred / true``.

    Taught in: notebooks/04_cifar10_cnn.ipynb
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, 3) with N >= 1, got shape {images.shape}")
    check_int("n_cols", n_cols, low=1)
    n = min(len(images), max_images)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) < n:
            raise ValueError(f"{name} has {len(values)} entries for {n} images")

    def name_of(label):
        return class_names[int(label)] if class_names is not None else str(int(label))

    n_cols = min(n_cols, n)
    n_rows = int(np.ceil(n / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.3 * n_cols, 1.45 * n_rows + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(images[k], cmap="gray" if images.ndim == 3 else None)
        caption, colour = "", "black"
        if labels is not None and predictions is not None:
            caption = f"{name_of(predictions[k])} / {name_of(labels[k])}"
            colour = "black" if int(predictions[k]) == int(labels[k]) else "red"
        elif labels is not None:
            caption = name_of(labels[k])
        ax.set_title(caption, fontsize=7, color=colour)
    fig.suptitle(title + (" (caption: predicted / true)" if predictions is not None else ""), fontsize=10)
    fig.tight_layout()
    return fig


def reliability_diagram(bins, title: str = "Reliability diagram", ax=None,
                        xlabel: str = "predicted confidence (probability)",
                        ylabel: str = "observed accuracy (share correct)"):
    """Accuracy against mean confidence per bin (from :func:`course_utils.evaluation.reliability_bins`),
    with the diagonal of perfect calibration and the ECE in the legend.

    For a binary model's probability of the positive class (bins of ``P(y=1)`` against the
    observed share of positives, as ``sklearn.calibration.calibration_curve`` bins them), pass
    labels that say so.

    Taught in: notebooks/05_measuring_models.ipynb
    """
    ax = _axes(ax, (4.2, 4.0))
    filled = bins.count > 0
    centres = (bins.edges[:-1] + bins.edges[1:]) / 2
    width = bins.edges[1] - bins.edges[0]
    ax.bar(centres[filled], bins.accuracy[filled], width=width * 0.9, alpha=0.7, edgecolor="k",
           label=f"observed in bin (ECE {bins.ece():.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.plot(bins.mean_confidence[filled], bins.accuracy[filled], "o", color="C3", ms=4,
            label="mean confidence in bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return ax


def bootstrap_distribution(samples, low: float, high: float, estimate: float | None = None,
                           xlabel: str = "statistic on a resampled set", title: str = "Bootstrap distribution",
                           ax=None):
    """Histogram (with a density curve) of bootstrap replicates and the interval ``[low, high]``
    marked on it; ``estimate`` (the statistic on the original sample) is marked too when given.

    Taught in: notebooks/05_measuring_models.ipynb
    """
    import seaborn as sns

    samples = np.asarray(samples, dtype=float).ravel()
    if samples.size < 2 or not np.isfinite(samples).all():
        raise ValueError(f"samples must hold at least 2 finite replicates, got {samples.size} values")
    if not low <= high:
        raise ValueError(f"low={low} must not exceed high={high}")
    ax = _axes(ax, (5.5, 3.4))
    sns.histplot(samples, bins=30, kde=True, stat="count", ax=ax, label="bootstrap replicates")
    ax.axvspan(low, high, color="C3", alpha=0.12, label=f"95% interval {low:.4g} to {high:.4g}")
    if estimate is not None:
        ax.axvline(estimate, color="k", linestyle="--", label=f"on the test set: {estimate:.4g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("resamples (count)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def group_rates(table, rates: Sequence[str] = ("selection_rate", "tpr", "fpr"),
                title: str = "Rates by group", ax=None):
    """Grouped bars of per-group rates (a frame indexed by group with one column per rate, such as
    :func:`course_utils.fairness.group_metrics` returns), one colour per group.

    Taught in: notebooks/08_trust_fairness_privacy.ipynb
    """
    import pandas as pd
    import seaborn as sns

    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a pandas DataFrame indexed by group, got {type(table).__name__}")
    missing = [r for r in rates if r not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}; it has {list(table.columns)}")
    long = (table[list(rates)].rename_axis("group").reset_index()
            .melt(id_vars="group", var_name="rate", value_name="value"))
    ax = _axes(ax, (6.0, 3.6))
    sns.barplot(data=long, x="rate", y="value", hue="group", ax=ax)
    for container in ax.containers:
        ax.bar_label(container, fmt="%.2f", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("rate (selection: P(pred = 1); TPR: P(pred = 1 | y = 1); FPR: P(pred = 1 | y = 0))")
    ax.set_ylabel("rate (fraction of group)")
    ax.set_title(title)
    ax.legend(title="group", fontsize=8)
    return ax
