"""Build a torch extension for ROCm (or CUDA) on a machine with neither: a CI check of ``setup.py``.

``python -m hipify_tool.rocm_sim DIR`` writes a simulation into ``DIR`` and prints the environment
that turns it on. Under it, the installed torch (a CPU build will do) reports itself the way a ROCm
build does (``torch.version.hip`` set, ``torch.cuda._is_compiled()`` true), ``ROCM_HOME`` points at
``DIR/rocm``, whose ``bin/hipcc`` records its command line and writes an empty object, and the host
compiler and linker (``CC``, ``CXX``, ``LDSHARED``) record theirs the same way. Everything in
``setup.py`` runs for real, translation included; only compiling and linking are recorded
(``DIR/commands.jsonl``, one JSON object a line: tool, cwd, argv, sources, output).

The simulation reaches a Python through ``DIR/python/sitecustomize.py`` (``PYTHONPATH``). pip's
build isolation replaces ``PYTHONPATH``: for isolated builds, ``DIR/wheels`` holds a wheel,
``hipify-tool-simulation``, that turns it on from a ``.pth`` file; list it in the project's build
requirements and give pip ``--find-links DIR/wheels``. See docs/setuptools.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Platform", "Simulation", "Command", "create", "main", "WHEEL_NAME"]

Platform = Literal["rocm", "cuda"]

DEFAULT_HIP_VERSION = "6.4.43482"
DEFAULT_CUDA_VERSION = "12.8"
WHEEL_NAME = "hipify-tool-simulation"
_WHEEL_VERSION = "1.0"
_MODULE = "_hipify_tool_simulation"
_WHEEL_FILE = f"{WHEEL_NAME.replace('-', '_')}-{_WHEEL_VERSION}-py3-none-any.whl"

# The import hook: once ``import torch`` has run, torch reports the simulated platform. Nothing in
# torch's own import sees it; torch.utils.cpp_extension (imported later) and setup.py code do.
_HOOK = '''\
"""Simulated {platform} for torch (written by python -m hipify_tool.rocm_sim; not for real builds)."""

import importlib.abc
import importlib.machinery
import sys

PLATFORM = {platform!r}
VERSION = {version!r}


def _simulate(torch):
    if PLATFORM == "rocm":
        torch.version.hip, torch.version.cuda = VERSION, None
    else:
        torch.version.cuda, torch.version.hip = VERSION, None
    torch.cuda._is_compiled = lambda: True
    torch.cuda.is_available = lambda: False
    torch.cuda.device_count = lambda: 0


class _Loader(importlib.abc.Loader):
    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        self.real.exec_module(module)
        module.__loader__ = module.__spec__.loader = self.real
        _simulate(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


if "torch" in sys.modules:
    _simulate(sys.modules["torch"])
elif not any(isinstance(f, _Finder) or type(f).__name__ == "_Finder" for f in sys.meta_path):
    sys.meta_path.insert(0, _Finder())
'''

# The recording compiler: one per tool, its settings written into it.
_RECORDER = '''\
#!{python} -IS
"""Simulated {tool} (python -m hipify_tool.rocm_sim): records its command line, writes empty outputs."""

import json
import os
import shutil
import subprocess
import sys

TOOL = {tool!r}
LOG = {log!r}
EMPTY_OBJECT = {empty_object!r}
EMPTY_LIBRARY = {empty_library!r}
DELEGATE = {delegate!r}
VERSION = {version!r}
COMPILE = {compile!r}
SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".c++", ".cu", ".cuh", ".hip")
TAKES_VALUE = {{"-o", "-MF", "-MT", "-MQ", "-x", "-I", "-isystem", "-include", "-Xcompiler", "--compiler-options"}}


def put(path, data):
    temp = "%s.%d.tmp" % (path, os.getpid())
    with open(temp, "wb") as f:
        f.write(data)
    os.replace(temp, path)


def main(argv):
    if "-c" not in argv and "-shared" not in argv:
        if VERSION is not None and any(a in ("--version", "-v") for a in argv):
            print(VERSION)
            return 0
        return subprocess.call([DELEGATE, *argv]) if DELEGATE else 0
    output = depfile = None
    sources = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in TAKES_VALUE and i + 1 < len(argv):
            if arg == "-o":
                output = argv[i + 1]
            elif arg == "-MF":
                depfile = argv[i + 1]
            i += 2
            continue
        if not arg.startswith("-") and arg.endswith(SOURCE_SUFFIXES):
            sources.append(os.path.abspath(arg))
        i += 1
    record = {{"tool": TOOL, "cwd": os.getcwd(), "argv": argv, "sources": sources,
              "output": None if output is None else os.path.abspath(output)}}
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\\n")
    for source in sources:
        if not os.path.isfile(source):
            print("%s: error: no such file or directory: '%s'" % (TOOL, source), file=sys.stderr)
            return 1
    if COMPILE and "-c" in argv:
        return subprocess.call([*COMPILE, *argv])
    if output is not None:
        with open(EMPTY_OBJECT if "-c" in argv else EMPTY_LIBRARY, "rb") as f:
            put(output, f.read())
        if depfile is not None:
            put(depfile, ("%s: %s\\n" % (output, " ".join(sources))).encode())
    return 0


sys.exit(main(sys.argv[1:]))
'''


@dataclass(frozen=True)
class Command:
    """One recorded compiler or linker call."""

    tool: str
    """``hipcc``, ``nvcc``, ``cc`` or ``c++``."""
    cwd: str
    argv: tuple[str, ...]
    sources: tuple[str, ...]
    """The source files it was given, absolute."""
    output: str | None


@dataclass(frozen=True)
class Simulation:
    """A simulation written by :func:`create`."""

    root: Path
    platform: Platform

    @property
    def log(self) -> Path:
        return self.root / "commands.jsonl"

    @property
    def wheel(self) -> Path:
        """The ``hipify-tool-simulation`` wheel (for isolated builds: a build requirement)."""
        return self.root / "wheels" / _WHEEL_FILE

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with the simulation turned on."""
        env = dict(os.environ if base is None else base)
        python = str(self.root / "python")
        env["PYTHONPATH"] = python + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.update(self.variables())
        return env

    def variables(self) -> dict[str, str]:
        """The variables the simulation sets besides ``PYTHONPATH``."""
        bin_dir = self.root / "bin"
        settings = json.loads((self.root / "settings.json").read_text(encoding="utf-8"))
        variables = {
            "CC": str(bin_dir / "cc"),
            "CXX": str(bin_dir / "c++"),
            "LDSHARED": f"{bin_dir / 'c++'} -shared",
            "TORCH_DONT_CHECK_COMPILER_ABI": "1",
        }
        if self.platform == "rocm":
            variables["ROCM_HOME"] = str(self.root / "rocm")
            variables["PYTORCH_ROCM_ARCH"] = ";".join(settings["archs"])
        else:
            variables["CUDA_HOME"] = str(self.root / "cuda")
            variables["TORCH_CUDA_ARCH_LIST"] = " ".join(settings["archs"])
        return variables

    def commands(self) -> list[Command]:
        """Every call recorded so far, in the order they ran."""
        if not self.log.exists():
            return []
        out: list[Command] = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out.append(Command(r["tool"], r["cwd"], tuple(r["argv"]), tuple(r["sources"]), r["output"]))
        return out

    def clear_log(self) -> None:
        self.log.unlink(missing_ok=True)


