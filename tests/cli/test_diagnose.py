import os
import subprocess
import sys

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
    pd.DataFrame({"a": [1.0, 2.0] * 3, "b": [3.0, 4.0] * 3, "label": [0, 1] * 3}).to_csv(
        tmp_path / "d.csv", index=False)
    status = main(["diagnose", saved_model, "--data", str(tmp_path / "d.csv"), "--target", "label"])
    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "model expects inputs of shape (None, 64) but" in error and "shape (6, 2)" in error


def _write_bad_data(kind, folder):
    """A data file (and the options it needs) that `diagnose` must refuse."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 64)), rng.integers(0, 10, 20)
    path, options = folder / f"{kind}.npz", []
    if kind == "lengths":
        np.savez(path, x=x, y=y[:15])
    elif kind == "text_x":
        np.savez(path, x=np.full((20, 64), "a"), y=y)
    elif kind == "objects":
        np.savez(path, x=x.astype(object), y=y)
    elif kind == "not_a_zip":
        path.write_text("not an npz file")
    elif kind == "too_few":
        np.savez(path, x=x[:4], y=y[:4])
    elif kind == "missing":
        x[3, 5] = np.nan
        np.savez(path, x=x, y=y)
    elif kind == "class_ids":
        np.savez(path, x=x, y=np.arange(20) % 12)  # ids 10 and 11 for 10 output units
    else:
        path = folder / f"{kind}.csv"
        table = pd.DataFrame(x[:, :64], columns=[f"f{i}" for i in range(64)])
        table["label"] = np.where(y % 2, "cat", "dog") if kind == "text_labels" else y
        table.to_csv(path, index=False) if kind != "empty_csv" else path.write_text("")
        options = ["--target", "label"]
    return str(path), options


@pytest.mark.parametrize("kind, message", [
    ("lengths", "has 20 examples in x but 15 labels in y"),
    ("text_x", "x in {path} must be numbers (class labels as integers), got values of type <U1"),
    ("objects", "cannot read {path} as .npz: Object arrays cannot be loaded"),
    ("not_a_zip", "cannot read {path} as .npz:"),
    ("too_few", "{path} has 4 example(s); at least 5 are needed"),
    ("missing", "{path} has 1 missing or non-finite value(s) in x"),
    ("class_ids", "{path}: `y` does not match the model: expected class ids below 10"),
    ("text_labels", "y in {path} must be numbers (class labels as integers), got values of type object"),
    ("empty_csv", "cannot read {path} as CSV: No columns to parse from file"),
])
def test_bad_data_is_a_one_line_error(kind, message, saved_model, tmp_path, capsys):
    path, options = _write_bad_data(kind, tmp_path)
    out = tmp_path / "out"
    status = main(["diagnose", saved_model, "--data", path, "--epochs", "1", "--out", str(out)]
                  + options)
    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("keras-recipes diagnose: error: ")
    assert message.format(path=path) in error
    assert not out.exists()


@pytest.mark.parametrize("options, message", [
    (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["--out", "FILE"], "--out must be a folder, but {file} is a file"),
])
def test_bad_options_are_refused_before_training(options, message, saved_model, tmp_path, capsys):
    file = tmp_path / "a_file"
    file.write_text("x")
    np.savez(tmp_path / "d.npz", x=np.zeros((20, 64)), y=np.zeros(20, "int64"))
    options = [str(file) if option == "FILE" else option for option in options]
    assert main(["diagnose", saved_model, "--data", str(tmp_path / "d.npz")] + options) == 2
    error = capsys.readouterr().err
    assert error.strip() == "keras-recipes diagnose: error: " + message.format(file=file)


def test_a_model_with_the_recipes_layers_loads_in_a_fresh_process(tmp_path):
    # The command imports the recipes before loading, so their layers (here
    # DropConnect, registered on import) deserialize in a process that never
    # imported them.
    from keras_recipes.recipes import DropConnect

    model = keras.Sequential([keras.Input((64,)), DropConnect(8, rate=0.2),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.save(tmp_path / "m.keras")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(40, 64)), y=rng.integers(0, 10, 40))
    result = subprocess.run(
        [sys.executable, "-m", "keras_recipes.cli.main", "diagnose", str(tmp_path / "m.keras"),
         "--data", str(tmp_path / "d.npz"), "--epochs", "1", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Training doctor:" in result.stdout
