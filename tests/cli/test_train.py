from keras_recipes.cli.main import main


def test_train_prints_test_accuracy(capsys):
    assert main(["train", "--epochs", "3"]) == 0
    line = [l for l in capsys.readouterr().out.splitlines() if l.startswith("test_accuracy=")][-1]
    assert float(line.split("=")[1]) > 0.8


def test_bad_epochs_is_a_one_line_error(capsys):
    assert main(["train", "--epochs", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "keras-recipes train: error: --epochs must be >= 1. Received: --epochs=0"


def test_a_seed_out_of_range_is_a_one_line_error(capsys):
    assert main(["train", "--seed", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "keras-recipes train: error: --seed must be from 0 to 2**32 - 1. Received: --seed=-1"