def create(
    root: str | os.PathLike[str],
    platform: Platform = "rocm",
    *,
    version: str | None = None,
    archs: Sequence[str] = (),
    compile_command: Sequence[str] = (),
) -> Simulation:
    """Write a simulation into ``root`` (created; files of an earlier one are replaced).

    ``version``: what ``torch.version.hip`` (or ``.cuda``) reports. ``archs``: ``PYTORCH_ROCM_ARCH``
    (default ``gfx90a``) or ``TORCH_CUDA_ARCH_LIST`` (default ``9.0``). ``compile_command``: a real
    compiler the simulated hipcc (or nvcc) runs each compile with, after recording it (e.g. ``clang++-19
    -x hip`` for translation units that need no torch headers); by default it writes an empty object.
    """
    base = Path(root).absolute()
    if version is None:
        version = DEFAULT_HIP_VERSION if platform == "rocm" else DEFAULT_CUDA_VERSION
    archs = tuple(archs) or (("gfx90a",) if platform == "rocm" else ("9.0",))
    host = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if host is None:
        raise OSError("rocm_sim: no host C++ compiler (c++, g++ or clang++) on PATH")
    device_home = "rocm" if platform == "rocm" else "cuda"
    for sub in ("python", "bin", "lib", "wheels", f"{device_home}/bin", f"{device_home}/include", f"{device_home}/lib"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (base / "settings.json").write_text(json.dumps({"platform": platform, "version": version, "archs": archs}))
    empty_object, empty_library = base / "lib" / "empty.o", base / "lib" / "empty.so"
    _build_empty(host, empty_object, empty_library)
    hook = _HOOK.format(platform=platform, version=version)
    (base / "python" / "sitecustomize.py").write_text(hook, encoding="utf-8")
    _write_wheel(base / "wheels", hook)
    log = str(base / "commands.jsonl")
    common = {"log": log, "empty_object": str(empty_object), "empty_library": str(empty_library)}
    for tool in ("cc", "c++"):
        _write_recorder(base / "bin" / tool, tool=tool, delegate=host, version=None, compile=[], **common)
    if platform == "rocm":
        device = base / "rocm" / "bin" / "hipcc"
        banner = f"HIP version: {version} (hipify-tool simulation)"
        _write_recorder(device, tool="hipcc", delegate=None, version=banner, compile=list(compile_command), **common)
    else:
        device = base / "cuda" / "bin" / "nvcc"
        banner = f"Cuda compilation tools, release {version}, V{version}.0 (hipify-tool simulation)"
        _write_recorder(device, tool="nvcc", delegate=None, version=banner, compile=list(compile_command), **common)
    return Simulation(base, platform)


def _write_recorder(path: Path, **settings: object) -> None:
    path.write_text(_RECORDER.format(python=sys.executable, **settings), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _build_empty(host: str, obj: Path, library: Path) -> None:
    """An empty object and shared library, made once by the real compiler: what the recorders write."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "empty.c"
        source.write_text("/* hipify-tool simulation: an empty translation unit */\n")
        for args in (["-c", "-x", "c", str(source), "-o", str(obj)], ["-shared", str(obj), "-o", str(library)]):
            proc = subprocess.run([host, *args], capture_output=True, text=True)
            if proc.returncode != 0:
                raise OSError(f"rocm_sim: {host} {' '.join(args)} failed: {proc.stderr.strip()}")


def _write_wheel(directory: Path, hook: str) -> Path:
    """A pure wheel whose ``.pth`` file turns the simulation on in any environment it is installed in."""
    dist = f"{WHEEL_NAME.replace('-', '_')}-{_WHEEL_VERSION}"
    files = {
        f"{_MODULE}.py": hook.encode(),
        f"{_MODULE}.pth": f"import {_MODULE}\n".encode(),
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {WHEEL_NAME}\nVersion: {_WHEEL_VERSION}\n"
            "Summary: Simulated ROCm/CUDA for torch builds (hipify_tool.rocm_sim); never install it for real builds\n"
        ).encode(),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hipify_tool.rocm_sim\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files.items()]
    files[f"{dist}.dist-info/RECORD"] = ("\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n").encode()
    path = directory / _WHEEL_FILE
    temp = path.with_suffix(".tmp")
    with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    os.replace(temp, path)
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m hipify_tool.rocm_sim DIR``: write a simulation, print ``export`` lines for a shell."""
    parser = argparse.ArgumentParser(
        prog="python -m hipify_tool.rocm_sim",
        description="Simulate a ROCm (or CUDA) torch for setup.py builds: compilers record, nothing compiles.",
    )
    parser.add_argument("directory", type=Path, help="where to write the simulation")
    parser.add_argument("--cuda", action="store_true", help="simulate a CUDA torch instead of ROCm")
    parser.add_argument("--simulated-version", dest="version", help="what torch.version.hip (or .cuda) reports")
    parser.add_argument("--arch", action="append", default=[], help="an offload arch (repeatable)")
    parser.add_argument("--compile-command", default="", help="a real compiler the device compiler runs")
    args = parser.parse_args(argv)
    sim = create(
        args.directory,
        "cuda" if args.cuda else "rocm",
        version=args.version,
        archs=args.arch,
        compile_command=shlex.split(args.compile_command),
    )
    python = str(sim.root / "python")
    print(f"export PYTHONPATH={shlex.quote(python)}${{PYTHONPATH:+:$PYTHONPATH}}")
    for name, value in sim.variables().items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
