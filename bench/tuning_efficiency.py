"""Coarse-to-fine search against keras-tuner's RandomSearch, BayesianOptimization and Hyperband.

Same hypermodel (`mlp_hypermodel`: one hidden layer of 64, Adam, learning rate
in [1e-6, 1e-1] and L2 in [1e-6, 1], both log-uniform), same data splits, the
same number of trials and the same epoch budget: RandomSearch and
BayesianOptimization run TRIALS trials of EPOCHS epochs (by default 20 x 4 =
80 epochs); coarse-to-fine runs 6 trials of 1 epoch (Halton points), then 14
of 5 epochs narrowed around the best 2, the first of them re-training the
coarse winner: 76 epochs, within the peers' 80 (early stopping may use
fewer); Hyperband gets `max_epochs` = the fine epochs and its used epochs
are reported (see BUDGETS). `--budget 10 4 3 1 5` is the 10-trial budget
(3 coarse trials, 7 fine: 38 epochs against 40).

For each data set and method, over the seeds, it prints the median and range
of the best validation accuracy, of the test accuracy of the chosen
configuration (its best checkpoint), and the trials (and epochs) needed to
reach RandomSearch's final median.

Usage:
    python bench/tuning_efficiency.py            # digits + breast cancer, 5 seeds
    python bench/tuning_efficiency.py --first-seed 5    # seeds 5-9
    python bench/tuning_efficiency.py --quick    # digits, 2 seeds, smaller budget
    python bench/tuning_efficiency.py --combine A/runs.csv B/runs.csv   # pool saved runs

keras-tuner's peers slow down run after run in one process (their graphs
pile up, see the README), so long studies run one method and seed set per
process with `--out`, and `--combine` pools the saved runs.csv files into
the same table over every seed. Each table is followed by how often, seed
by seed, coarse-to-fine's best validation and test accuracy beat, tie or
lose to each peer's.
"""

import argparse
import math
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from keras_recipes.tuning import CoarseToFineSearch, mlp_hypermodel  # noqa: E402
from keras_recipes.tuning import coarse_to_fine_oracle as c2f  # noqa: E402

#: (trials, epochs per peer trial, coarse trials, coarse epochs, fine epochs):
#: peers use trials * epochs epochs; ours coarse * coarse_epochs + (trials - coarse) * fine_epochs.
BUDGETS = {"full": (20, 4, 6, 1, 5), "quick": (9, 3, 3, 1, 4)}
METHODS = ("coarse_to_fine", "random", "bayesian", "hyperband")


def _load(name):
    loader = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer}[name]
    data = loader()
    x, y = data.data.astype("float32"), data.target.astype("int64")
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.2, random_state=0, stratify=y_rest)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-7
    x_train, x_val, x_test = [(a - mean) / std for a in (x_train, x_val, x_test)]
    classes = int(y.max()) + 1
    return (x_train, y_train, x_val, y_val, x_test, y_test), classes


def _tuner(method, hypermodel, seed, directory, budget):
    trials, epochs, coarse, coarse_epochs, fine_epochs = budget
    common = dict(objective="val_accuracy", seed=seed, directory=directory, project_name=method)
    if method == "coarse_to_fine":
        return CoarseToFineSearch(
            hypermodel, coarse_trials=coarse, fine_trials=trials - coarse,
            coarse_epochs=coarse_epochs, fine_epochs=fine_epochs, top_k=2, sampling="halton",
            progress=False,
            **common)
    if method == "random":
        return keras_tuner.RandomSearch(hypermodel, max_trials=trials, **common)
    if method == "bayesian":
        return keras_tuner.BayesianOptimization(hypermodel, max_trials=trials, **common)
    return keras_tuner.Hyperband(hypermodel, max_epochs=fine_epochs, factor=3, **common)


def _epochs_used(method, trial, epochs):
    values = trial.hyperparameters.values
    if method == "coarse_to_fine":
        return trial.metrics.get_last_value(c2f.EPOCHS_TRAINED_METRIC) if trial.metrics.exists(
            c2f.EPOCHS_TRAINED_METRIC) else 0
    if method == "hyperband":
        return values.get("tuner/epochs", 0) - values.get("tuner/initial_epoch", 0)
    return epochs


