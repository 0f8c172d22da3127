"""The training doctor's report: text, markdown and PNG plots."""

import io
import os

from matplotlib.figure import Figure


def text_report(findings, curves, stopped_on=None):
    """Readable text: one numbered block per finding, or a clean bill of health."""
    epochs = len(curves)
    lines = [f"Training doctor: {len(findings)} finding(s) after {epochs} epoch(s)."]
    if stopped_on:
        lines.append(f"Training was stopped on '{stopped_on}'.")
    if not findings:
        lines.append("No problem found: gradients, activations and loss curves look healthy.")
    for number, finding in enumerate(findings, 1):
        lines.append(f"{number}. {finding.kind}{_where_and_when(finding)}")
        numbers = ", ".join(f"{key}={_format(value)}" for key, value in finding.evidence.items())
        lines.append(f"   evidence: {numbers}")
        lines.append(f"   fix: {finding.advice}")
    return "\n".join(lines)


def save_report(doctor, directory):
    """Writes report.md and the PNG plots; returns the path of report.md.

    Everything is rendered in memory and checked before the first file is
    written, and each file goes to a temporary name renamed into place, so a bad
    `directory` leaves nothing behind and a failed write leaves no partial file.
    """
    try:
        directory = os.fspath(directory)
    except TypeError:
        raise ValueError(
            f"`directory` must be a path. Received: directory={directory!r}"
        ) from None
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ValueError(
            "`directory` names a file; the report needs a directory (it is created "
            f"if missing). Received: directory={directory!r}"
        )
    figures = {"loss_curves.png": loss_figure(doctor.curves())}
    if len(doctor.gradient_monitor.to_dataframe()):
        figures["gradient_norms.png"] = doctor.gradient_monitor.plot()
    if len(doctor.activation_stats.histograms()):
        figures["activation_histograms.png"] = doctor.activation_stats.plot()
    if hasattr(doctor.learning_rate_finder, "plot"):
        figures["learning_rate_finder.png"] = doctor.learning_rate_finder.plot()
    lines = ["# Training doctor report\n\n```\n", doctor.report(), "\n```\n\n"]
    lines += [f"![{name[:-4].replace('_', ' ')}]({name})\n\n" for name in figures]
    contents = {}
    for name, figure in figures.items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        contents[name] = buffer.getvalue()
    contents["report.md"] = "".join(lines).encode("utf-8")
    taken = [name for name in contents if os.path.isdir(os.path.join(directory, name))]
    if taken:
        raise ValueError(
            f"`directory` holds a directory named {taken[0]!r}, where the report "
            f"writes a file. Received: directory={directory!r}"
        )
    os.makedirs(directory, exist_ok=True)
    _write_all(directory, contents)
    return os.path.join(directory, "report.md")


def _write_all(directory, contents):
    """Writes every file to a temporary name, then renames them all into place."""
    temporary = {}
    try:
        for name, data in contents.items():
            path = os.path.join(directory, f".{name}.tmp-{os.getpid()}")
            temporary[name] = path
            with open(path, "wb") as handle:
                handle.write(data)
        for name, path in temporary.items():
            os.replace(path, os.path.join(directory, name))
    finally:
        for path in temporary.values():
            if os.path.exists(path):
                os.remove(path)


def loss_figure(curves):
    """Loss (and accuracy, if logged) per epoch, training and validation."""
    metrics = [name for name in ("loss", "accuracy") if name in curves]
    figure = Figure(figsize=(5 * max(len(metrics), 1), 4))
    axes = figure.subplots(1, max(len(metrics), 1), squeeze=False)[0]
    for axis, name in zip(axes, metrics):
        axis.plot(curves.index, curves[name], marker="o", label=f"training {name}")
        if f"val_{name}" in curves:
            axis.plot(curves.index, curves[f"val_{name}"], marker="o", label=f"validation {name}")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    figure.tight_layout()
    return figure


def _where_and_when(finding):
    where = f" in layer '{finding.layer}'" if finding.layer else ""
    if finding.epoch is None:
        return where
    step = "" if finding.step is None else f", step {finding.step}"
    return f"{where} (first seen at epoch {finding.epoch}{step})"


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
