"""The course's recommended training recipes for MNIST and CIFAR-10 (chapters 03 and 04, ``course bench``).

A recipe is three readable pieces:

1. a model builder (:func:`build_mnist_model`, :func:`build_cifar10_model`): plain Keras layers,
   with the data augmentation *inside* the model (:class:`RandomShift`), so it runs on the same
   device as the training step and is switched off automatically at prediction time;
2. a frozen set of hyper-parameters (:data:`MNIST_RECIPE`, :data:`CIFAR10_RECIPE`), chosen by
   cross-validation on training data only (see ``docs/PERFORMANCE.md``);
3. per-device settings (:func:`device_settings`): precision policy and XLA, picked from measurements
   rather than assumed.

Everything uses ``keras`` and ``keras.ops`` only, so the same code trains under
``KERAS_BACKEND=tensorflow``, ``jax`` or ``torch``. Keras is imported inside functions: importing
this module stays cheap.

>>> MNIST_RECIPE.epochs > 0
True
>>> shift_grid(2)
25
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..validation import check_int


# --------------------------------------------------------------------------- hyper-parameters
@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one training recipe. ``replace(recipe, epochs=1)`` makes a variant."""

    name: str
    width: int  # channels of the first convolution; later stages widen from it
    epochs: int
    batch_size: int
    learning_rate: float  # peak learning rate of the one-cycle schedule
    warmup_fraction: float  # share of steps spent ramping the learning rate up
    weight_decay: float
    label_smoothing: float
    max_shift: int  # random translation in pixels, each direction
    flip: bool  # random horizontal flips (never for digits)
    optimizer: str  # "adamw" or "nesterov"
    ema_momentum: float | None  # weight averaging of the trained weights; None = off
    flip_tta: bool  # average predictions over the image and its mirror at test time
    ensemble: int = 1  # independently seeded models whose probabilities are averaged
    shift_tta: int = 0  # also average predictions over copies shifted this many pixels up/down/left/right

    def as_dict(self) -> dict:
        return asdict(self)


MNIST_RECIPE = Recipe(
    name="mnist-small-data",
    width=20,
    epochs=14,
    batch_size=128,
    learning_rate=4e-3,
    warmup_fraction=0.2,
    weight_decay=5e-4,
    label_smoothing=0.1,
    max_shift=2,
    flip=False,
    optimizer="adamw",
    ema_momentum=None,
    flip_tta=False,
    ensemble=1,
    shift_tta=1,
)
"""MNIST recipe, chosen by 5-fold cross-validation on the 5,000 bundled digits (docs/PERFORMANCE.md)."""

CIFAR10_RECIPE = Recipe(
    name="cifar10-airbench-style",
    width=64,
    epochs=10,
    batch_size=1024,
    learning_rate=0.2,
    warmup_fraction=0.23,
    weight_decay=5e-4,
    label_smoothing=0.2,
    max_shift=2,
    flip=True,
    optimizer="nesterov",
    ema_momentum=0.98,
    flip_tta=True,
    ensemble=1,
)
"""CIFAR-10 recipe after the published airbench speed-run ideas; accuracy on real CIFAR-10 was
not measurable here (no data): see docs/PERFORMANCE.md."""


def shift_grid(max_shift: int) -> int:
    """How many distinct translations :class:`RandomShift` can draw: ``(2 * max_shift + 1) ** 2``."""
    check_int("max_shift", max_shift, low=0)
    return (2 * max_shift + 1) ** 2


# --------------------------------------------------------------------------- device settings
@dataclass(frozen=True)
class DeviceSettings:
    """What the recipes use on this device, and why."""

    backend: str
    device: str  # "cpu", "gpu" or "tpu"
    device_name: str
    dtype_policy: str  # Keras dtype policy for the hidden layers
    jit_compile: bool | str
    reason: str
    steps_per_execution: int = 1  # training steps per call from Python into the compiled function

    def as_dict(self) -> dict:
        return asdict(self)


