"""Reference models shared by several chapters (chapter 03 explains them line by line).

Only what two or more chapters reuse lives here; a chapter's own lesson code stays in its
notebook. Keras is imported inside the functions.
"""

from __future__ import annotations


def build_mnist_cnn(num_classes: int = 10, dropout: float = 0.25, name: str = "mnist_cnn"):
    """The course's small MNIST CNN (chapter 03): two conv/pool blocks, dropout, a softmax layer.

    Input: uint8 or float images of shape (28, 28) or (28, 28, 1) with values 0-255 (the model
    rescales them). 34,826 parameters for 10 classes.

    >>> build_mnist_cnn().count_params()   # doctest: +SKIP
    34826
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout={dropout} must be in [0, 1)")
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
            layers.Flatten(),
            layers.Dropout(dropout),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name=name,
    )


def train_mnist_cnn(dataset, epochs: int = 3, batch_size: int = 64, seed: int = 0, verbose: int = 0):
    """Build, compile and train :func:`build_mnist_cnn` on ``dataset`` (a ``course_utils.data.Dataset``).

    Returns ``(model, run)`` where ``run`` is a :class:`course_utils.training.RunRecord`. Used by
    the chapters that need a trained digit model without repeating chapter 03.
    """
    import keras

    from .training import timed_fit

    keras.utils.set_random_seed(seed)
    model = build_mnist_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = dataset.x_train[..., None]
    _, run = timed_fit(model, x, dataset.y_train, data_source=dataset.source, epochs=epochs,
                       batch_size=batch_size, verbose=verbose)
    return model, run
