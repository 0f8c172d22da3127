"""The README's Python examples run as written.

Each runs as a script (`__main__`) in a temporary working directory (they
write files there), against the installed package, in the test process: a
fresh process would add a TensorFlow import (about 10 s on a slow CPU) to
each. The autouse fixture gives each a clean Keras session and seed; the
files an example says it saves must exist afterwards.
"""

import re
import runpy
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
SAVED = re.compile(r"""(?:savefig|\.save|save_report)\(\s*["']([^"']+)["']""")


def test_the_readme_has_its_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    example = EXAMPLES[index]
    script = tmp_path / "example.py"
    script.write_text(example)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(script)])
    try:
        runpy.run_path(str(script), run_name="__main__")
    except BaseException as error:
        raise AssertionError(f"README example {index} failed:\n{example}") from error
    finally:
        plt.close("all")
    for name in SAVED.findall(example):
        assert (tmp_path / name).exists(), f"README example {index} did not save {name}"
