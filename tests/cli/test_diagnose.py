import os

import keras
import numpy as np
import pandas as pd
import pytest

from keras_recipes.cli.main import main


@pytest.fixture
def saved_model(tmp_path):
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    path = tmp_path / "model.keras"
    model.save(path)
    return str(path)


def test_diagnose_prints_findings_and_writes_the_report(saved_model, digits, tmp_path, capsys):
    x, _, y, _ = digits
    np.savez(tmp_path / "data.npz", x=x[:400], y=y[:400])
    out = tmp_path / "out"
    status = main(["diagnose", saved_model, "--data", str(tmp_path / "data.npz"),
                   "--epochs", "4", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Training doctor:") and "after 4 epoch(s)" in printed
    assert f"Report written to {out / 'report.md'}" in printed
    assert {"report.md", "loss_curves.png", "gradient_norms.png"} <= set(os.listdir(out))


def test_missing_model_file(tmp_path, capsys):
    np.savez(tmp_path / "data.npz", x=np.zeros((4, 64)), y=np.zeros(4))
    status = main(["diagnose", str(tmp_path / "nope.keras"), "--data", str(tmp_path / "data.npz")])
    assert status == 2
    error = capsys.readouterr().err
    assert error.strip() == f"keras-recipes diagnose: error: model file not found: {tmp_path / 'nope.keras'}"


def test_missing_data_file(saved_model, tmp_path, capsys):
    assert main(["diagnose", saved_model, "--data", str(tmp_path / "none.csv")]) == 2
    assert "data file not found" in capsys.readouterr().err


def test_missing_target_column(saved_model, tmp_path, capsys):
    pd.DataFrame({"a": [1.0, 2.0], "label": [0, 1]}).to_csv(tmp_path / "d.csv", index=False)
    status = main(["diagnose", saved_model, "--data", str(tmp_path / "d.csv"), "--target", "class"])
    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "target column 'class' not in" in error and "one of: a, label" in error


def test_shape_mismatch(saved_model, tmp_path, capsys):
    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "label": [0, 1]}).to_csv(tmp_path / "d.csv", index=False)
    status = main(["diagnose", saved_model, "--data", str(tmp_path / "d.csv"), "--target", "label"])
    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "model expects inputs of shape (None, 64) but" in error and "shape (2, 2)" in error