def device_settings() -> DeviceSettings:
    """Precision and XLA for the active Keras backend and device (imports Keras).

    Measured, not assumed (docs/PERFORMANCE.md): on the course's 2-core CPU, XLA made a small CNN
    about 6x slower and ``mixed_bfloat16`` about 4.7x slower, so the CPU gets ``float32`` without
    XLA. On a GPU, ``mixed_bfloat16`` uses the tensor cores and needs no loss scaling, and XLA
    fuses the many small ops of a small network. JAX always compiles with XLA; torch does not
    (``torch.compile`` costs more than it saves in runs this short).
    """
    import keras

    from ..env import detect_accelerator

    backend = keras.backend.backend()
    acc = detect_accelerator()
    if acc.kind == "cpu":
        return DeviceSettings(
            backend, "cpu", str(acc), "float32", backend == "jax",
            "CPU: float32 (bfloat16 measured 4.7x slower) and no XLA for TensorFlow (measured 6x slower);"
            " JAX always compiles",
        )
    return DeviceSettings(
        backend, acc.kind, str(acc), "mixed_bfloat16", backend != "torch",
        f"{acc.kind.upper()}: mixed bfloat16 for the tensor cores; XLA fuses the small ops"
        + (" (torch: eager, compilation costs more than it saves)" if backend == "torch" else ""),
    )


# --------------------------------------------------------------------------- augmentation layer
def _random_shift_layer_class():
    """Build the :class:`RandomShift` class lazily, so that this module does not import Keras."""
    import keras
    from keras import ops

    class RandomShift(keras.layers.Layer):
        """Random whole-pixel translation (and optional horizontal flip), active only in training.

        Pads each image by ``max_shift`` pixels (reflecting the border for photos, zeros for
        digits) and cuts a window at a random offset, independently per image. Pure
        ``keras.ops``: runs on the training device under every backend.
        """

        def __init__(self, max_shift: int = 2, flip: bool = False, pad_mode: str = "constant",
                     seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            self.max_shift = int(max_shift)
            self.flip = bool(flip)
            self.pad_mode = pad_mode
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, images, training=False):
            if not training or (self.max_shift == 0 and not self.flip):
                return images
            batch = ops.shape(images)[0]
            height, width, channels = images.shape[1], images.shape[2], images.shape[3]
            if self.flip:
                coin = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator)
                images = ops.where(coin < 0.5, ops.flip(images, axis=2), images)
            if self.max_shift == 0:
                return images
            s = self.max_shift
            padded = ops.pad(images, [[0, 0], [s, s], [s, s], [0, 0]], mode=self.pad_mode)
            dy = keras.random.randint((batch, 1), 0, 2 * s + 1, seed=self.seed_generator)
            dx = keras.random.randint((batch, 1), 0, 2 * s + 1, seed=self.seed_generator)
            rows = dy + ops.arange(height, dtype="int32")[None, :]  # (batch, height)
            cols = dx + ops.arange(width, dtype="int32")[None, :]  # (batch, width)
            rows = ops.broadcast_to(rows[:, :, None, None], (batch, height, width + 2 * s, channels))
            padded = ops.take_along_axis(padded, rows, axis=1)
            cols = ops.broadcast_to(cols[:, None, :, None], (batch, height, width, channels))
            return ops.take_along_axis(padded, cols, axis=2)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "max_shift": self.max_shift, "flip": self.flip,
                    "pad_mode": self.pad_mode, "seed": self.seed}

    return RandomShift


_RANDOM_SHIFT = None


def RandomShift(*args, **kwargs):  # noqa: N802 - reads like the layer class it returns
    """``RandomShift(max_shift=2, flip=False, pad_mode="constant", seed=None)``: the augmentation layer."""
    global _RANDOM_SHIFT
    if _RANDOM_SHIFT is None:
        _RANDOM_SHIFT = _random_shift_layer_class()
    return _RANDOM_SHIFT(*args, **kwargs)


# --------------------------------------------------------------------------- models
def _conv_bn(x, channels: int, dtype, kernel_size: int = 3, activation: str = "relu", pool: bool = False):
    """Conv -> (max pool) -> batch norm -> activation (airbench pools before the norm, which is
    cheaper; for the MNIST net, 5-fold CV preferred norm first: docs/PERFORMANCE.md)."""
    from keras import layers

    x = layers.Conv2D(channels, kernel_size, padding="same", use_bias=False, dtype=dtype)(x)
    if pool:
        x = layers.MaxPooling2D(2, dtype=dtype)(x)
    x = layers.BatchNormalization(momentum=0.9, dtype=dtype)(x)
    return layers.Activation(activation, dtype=dtype)(x)


