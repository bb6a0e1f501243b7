"""Train the small demo model shipped with cntscope and write its expected report.

Run from the repository root (takes a few seconds, no network):

    /usr/bin/python3 scripts/make_digits_model.py

Makes:
  models/digits-mlp.safetensors          64 -> 32 -> 16 -> 10 ReLU MLP trained on scikit-learn's
                                         bundled digits data (8x8 images, pixels scaled by 1/16)
  test/fixtures/digits-mlp.expected.json float64 reference weight-only report (bias "in",
                                         boundary "unit", 64 bins), same rules as
                                         test/fixtures/make_safetensors_fixtures.py

The tensors use PyTorch nn.Sequential(Linear, ReLU, Linear, ReLU, Linear) names and layout:
0.weight [32,64], 0.bias [32], 2.weight [16,32], 2.bias [16], 4.weight [10,16], 4.bias [10], F32.
Training uses sklearn's MLPClassifier (fixed seed); its coefs_ are [in, out] and are transposed to
PyTorch's [out, in]. The file bytes are written with numpy (no torch / safetensors writer), parsed
back with an independent reader, and the accuracy is re-measured from the parsed file with a numpy
forward pass and, when torch is importable, with torch's own nn.Sequential.load_state_dict.
"""
import importlib.util
import os
import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "digits-mlp.safetensors")
EXPECTED = os.path.join(ROOT, "test", "fixtures", "digits-mlp.expected.json")
SEED = 0

sys.dont_write_bytecode = True      # keep test/fixtures free of __pycache__
_spec = importlib.util.spec_from_file_location(
    "cnt_fixtures", os.path.join(ROOT, "test", "fixtures", "make_safetensors_fixtures.py"))
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)


def forward(tensors, X):
    a = X.astype(np.float32)
    for k in ("0", "2", "4"):
        a = a @ tensors[k + ".weight"].T + tensors[k + ".bias"]
        if k != "4":
            a = np.maximum(a, 0)
    return a.argmax(axis=1)


def main():
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
    clf = MLPClassifier(hidden_layer_sizes=(32, 16), activation="relu", solver="adam",
                        alpha=1e-4, max_iter=400, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(Xtr, ytr)
    acc_sk = clf.score(Xte, yte)

    tensors = {}
    for idx, (W, b) in zip(("0", "2", "4"), zip(clf.coefs_, clf.intercepts_)):
        tensors[idx + ".weight"] = np.ascontiguousarray(W.T, dtype=np.float32)   # [out, in]
        tensors[idx + ".bias"] = np.asarray(b, dtype=np.float32)
    acc = float((forward(tensors, Xte) == yte).mean())
    order = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    meta = {"dataset": "sklearn digits", "architecture": "64-32-16-10 relu",
            "framework": "pytorch nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)",
            "input": "8x8 pixels row-major, scaled by 1/16 to [0, 1]",
            "test_accuracy": "%.4f" % acc, "test_split": "25%% stratified, random_state=%d" % SEED,
            "trainer": "sklearn MLPClassifier adam alpha=1e-4 random_state=%d" % SEED,
            "generator": "scripts/make_digits_model.py", "format": "pt"}
    os.makedirs(os.path.dirname(MODEL), exist_ok=True)
    size = fx.write_safetensors(MODEL, [(k, "F32", tensors[k].shape, fx.tensor_bytes(tensors[k], "F32"))
                                        for k in order], meta)

    # independent read-back: bits, metadata and accuracy from the parsed file
    got, meta_back = fx.check_roundtrip(MODEL, tensors, order)
    assert meta_back == meta
    parsed = {k: v[1] for k, v in got.items()}
    acc_back = float((forward(parsed, Xte) == yte).mean())
    assert acc_back == acc
    try:
        import torch
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16),
                                  torch.nn.ReLU(), torch.nn.Linear(16, 10))
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in parsed.items()}, strict=True)
        with torch.no_grad():
            acc_t = float((net(torch.from_numpy(Xte)).argmax(1).numpy() == yte).mean())
        assert acc_t == acc, (acc_t, acc)
        print("torch nn.Sequential load_state_dict(strict=True): accuracy %.4f" % acc_t)
    except ImportError:
        pass

    rep = fx.expected_report("digits-mlp.safetensors", parsed, {"dtype": "F32"})
    assert [l["name"] for l in rep["layers"]] == ["0", "2", "4"]
    os.makedirs(os.path.dirname(EXPECTED), exist_ok=True)
    fx.dump_json(EXPECTED, rep)
    print("sklearn score %.4f, test accuracy from file %.4f (%d test images)" % (acc_sk, acc, len(yte)))
    print("%s: %d bytes" % (os.path.relpath(MODEL, ROOT), size))
    print("%s: %d bytes" % (os.path.relpath(EXPECTED, ROOT), os.path.getsize(EXPECTED)))


if __name__ == "__main__":
    sys.exit(main())
