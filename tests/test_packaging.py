import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDERS = {"recipes": "keras_recipes/recipes", "callbacks": "keras_recipes/callbacks",
           "tuning": "keras_recipes/tuning", "cli": "keras_recipes/cli"}


def test_wheel_contains_every_subpackage_and_module(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), "-q"],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("keras_recipes-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, package in FOLDERS.items():
        modules = sorted((ROOT / folder).glob("*.py"))
        assert (ROOT / folder / "__init__.py") in modules
        for module in modules:
            assert f"{package}/{module.name}" in names, module
        # A module-holding sub-folder must be listed in setup.cfg or it is lost.
        assert not [p for p in (ROOT / folder).glob("*/*.py")], "sub-folders need setup.cfg entries"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "keras-recipes = keras_recipes.cli.main:main" in text
