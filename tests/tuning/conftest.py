import importlib.util
import os
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).with_name("search_script.py")


@pytest.fixture(scope="session")
def search_here():
    """Runs `search_script.py`'s search in this process (no TensorFlow import
    of its own, about 10 s on a slow CPU): a plain search, with no chief."""
    spec = importlib.util.spec_from_file_location("search_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(directory, *options):
        assert not any(k.startswith("KERASTUNER_") for k in os.environ)
        module.main([str(directory), *map(str, options)])

    return run