def build_mnist_model(width: int = MNIST_RECIPE.width, max_shift: int = MNIST_RECIPE.max_shift,
                      dropout: float = 0.0, seed: int | None = None, dtype: str | None = None):
    """A small conv net for digits: three conv/batch-norm stages, global max pooling, 10 logits.

    ``width`` channels at 28x28, ``2 * width`` at 14x14, ``4 * width`` at 7x7. Input: (28, 28)
    or (28, 28, 1) images with values 0-255 (uint8 is fine). The first layer shifts digits by up
    to ``max_shift`` pixels while training. Outputs logits (use ``from_logits=True``).

    >>> build_mnist_model(width=20).count_params()   # doctest: +SKIP
    37550
    """
    check_int("width", width, low=1)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout={dropout} must be in [0, 1)")
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28), name="digits")
    x = layers.Reshape((28, 28, 1))(inputs)
    x = layers.Rescaling(1.0 / 255, dtype=dtype)(x)
    x = RandomShift(max_shift=max_shift, seed=seed, dtype=dtype)(x)
    x = _conv_bn(x, width, dtype)  # 28x28
    x = layers.MaxPooling2D(2, dtype=dtype)(x)
    x = _conv_bn(x, 2 * width, dtype)  # 14x14
    x = layers.MaxPooling2D(2, dtype=dtype)(x)
    x = _conv_bn(x, 4 * width, dtype)  # 7x7
    x = layers.GlobalMaxPooling2D(dtype=dtype)(x)
    if dropout:
        x = layers.Dropout(dropout, seed=seed, dtype=dtype)(x)
    outputs = layers.Dense(10, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=f"mnist_w{width}")


def whitening_filters(images: np.ndarray, patch_size: int = 2, eps: float = 5e-4,
                      max_images: int = 5000) -> np.ndarray:
    """First-layer filters that decorrelate ``patch_size`` x ``patch_size`` colour patches.

    Takes the eigen-decomposition of the patch covariance of (up to ``max_images``) training
    images scaled to 0-1 and returns each eigenvector divided by the square root of its
    eigenvalue, and its negative: a Keras kernel of shape ``(patch_size, patch_size, C, 2*k)``
    with ``k = patch_size**2 * C``. The training images only: never pass test data.

    >>> whitening_filters(np.random.default_rng(0).integers(0, 255, (64, 8, 8, 3))).shape
    (2, 2, 3, 24)
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C), got {images.shape}")
    x = images[:max_images].astype(np.float64) / 255.0
    n, h, w, c = x.shape
    patches = np.stack(
        [x[:, i:h - patch_size + 1 + i, j:w - patch_size + 1 + j, :]
         for i in range(patch_size) for j in range(patch_size)], axis=3,
    )  # (n, h', w', p*p, c): order (row, col) then channel, as a Keras kernel flattens
    patches = patches.reshape(-1, patch_size * patch_size * c)
    patches = patches - patches.mean(axis=0)
    cov = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    filters = eigenvectors / np.sqrt(eigenvalues + eps)  # (k, k): column j is filter j
    filters = np.concatenate([filters, -filters], axis=1)
    return filters.reshape(patch_size, patch_size, c, -1).astype(np.float32)


def build_cifar10_model(whitening: np.ndarray, width: int = CIFAR10_RECIPE.width,
                        max_shift: int = CIFAR10_RECIPE.max_shift, flip: bool = CIFAR10_RECIPE.flip,
                        seed: int | None = None, dtype: str | None = None):
    """An airbench-style CIFAR-10 net: frozen whitening layer, three conv/pool/BN/GELU stages, no residuals.

    ``whitening`` is :func:`whitening_filters` of the training images. Widths ``width``,
    ``4 * width``, ``4 * width`` (64, 256, 256 by default, about 2 M parameters). Input: uint8
    (32, 32, 3) images; the first layer flips and shifts them while training. Outputs logits.
    """
    check_int("width", width, low=1)
    import keras
    from keras import layers

    patch = whitening.shape[0]
    inputs = keras.Input(shape=(32, 32, 3), name="images")
    x = layers.Rescaling(1.0 / 255, dtype=dtype)(inputs)
    x = RandomShift(max_shift=max_shift, flip=flip, pad_mode="reflect", seed=seed, dtype=dtype)(x)
    whiten = layers.Conv2D(whitening.shape[-1], patch, padding="valid", use_bias=False,
                           trainable=False, dtype=dtype, name="whiten")
    x = whiten(x)
    whiten.set_weights([whitening])
    x = layers.Activation("gelu", dtype=dtype)(x)
    for channels in (width, 4 * width, 4 * width):
        x = layers.Conv2D(channels, 3, padding="same", use_bias=False, dtype=dtype)(x)
        x = layers.MaxPooling2D(2, dtype=dtype)(x)
        x = layers.BatchNormalization(momentum=0.6, dtype=dtype)(x)
        x = layers.Activation("gelu", dtype=dtype)(x)
        x = _conv_bn(x, channels, dtype, activation="gelu")
    x = layers.GlobalMaxPooling2D(dtype=dtype)(x)
    x = layers.Dense(10, use_bias=False, dtype=dtype)(x)
    outputs = layers.Rescaling(1.0 / 9, dtype="float32", name="logits")(x)  # airbench's output scale
    return keras.Model(inputs, outputs, name=f"cifar10_w{width}")


# --------------------------------------------------------------------------- training
def shift_image(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images (N, H, W[, C]) moved ``dy`` pixels down and ``dx`` right, zeros filling the gap.

    >>> shift_image(np.arange(4).reshape(1, 2, 2), 0, 1).tolist()
    [[[0, 0], [0, 2]]]
    """
    out = np.zeros_like(images)
    h, w = images.shape[1], images.shape[2]
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[:, dst_y, dst_x] = images[:, src_y, src_x]
    return out


