"""The test set of the bundled demo model, as input samples and labels for the data metrics.

Run from the repository root (no network; scikit-learn's digits data is bundled with it):

    python3 scripts/make_digits_inputs.py

Makes:
  models/digits-test-inputs.npy   float16 (450, 64): the 25% stratified test split (random_state=0);
                                  pixels are k/16, exact in float16, which halves the package's copy
                                  of sklearn's digits, 8x8 pixels row-major scaled by 1/16, the
                                  split scripts/make_digits_model.py held out from training
  models/digits-test-labels.npy   int64 (450,): their digits

and checks them against models/digits-mlp.safetensors: a float64 numpy forward pass of the file's
weights (64-32-16-10, ReLU, ReLU, linear) must classify exactly the model's recorded
test_accuracy of them (0.9778: 440 of 450).

    cntscope analyze models/digits-mlp.safetensors --layout models/digits-mlp.layout.json \\
      --inputs models/digits-test-inputs.npy --labels models/digits-test-labels.npy
"""
import json
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "digits-mlp.safetensors")
INPUTS = os.path.join(ROOT, "models", "digits-test-inputs.npy")
LABELS = os.path.join(ROOT, "models", "digits-test-labels.npy")
SEED = 0


def read_safetensors(path):
    """Tensors (F32 only) and metadata of a safetensors file, read with struct and json."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", (name, t["dtype"])
        a, b = t["data_offsets"]
        tensors[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype="<f4").reshape(t["shape"])
    return tensors, meta


def forward64(tensors, X):
    """Logits of the 64-32-16-10 ReLU MLP in float64 (weights [out, in], PyTorch's layout)."""
    a = X.astype(np.float64)
    for k in ("0", "2", "4"):
        a = a @ tensors[k + ".weight"].astype(np.float64).T + tensors[k + ".bias"].astype(np.float64)
        if k != "4":
            a = np.maximum(a, 0)
    return a


def main():
    from sklearn.datasets import load_digits           # only here: read_safetensors and forward64 are
    from sklearn.model_selection import train_test_split  # imported by the test fixtures' script too

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    _, Xte, _, yte = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
    Xte = np.ascontiguousarray(Xte, dtype="<f4")
    yte = np.ascontiguousarray(yte, dtype="<i8")
    assert Xte.shape == (450, 64) and yte.shape == (450,)

    tensors, meta = read_safetensors(MODEL)
    correct = int((forward64(tensors, Xte).argmax(axis=1) == yte).sum())
    accuracy = correct / len(yte)
    assert "%.4f" % accuracy == meta["test_accuracy"], (accuracy, meta["test_accuracy"])

    assert np.array_equal(Xte.astype("<f2").astype("<f4"), Xte)
    np.save(INPUTS, Xte.astype("<f2"), allow_pickle=False)
    np.save(LABELS, yte, allow_pickle=False)
    back = np.load(INPUTS), np.load(LABELS)
    assert np.array_equal(back[0].astype("<f4"), Xte) and np.array_equal(back[1], yte)
    print("test split: %d samples, accuracy of %s from a float64 forward pass: %d/%d = %.4f (recorded %s)"
          % (len(yte), os.path.relpath(MODEL, ROOT), correct, len(yte), accuracy, meta["test_accuracy"]))
    for p in (INPUTS, LABELS):
        print("%s: %d bytes" % (os.path.relpath(p, ROOT), os.path.getsize(p)))


if __name__ == "__main__":
    sys.exit(main())
