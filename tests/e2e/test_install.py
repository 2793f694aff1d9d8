"""``pip install .`` makes wil a package a notebook elsewhere can use: ``import wil`` and the ``wil`` command.

The fresh virtual environment sees this interpreter's packages (numpy, pandas, setuptools, pip, ...) through a
``.pth`` file, so nothing is downloaded: what is tested is wil's own packaging (pyproject.toml), installed from a
copy of the checkout's packaged files (the build leaves ``build/`` behind, in the copy), and used from a folder
outside the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ("pyproject.toml", "README.md", "wil")  # what a build reads (pyproject.toml: readme, packages)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with wil installed from a copy of the checkout: the venv's python."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    source.mkdir()
    for name in PACKAGED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    env_dir = tmp / "venv"
    # without pip: the venv's own pip and setuptools would shadow this interpreter's (and be too old to build)
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=tmp).stdout.strip())
    # this interpreter's packages after the venv's own: the installed wil comes first
    parents = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (purelib / "parent.pth").write_text("\n".join(parents) + "\n")
    run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         str(source)], cwd=tmp)
    shutil.rmtree(source)  # the installed copy must stand on its own
    return python


def test_wil_imports_from_site_packages_outside_the_checkout(installed, tmp_path):
    code = "import wil; print(wil.__file__); print(wil.__version__); print(wil.Config().depth)"
    where, version, depth = run([str(installed), "-c", code], cwd=tmp_path).stdout.split()
    assert Path(where).is_relative_to(installed.parents[1]), where  # the venv's site-packages
    assert not Path(where).is_relative_to(ROOT), where
    assert "site-packages" in Path(where).parts
    from wil.spec.version import __version__  # the checkout's (pyproject.toml: pythonpath)

    assert version == __version__
    assert int(depth) > 0


def test_the_wil_command_runs(installed, tmp_path):
    command = installed.parent / "wil"
    assert command.exists(), "pyproject.toml's [project.scripts] installs no 'wil' command"
    out = run([str(command), "--help"], cwd=tmp_path).stdout
    assert "sweep" in out
    assert "sweep" in run([str(installed), "-m", "wil", "--help"], cwd=tmp_path).stdout