def test_time_views(images: np.ndarray, flip: bool = False, shift: int = 0) -> list:
    """The copies of ``images`` whose predictions are averaged at test time."""
    views = [images]
    if flip:
        views.append(images[:, :, ::-1])
    if shift:
        views += [shift_image(images, dy, dx) for dy, dx in ((shift, 0), (-shift, 0), (0, shift), (0, -shift))]
    return views


@dataclass
class TrainResult:
    """Trained model(s) plus what it took."""

    models: list
    recipe: Recipe
    settings: DeviceSettings
    train_seconds: float  # wall-clock seconds in model.fit (first-step compilation included)
    n_train: int
    seed: int
    cpu_seconds: float = float("nan")  # CPU time of this process in the same span (all threads)

    @property
    def model(self):
        return self.models[0]

    @property
    def images_per_second(self) -> float:
        total = self.n_train * self.recipe.epochs * len(self.models)
        return total / self.train_seconds if self.train_seconds > 0 else float("nan")

    def predict_proba(self, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Class probabilities averaged over the ensemble and the test-time views of each image.

        Views: the image itself, its mirror when ``recipe.flip_tta``, and four copies shifted by
        ``recipe.shift_tta`` pixels when that is above 0.
        """
        import keras

        views = test_time_views(np.asarray(images), self.recipe.flip_tta, self.recipe.shift_tta)
        probs = 0.0
        for model in self.models:
            for view in views:
                logits = model.predict(view, batch_size=batch_size, verbose=0)
                probs = probs + keras.ops.convert_to_numpy(keras.ops.softmax(logits.astype("float32")))
        return probs / (len(self.models) * len(views))

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        """Share of ``images`` whose predicted class equals ``labels``."""
        if len(images) != len(labels):
            raise ValueError(f"images ({len(images)}) and labels ({len(labels)}) differ in length")
        return float(np.mean(self.predict_proba(images).argmax(axis=1) == np.asarray(labels)))


def _optimizer(recipe: Recipe, total_steps: int):
    import keras

    warmup = max(1, int(recipe.warmup_fraction * total_steps))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=recipe.learning_rate / 10, decay_steps=max(1, total_steps - warmup),
        alpha=0.0, warmup_target=recipe.learning_rate, warmup_steps=warmup,
    )
    ema = {"use_ema": recipe.ema_momentum is not None, "ema_momentum": recipe.ema_momentum or 0.99}
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=recipe.weight_decay, **ema)
    if recipe.optimizer == "nesterov":
        return keras.optimizers.SGD(learning_rate=schedule, momentum=0.85, nesterov=True,
                                    weight_decay=recipe.weight_decay, **ema)
    raise ValueError(f"recipe.optimizer={recipe.optimizer!r}; use 'adamw' or 'nesterov'")


def _check_xy(x, y, image_shape):
    x, y = np.asarray(x), np.asarray(y)
    if x.shape[1:] != image_shape:
        raise ValueError(f"x must have shape (N, {', '.join(map(str, image_shape))}), got {x.shape}")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x ({len(x)}) and y ({len(y)}) must be non-empty and of equal length")
    if y.min() < 0 or y.max() > 9:
        raise ValueError(f"labels must be 0-9, got range {y.min()}..{y.max()}")
    return x, y.astype("int64")


def _fit(build, x, y, recipe: Recipe, seed: int, settings: DeviceSettings | None, verbose: int) -> TrainResult:
    import keras

    settings = settings or device_settings()
    steps_per_epoch = int(np.ceil(len(x) / recipe.batch_size))
    targets = keras.utils.to_categorical(y, 10).astype("float32")  # one-hot: label smoothing needs it
    models, seconds, cpu_seconds = [], 0.0, 0.0
    for member in range(recipe.ensemble):
        keras.utils.set_random_seed(seed + 1000 * member)
        model = build(seed + 1000 * member, None if settings.dtype_policy == "float32" else settings.dtype_policy)
        model.compile(
            optimizer=_optimizer(recipe, steps_per_epoch * recipe.epochs),
            loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=recipe.label_smoothing),
            metrics=["accuracy"], jit_compile=settings.jit_compile,
            steps_per_execution=settings.steps_per_execution,
        )
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(x, targets, batch_size=recipe.batch_size, epochs=recipe.epochs, shuffle=True, verbose=verbose)
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        models.append(model)
    return TrainResult(models, recipe, settings, seconds, len(x), seed, cpu_seconds)


def train_mnist(x_train, y_train, recipe: Recipe = MNIST_RECIPE, seed: int = 0,
                settings: DeviceSettings | None = None, verbose: int = 0) -> TrainResult:
    """Train the MNIST recipe on uint8 digits ``(N, 28, 28)`` and labels 0-9.

    ``train_seconds`` covers ``model.fit`` (including its first-step compilation), not model
    building or evaluation. Returns a :class:`TrainResult`; ``result.accuracy(x_test, y_test)``
    evaluates it.

    >>> from dataclasses import replace
    >>> ds = load_mnist(n_train=256, n_test=64, offline=True)            # doctest: +SKIP
    >>> r = train_mnist(ds.x_train, ds.y_train, replace(MNIST_RECIPE, epochs=1))  # doctest: +SKIP
    >>> 0 <= r.accuracy(ds.x_test, ds.y_test) <= 1                       # doctest: +SKIP
    True
    """
    x, y = _check_xy(x_train, y_train, (28, 28))
    check_int("recipe.epochs", recipe.epochs, low=1)

    def build(model_seed, dtype):
        return build_mnist_model(recipe.width, recipe.max_shift, seed=model_seed, dtype=dtype)

    return _fit(build, x, y, recipe, seed, settings, verbose)


def train_cifar10(x_train, y_train, recipe: Recipe = CIFAR10_RECIPE, seed: int = 0,
                  settings: DeviceSettings | None = None, verbose: int = 0) -> TrainResult:
    """Train the CIFAR-10 recipe on uint8 images ``(N, 32, 32, 3)`` and labels 0-9.

    The whitening filters are computed from ``x_train`` (inside the timed section: they are part
    of training). Returns a :class:`TrainResult`.
    """
    x, y = _check_xy(x_train, y_train, (32, 32, 3))
    check_int("recipe.epochs", recipe.epochs, low=1)
    start = time.perf_counter()
    whitening = whitening_filters(x)
    whitening_seconds = time.perf_counter() - start

    def build(model_seed, dtype):
        return build_cifar10_model(whitening, recipe.width, recipe.max_shift, recipe.flip,
                                   seed=model_seed, dtype=dtype)

    result = _fit(build, x, y, recipe, seed, settings, verbose)
    result.train_seconds += whitening_seconds
    return result


RECIPES = {"mnist": MNIST_RECIPE, "cifar10": CIFAR10_RECIPE}
#: Training-set size the recipe's epoch count was cross-validated on (MNIST: 5-fold CV of the
#: 5,000 bundled digits, so 4,000 per fold); larger sets keep the step count, see ``course bench``.
TUNED_TRAIN_SIZE = {"mnist": 4000}


def step_matched_epochs(task: str, epochs: int, n_train: int) -> int:
    """Epochs that keep the optimiser steps the recipe was tuned with, for ``n_train`` images.

    Only grows the data, never the compute: below the tuned size the epochs stay as they are.

    >>> step_matched_epochs("mnist", 14, 5000)
    11
    >>> step_matched_epochs("mnist", 14, 1000)
    14
    """
    tuned_on = TUNED_TRAIN_SIZE.get(task)
    if not tuned_on or n_train <= tuned_on:
        return epochs
    return max(1, round(epochs * tuned_on / n_train))
TRAINERS = {"mnist": train_mnist, "cifar10": train_cifar10}


def recipe_for(task: str, epochs: int | None = None) -> Recipe:
    """The recipe for ``task`` ("mnist" or "cifar10"), optionally with another epoch count."""
    if task not in RECIPES:
        raise ValueError(f"task={task!r}; choose one of {', '.join(RECIPES)}")
    recipe = RECIPES[task]
    if epochs is not None:
        recipe = replace(recipe, epochs=check_int("epochs", epochs, low=1))
    return recipe
