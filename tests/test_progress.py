"""Progress: a bar only on a terminal, nothing in pipes; NO_COLOR honoured."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import subprocess_env, write_tree

from hipify_tool import progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_and_erases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "_DELAY_S", 0.0)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    stream = _Tty()
    bar = progress.progress_for(False, stream)
    assert bar is not None and bar.color
    bar(5, 10)
    bar.close()
    text = stream.getvalue()
    assert "5/10" in text and "\x1b[36m" in text and text.endswith("\r\x1b[K")
    monkeypatch.setenv("NO_COLOR", "1")
    plain = progress.progress_for(False, _Tty())
    assert plain is not None and not plain.color
    assert progress.progress_for(True, _Tty()) is None  # -q
    assert progress.progress_for(False, io.StringIO()) is None  # not a terminal


def _many_files(root: Path) -> Path:
    return write_tree(root, {f"k{i}.cu": f"void f{i}() {{ cudaMalloc(0, 0); }}\n" * 200 for i in range(300)})


def test_nothing_when_stderr_is_not_a_tty(tmp_path: Path) -> None:
    proj = _many_files(tmp_path / "p")
    proc = subprocess.run(
        [sys.executable, "-m", "hipify_tool", "run", "-p", proj, "-o", tmp_path / "o", "-j", "1"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stderr == ""


def test_bar_on_a_terminal(tmp_path: Path) -> None:
    proj = _many_files(tmp_path / "p")
    env = subprocess_env()
    env["HIPIFY_TOOL_PROGRESS_DELAY"] = "0"
    env["NO_COLOR"] = "1"
    env["TERM"] = "xterm"
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hipify_tool", "run", "-p", proj, "-o", tmp_path / "o", "-j", "1"],
            stdout=subprocess.PIPE,
            stderr=terminal,
            env=env,
            timeout=300,
        )
        os.close(terminal)
        terminal = -1
        chunks = []
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if terminal != -1:
            os.close(terminal)
        os.close(controller)
    output = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert "hipify-tool: translating [" in output and "/300" in output
    assert "\x1b[36m" not in output  # NO_COLOR
