"""Train a small convnet on scikit-learn's 8x8 handwritten digits, eagerly.

    python docs/examples/train_digits.py [--epochs N] [--out DIR] [--seed S]

Run by `make demo` (after the eager basics). The 1,797 digits ship inside scikit-learn (no
download); 20% are held out for testing. The model is built from `ef.layers`, trained with
`ef.optimizers.Adam` on batches from `ef.data`, one ordinary Python loop with a gradient tape
per step; the progress bar is tqdm's. At the end it prints the test accuracy, saves a
checkpoint, restores it into a fresh model and checks that model's accuracy, and writes a PNG
of the loss and accuracy per epoch (matplotlib). On a machine with the CUDA backend it trains
on the GPU. See docs/guide/training.md for each piece.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from tqdm import tqdm  # noqa: E402

import eagerflow_core as ef  # noqa: E402
from eagerflow_core import data, layers, losses, metrics, optimizers  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=int(os.environ.get("EF_DIGITS_EPOCHS", 12)))
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=ROOT / "build" / "train_digits",
                   help="where the checkpoint and the PNG go (default: build/train_digits)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args()


def make_model():
    """Two 3x3 convolutions at 8x8, a pooling to 4x4, a third convolution, then a classifier."""
    return layers.Sequential([
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.BatchNormalization(momentum=0.9),  # 45 steps an epoch: a shorter memory
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPool2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.25, seed=0),
        layers.Dense(10),
    ], name="digits_convnet")


def load(seed):
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]  # (1797, 8, 8, 1), in [0, 1]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[: len(x) // 5], order[len(x) // 5:]
    return (x[train], y[train]), (x[test], y[test])


def accuracy(model, x, y, device):
    """Test accuracy in inference mode (moving statistics, no dropout)."""
    acc = metrics.SparseCategoricalAccuracy()
    for xb, yb in data.Dataset.from_tensor_slices((x, y)).batch(256):
        acc.update_state(yb.to(device), model(xb.to(device)))
    return float(acc.result())


def main():
    args = parse_args()
    device = "cuda:0" if ef.cuda.is_available() else "cpu"
    ef.random.set_seed(args.seed)  # initial weights and the shuffle order: the same every run
    (x_train, y_train), (x_test, y_test) = load(args.seed)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8, on {device}")

    train = (data.Dataset.from_tensor_slices((x_train, y_train))
             .shuffle(len(x_train), seed=args.seed)
             .batch(args.batch_size)
             .prefetch(2))
    steps = -(-len(x_train) // args.batch_size)
    model = make_model()
    opt = optimizers.Adam(learning_rate=3e-3)
    mean_loss, train_acc = metrics.Mean(), metrics.SparseCategoricalAccuracy()
    history = {"loss": [], "train": [], "test": []}
    started = time.perf_counter()
    with ef.device(device):
        for epoch in range(1, args.epochs + 1):
            mean_loss.reset_state()
            train_acc.reset_state()
            bar = tqdm(train, total=steps, desc=f"epoch {epoch:2d}/{args.epochs}", leave=False,
                       disable=args.quiet, unit="batch")
            for x, y in bar:
                x, y = x.to(device), y.to(device)
                with ef.GradientTape() as tape:
                    logits = model(x, training=True)
                    loss = ef.mean(losses.sparse_categorical_crossentropy(y, logits,
                                                                          from_logits=True))
                grads = tape.gradient(loss, model.trainable_variables)
                opt.apply_gradients(zip(grads, model.trainable_variables))
                mean_loss.update_state(loss)
                train_acc.update_state(y, logits)
                bar.set_postfix(loss=f"{float(mean_loss.result()):.4f}")
            test_acc = accuracy(model, x_test, y_test, device)
            history["loss"].append(float(mean_loss.result()))
            history["train"].append(float(train_acc.result()))
            history["test"].append(test_acc)
            tqdm.write(f"epoch {epoch:2d}/{args.epochs}  loss {history['loss'][-1]:.4f}  "
                       f"train accuracy {history['train'][-1]:6.2%}  test accuracy "
                       f"{test_acc:6.2%}")
        elapsed = time.perf_counter() - started
        print(f"trained {args.epochs} epochs in {elapsed:.1f} s "
              f"({elapsed / max(args.epochs, 1):.2f} s per epoch)")
        final = accuracy(model, x_test, y_test, device)
        print(f"test accuracy: {final:.2%}")

        # Save everything (model and optimizer), restore the model into a fresh one: it is
        # not built yet, so its values wait until its first call builds the layers.
        args.out.mkdir(parents=True, exist_ok=True)
        path = ef.train.Checkpoint(model=model, optimizer=opt).save(str(args.out / "ckpt"))
        print(f"saved checkpoint {path}.npz")
        fresh = make_model()
        status = ef.train.Checkpoint(model=fresh).restore(path)
        restored = accuracy(fresh, x_test, y_test, device)
        status.assert_existing_objects_matched()
        print(f"restored into a fresh model: test accuracy {restored:.2%} "
              f"(same as before: {restored == final})")

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = range(1, len(history["loss"]) + 1)
    ax_loss.plot(epochs, history["loss"], marker="o")
    ax_loss.set(title="training loss", xlabel="epoch", yscale="log")
    ax_acc.plot(epochs, history["train"], marker="o", label="train")
    ax_acc.plot(epochs, history["test"], marker="o", label="test")
    ax_acc.set(title="accuracy", xlabel="epoch", ylim=(min(history["train"] + [0.8]), 1.005))
    ax_acc.legend(loc="lower right")
    fig.tight_layout()
    png = args.out / "training_curves.png"
    fig.savefig(png, dpi=100)
    print(f"wrote the loss and accuracy per epoch to {png}")


if __name__ == "__main__":
    main()
