"""What `keras-recipes tune` prints and writes after a search."""

import os
import warnings

import pandas as pd

_PLOTTED = ("learning_rate", "l2")


def _table(results):
    with pd.option_context("display.width", 160, "display.max_rows", 500,
                           "display.float_format", "{:.4g}".format):
        return results.to_string(index=False)


def _write_plots(results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_recipes.tuning.plots import plot_scores

    paths = []
    for name in _PLOTTED:
        if name in results.columns:
            figure = plot_scores(results, name)
            path = os.path.join(out, f"score_vs_{name}.png")
            figure.savefig(path, dpi=100)
            plt.close(figure)
            paths.append(path)
    return paths


def report(tuner, data, out):
    """Prints the results, ranges, warnings and test accuracy; writes files to `out`."""
    os.makedirs(out, exist_ok=True)
    results, ranges = tuner.results_dataframe(), tuner.ranges()
    print(_table(results))
    print()
    print(_table(ranges))
    print()
    figures = tuner.summary()
    with warnings.catch_warnings():
        # The checkpoint holds the optimizer's slots too; only the weights matter here.
        warnings.simplefilter("ignore", UserWarning)
        model = tuner.get_best_models(1)[0]
    _, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    print(f"test accuracy of the best configuration: {accuracy:.4f}")
    results.to_csv(os.path.join(out, "results.csv"), index=False)
    ranges.to_csv(os.path.join(out, "ranges.csv"), index=False)
    written = ["results.csv", "ranges.csv"] + [os.path.basename(p) for p in _write_plots(results, out)]
    print(f"wrote {', '.join(written)} to {out}")
    return {**figures, "test_accuracy": float(accuracy)}