def _run(method, data, classes, seed, budget):
    x_train, y_train, x_val, y_val, x_test, y_test = data
    keras.utils.set_random_seed(seed)
    hypermodel = mlp_hypermodel(x_train.shape[1:], classes, hidden_units=(64,))
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        tuner = _tuner(method, hypermodel, seed + 1, directory, budget)
        tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=budget[1],
                     batch_size=64, verbose=0)
        seconds = time.perf_counter() - start
        trials = [tuner.oracle.trials[i] for i in sorted(tuner.oracle.trials, key=int)]
        scores = [t.score if t.status == "COMPLETED" and t.score is not None and abs(t.score) < 1e29
                  else -math.inf for t in trials]
        epochs = [_epochs_used(method, t, budget[1]) for t in trials]
        model = tuner.get_best_models(1)[0]
        test = float(model.evaluate(x_test, y_test, verbose=0)[1])
    return {"method": method, "seed": seed, "best_val": max(scores), "test": test,
            "trials": len(trials), "epochs": float(np.sum(epochs)), "seconds": seconds,
            "curve": np.maximum.accumulate(scores).tolist(), "epoch_curve": np.cumsum(epochs).tolist()}


#: Scores saved in runs.csv are rounded to 4 decimals; accuracies on these
#: splits differ by at least 1/450, so this tolerance never makes a false hit.
_REACH_TOLERANCE = 1e-4


def _to_reach(run, target):
    hits = [i for i, best in enumerate(run["curve"]) if best >= target - _REACH_TOLERANCE]
    if not hits:
        return math.inf, math.inf
    return hits[0] + 1, run["epoch_curve"][hits[0]]


def _spread(values):
    values = np.asarray(values, dtype=float)
    return f"{np.median(values):.4f} [{values.min():.4f}, {values.max():.4f}]"


def _table(runs):
    frame = pd.DataFrame(runs)
    target = frame.loc[frame["method"] == "random", "best_val"].median()
    rows = []
    for method, group in frame.groupby("method", sort=False):
        reach = [_to_reach(run, target) for run in group.to_dict("records")]
        rows.append({
            "method": method,
            "best val acc, median [min, max]": _spread(group["best_val"]),
            "test acc of chosen, median [min, max]": _spread(group["test"]),
            "trials to RS median": float(np.median([r[0] for r in reach])),
            "epochs to RS median": float(np.median([r[1] for r in reach])),
            "trials": float(group["trials"].median()),
            "epochs used": float(group["epochs"].median()),
            "seconds": round(float(group["seconds"].median()), 1),
        })
    return pd.DataFrame(rows), target


_RUN_COLUMNS = ("dataset", "method", "seed", "best_val", "test", "trials", "epochs", "seconds",
                "curve", "epoch_curve")


