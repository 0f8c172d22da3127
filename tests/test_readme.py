"""The README's Python examples run as written.

Each runs in a fresh process, in a temporary directory (they write files
there), against the installed package; the files an example says it saves
must exist afterwards.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
SAVED = re.compile(r"""(?:savefig|\.save|save_report)\(\s*["']([^"']+)["']""")


def test_the_readme_has_its_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_runs(index, tmp_path):
    example = EXAMPLES[index]
    script = tmp_path / "example.py"
    script.write_text(example)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, f"README example {index}:\n{example}\n{result.stderr[-3000:]}"
    for name in SAVED.findall(example):
        assert (tmp_path / name).exists(), f"README example {index} did not save {name}"
