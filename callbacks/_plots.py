"""Matplotlib figures of the monitors' tables."""

import numpy as np
from matplotlib.figure import Figure

#: At most this many layers are drawn side by side.
MAX_LAYERS_DRAWN = 12


def activation_figure(histograms, over_time=True):
    """Top row: each layer's last histogram (as in seeds 001/003). Bottom row
    (if `over_time`): its histograms over the logged steps, brighter = more
    values (fastai's "colorful dimension")."""
    layers = list(dict.fromkeys(histograms["layer"]))[:MAX_LAYERS_DRAWN]
    columns, lines = max(len(layers), 1), 2 if over_time else 1
    figure = Figure(figsize=(2.6 * columns, 2.5 * lines))
    axes = figure.subplots(lines, columns, squeeze=False)
    for column, layer in enumerate(layers):
        rows = histograms[histograms["layer"] == layer]
        edges, counts = rows["edges"].iloc[-1], rows["counts"].iloc[-1]
        top = axes[0][column]
        widths = np.diff(edges)
        if not widths.any():  # all values equal (a dead layer: all 0): one visible bar
            widths = np.full_like(widths, max(abs(float(edges[0])), 1.0) / len(widths))
        top.bar(edges[:-1], counts, width=widths, align="edge")
        top.set_title(f"{layer}\nstep {int(rows['step'].iloc[-1])}", fontsize=8)
        if not over_time:
            continue
        bottom = axes[1][column]
        image = np.log1p(np.stack(list(rows["counts"]), axis=1))
        bottom.imshow(image, aspect="auto", origin="lower", cmap="viridis")
        bottom.set_xlabel("record", fontsize=8)
        bottom.set_ylabel("bin", fontsize=8)
    figure.tight_layout()
    return figure


def _linthresh(values):
    positive = values[values > 0]
    return float(positive.min()) if len(positive) else 1e-12


def gradient_figure(table):
    """Gradient norms (log scale) and update-to-weight ratios, per layer."""
    figure = Figure(figsize=(10, 4))
    norms, ratios = figure.subplots(1, 2)
    for layer, rows in table.groupby("layer", sort=False):
        norms.plot(rows["step"], rows["grad_norm"], label=layer)
        ratios.plot(rows["step"], rows["update_ratio"], label=layer)
    columns = (("grad_norm", norms, "gradient L2 norm"),
               ("update_ratio", ratios, "||update|| / ||weight||"))
    for column, axis, title in columns:
        # Log scale shows vanishing and exploding norms alike; "symlog" keeps
        # zeros (dead layers, zero updates) on the plot.
        positive = table[column].to_numpy(dtype="float64") > 0 if len(table) else np.array([True])
        axis.set_yscale("log" if positive.all() else "symlog",
                        **({} if positive.all() else {"linthresh": _linthresh(table[column])}))
        axis.set_xlabel("step")
        axis.set_title(title)
    if len(table):
        norms.legend(fontsize=7)
    figure.tight_layout()
    return figure