def _read_runs(paths):
    frames = []
    for path in paths:
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise ValueError(f"{path} is not a runs.csv saved with --out. Received: {error}") from None
        missing = [c for c in _RUN_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{path} is not a runs.csv saved with --out: expected the columns "
                f"{', '.join(_RUN_COLUMNS)}. Received: a file without {', '.join(missing)}")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    for column in ("curve", "epoch_curve"):
        frame[column] = [[float(v) for v in str(text).split()] for text in frame[column]]
    duplicated = frame.duplicated(["dataset", "method", "seed"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ValueError(
            "Each (dataset, method, seed) run may appear once in the combined files. "
            f"Received: a second run of {first['method']} on {first['dataset']}, seed {first['seed']}")
    return frame


def _head_to_head(frame):
    """Per peer: seeds where coarse-to-fine's best val and test accuracy are
    above, equal to, or below the peer's, as "wins-ties-losses"."""
    ours = frame[frame["method"] == "coarse_to_fine"].set_index("seed")
    rows = []
    for method, group in frame[frame["method"] != "coarse_to_fine"].groupby("method", sort=False):
        peer = group.set_index("seed")
        seeds = ours.index.intersection(peer.index)
        row = {"coarse-to-fine against": method, "seeds": len(seeds)}
        for column, label in (("best_val", "best val"), ("test", "test")):
            # Rounded as printed: equal accuracies on the same split are ties.
            delta = (ours.loc[seeds, column] - peer.loc[seeds, column]).round(6)
            row[f"{label} W-T-L"] = f"{(delta > 0).sum()}-{(delta == 0).sum()}-{(delta < 0).sum()}"
        rows.append(row)
    return pd.DataFrame(rows)


def _report(name, runs):
    """Prints one data set's table and, with coarse-to-fine among the
    methods, its seed-by-seed record against each peer."""
    frame = pd.DataFrame(runs)
    seeds = sorted(int(seed) for seed in frame["seed"].unique())
    table, target = _table(runs)
    print(f"\n{name}, seeds {seeds}: RandomSearch's final median best val acc = {target:.4f}")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
        if (frame["method"] == "coarse_to_fine").any():
            print(_head_to_head(frame).to_string(index=False))
    print(flush=True)


def combine(paths):
    frame = _read_runs(paths)
    for name, runs in frame.groupby("dataset", sort=False):
        _report(name, runs.to_dict("records"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits only, 2 seeds, smaller budget")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per method (default 5)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--datasets", nargs="+", default=None, choices=["digits", "breast_cancer"])
    parser.add_argument("--methods", nargs="+", default=None, choices=METHODS,
                        help="methods to run (default all; RandomSearch is needed for the reach columns)")
    parser.add_argument("--budget", nargs=5, type=int, default=None,
                        metavar=("TRIALS", "EPOCHS", "COARSE", "COARSE_EPOCHS", "FINE_EPOCHS"),
                        help="override the budget (see BUDGETS)")
    parser.add_argument("--out", default=None, help="folder for runs.csv (optional)")
    parser.add_argument("--combine", nargs="+", default=None, metavar="RUNS_CSV",
                        help="pool runs.csv files saved with --out and print their tables; runs nothing")
    args = parser.parse_args(argv)
    if args.combine:
        missing = [path for path in args.combine if not os.path.isfile(path)]
        if missing:
            parser.error(f"--combine takes runs.csv files saved with --out. Received: {missing[0]} (no such file)")
        try:
            combine(args.combine)
        except ValueError as error:
            parser.error(str(error))
        return
    budget = tuple(args.budget) if args.budget else BUDGETS["quick" if args.quick else "full"]
    seeds = range(args.first_seed, args.first_seed + (args.seeds or (2 if args.quick else 5)))
    names = args.datasets or (["digits"] if args.quick else ["digits", "breast_cancer"])
    print(f"budget: {budget[0]} trials; peers {budget[0]} x {budget[1]} epochs = "
          f"{budget[0] * budget[1]}; coarse-to-fine {budget[2]} x {budget[3]} + "
          f"{budget[0] - budget[2]} x {budget[4]} = {budget[2] * budget[3] + (budget[0] - budget[2]) * budget[4]}"
          f"; Hyperband max_epochs={budget[4]}, factor 3; seeds {list(seeds)}", flush=True)
    all_runs = []
    for name in names:
        data, classes = _load(name)
        runs = []
        for seed in seeds:
            for method in args.methods or METHODS:
                run = _run(method, data, classes, seed, budget)
                print(f"{name} seed {seed} {method:>14}: best val {run['best_val']:.4f}, "
                      f"test {run['test']:.4f}, {run['trials']} trials, {run['epochs']:.0f} epochs, "
                      f"{run['seconds']:.0f} s; best so far by trial: "
                      + " ".join(f"{v:.3f}" for v in run["curve"]) + "; epochs used so far by trial: "
                      + " ".join(f"{v:.0f}" for v in run["epoch_curve"]), flush=True)
                runs.append(run)
        _report(name, runs)
        all_runs += [{"dataset": name, **{k: " ".join(f"{x:.4f}" for x in v) if "curve" in k else v
                                          for k, v in r.items()}} for r in runs]
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        pd.DataFrame(all_runs).to_csv(os.path.join(args.out, "runs.csv"), index=False)


if __name__ == "__main__":
    main()
