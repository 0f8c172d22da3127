"""Advice that fits the optimizer's own settings (gradient clipping).

Several findings advise clipping the gradients (`clipnorm=1.0`). An
optimizer that already clips (`clipnorm`, `global_clipnorm` or `clipvalue`)
still takes steps up to the learning rate times the clip (more with
momentum), so the advice names the clip it has and a lower one, and the
gradient norms in the evidence are those before clipping.
"""

import dataclasses
import re

#: The optimizer arguments that clip the gradients.
CLIPPING_ARGUMENTS = ("global_clipnorm", "clipnorm", "clipvalue")

# The advice texts' ways of saying "clip the gradients" (see `_advice`),
# longest first: "Clip the gradients (e.g. `clipnorm=1.0` on the optimizer)",
# "and clip the gradients", "Gradient clipping (`clipnorm=1.0`)".
_CLIP_PHRASE = re.compile(
    r"(?P<clip>[Cc]lip the gradients)(?: \((?:e\.g\. )?`clipnorm=1\.0` on the optimizer\))?"
    r"|(?P<gradient>Gradient clipping) \(`clipnorm=1\.0`\)"
)


def clipping(optimizer):
    """`{argument: value}` of the clipping arguments set on `optimizer`."""
    settings = {}
    for name in CLIPPING_ARGUMENTS:
        value = getattr(optimizer, name, None)
        if value is not None:
            settings[name] = float(value)
    return settings


def with_clipping(findings, optimizer):
    """The findings with clipping advice that knows the optimizer clips.

    A finding whose advice says to clip the gradients, on an optimizer that
    already clips, says instead to clip 10x lower than it does (a lower
    learning rate stays in its advice), and gets `optimizer_clipping` in its
    evidence.
    """
    settings = clipping(optimizer)
    if not settings:
        return list(findings)
    name, value = next(iter(settings.items()))
    setting = f"`{name}={value:g}`"

    def replace(match):
        lower = f"clip lower than the optimizer's {setting} already does (e.g. `{name}={value / 10:g}`)"
        if match.group("gradient"):
            return "A lower clip than the optimizer's " + setting
        return lower[0].upper() + lower[1:] if match.group("clip")[0] == "C" else lower

    result = []
    for finding in findings:
        advice = _CLIP_PHRASE.sub(replace, finding.advice)
        if advice != finding.advice:
            evidence = {**finding.evidence, "optimizer_clipping": ", ".join(
                f"{key}={number:g}" for key, number in settings.items())}
            finding = dataclasses.replace(finding, evidence=evidence, advice=advice)
        result.append(finding)
    return result
