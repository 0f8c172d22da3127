import numpy as np
import pandas as pd
import pytest

from keras_recipes.cli import tune
from keras_recipes.cli.main import build_parser, main


def _csv(tmp_path, rows=160, **extra):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    table = pd.DataFrame(x, columns=["a", "b", "c"])
    table["label"] = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    for name, values in extra.items():
        table[name] = values
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    return path


def _fails(capsys, argv, match):
    assert main(["tune", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("keras-recipes tune: error:")
    assert match in err


def test_a_tiny_search_on_a_csv_writes_results_ranges_and_plots(tmp_path, capsys):
    path, out = _csv(tmp_path), tmp_path / "out"
    assert main(["tune", "--data", str(path), "--target", "label", "--trials", "3",
                 "--epochs", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("(round ") == 3 and "test accuracy of the best configuration" in printed
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 3 and {"learning_rate", "l2", "score"} <= set(results.columns)
    assert pd.read_csv(out / "ranges.csv")["round"].tolist() == [1, 1, 2, 2]
    for name in ("score_vs_learning_rate.png", "score_vs_l2.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    # Run again with another budget split: refused before anything runs.
    _fails(capsys, ["--data", str(path), "--target", "label", "--trials", "6", "--epochs", "2",
                    "--out", str(out)], "holds a search run with other settings")
    assert len(pd.read_csv(out / "results.csv")) == 3


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--data", "missing.csv", "--target", "y"], "no such file"),
        (["--trials", "2"], "--trials must be at least 3"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--workers", "-1"], "--workers must be 0 or more"),
        (["--seed", "-1"], "--seed must be from 0 to 2**32 - 1. Received: --seed=-1"),
    ],
)
def test_bad_options_get_one_line_and_status_2(tmp_path, capsys, argv, match):
    _fails(capsys, argv, match)


def test_bad_csv_inputs_get_one_line_and_status_2(tmp_path, capsys):
    path = _csv(tmp_path)
    _fails(capsys, ["--data", str(path)], "--data needs --target")
    _fails(capsys, ["--data", str(path), "--target", "nope"], "column 'nope' not found")
    words = _csv(tmp_path, colour=["red"] * 160)
    _fails(capsys, ["--data", str(words), "--target", "label"], "non-numeric feature column(s)")
    one_class = tmp_path / "one_class.csv"
    pd.DataFrame({"a": [0.1, 0.2, 0.3], "same": [1, 1, 1]}).to_csv(one_class, index=False)
    _fails(capsys, ["--data", str(one_class), "--target", "same"], "has 1 distinct values")
    tiny = tmp_path / "tiny.csv"
    pd.DataFrame({"a": [0.1, 0.2], "label": [0, 1]}).to_csv(tiny, index=False)
    _fails(capsys, ["--data", str(tiny), "--target", "label"], "has 2 row(s); at least 10 are needed")
    infinite = _csv(tmp_path, a=[np.inf] + [0.5] * 159)
    _fails(capsys, ["--data", str(infinite), "--target", "label"], "has infinite feature values")
    _fails(capsys, ["--target", "label"], "--target needs --data PATH.csv")


def test_budget_splits_two_thirds_coarse_at_a_fifth_of_the_epochs():
    assert tune._budget(30, 20) == {"coarse_trials": 20, "fine_trials": 10,
                                    "coarse_epochs": 4, "fine_epochs": 20, "top_k": 5, "promote": 0}
    assert tune._budget(3, 2)["coarse_trials"] == 2


def test_distributed_processes_run_the_same_command_without_workers():
    args = build_parser().parse_args(["tune", "--workers", "2", "--trials", "9", "--out", "o"])
    argv = tune._participant_argv(args)
    assert argv[1:4] == ["-m", "keras_recipes.cli.main", "tune"]
    assert "--workers" not in argv and argv[argv.index("--trials") + 1] == "9"


def test_an_out_path_that_is_a_file_gets_one_line_and_status_2(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    # Checked before the data: the missing CSV would be reported otherwise.
    _fails(capsys, ["--out", str(taken), "--data", "missing.csv", "--target", "y"],
           f"--out must be a folder, but {taken} is a file")
    _fails(capsys, ["--out", str(taken / "sub")], f"--out must be a folder, but {taken} is a file")
    assert taken.read_text() == "not a folder"
