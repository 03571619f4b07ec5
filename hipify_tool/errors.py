"""One exception hierarchy; each class carries the process exit code the CLI uses for it.

Exit codes (documented in docs/cli.md):

==== ==========================================================================
0    success
1    unexpected internal error (a bug: please report it)
2    usage error: bad option, missing or unreadable path, bad configuration
3    translation error in one or more files (nothing was written)
4    plan conflict: outputs collide, would overwrite a file hipify-tool did not
     generate, or an input lies outside the project directory (nothing written)
5    environment problem: PyTorch missing, output root locked, write failed
6    ``--strict``/``check`` found a problem (reserved for reports and checks)
==== ==========================================================================
"""

from __future__ import annotations

__all__ = [
    "HipifyToolError",
    "UsageError",
    "TranslationError",
    "PlanConflict",
    "EnvironmentProblem",
    "FileProblem",
    "CheckFailed",
]


class HipifyToolError(Exception):
    """Base class: a problem the user can act on, reported as one line."""

    exit_code = 1


class UsageError(HipifyToolError):
    """Bad arguments, paths or configuration."""

    exit_code = 2


class FileProblem:
    """One problem with one file, printed as ``path: message``."""

    __slots__ = ("message", "path")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def __repr__(self) -> str:
        return f"FileProblem({self.path!r}, {self.message!r})"


class _ManyFiles(HipifyToolError):
    """Several per-file problems collected before giving up, so one run reports them all."""

    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class TranslationError(_ManyFiles):
    """A file could not be translated (e.g. a kernel launch PyTorch's rewriter cannot parse)."""

    exit_code = 3


class PlanConflict(_ManyFiles):
    """The plan is not safe to carry out: collisions, foreign files, inputs outside the project."""

    exit_code = 4


class EnvironmentProblem(HipifyToolError):
    """Something outside the inputs is wrong: PyTorch missing, lock held, disk write failed."""

    exit_code = 5


class CheckFailed(HipifyToolError):
    """``--strict`` found CUDA names left after translation, or ``check`` found a stale committed tree."""

    exit_code = 6
