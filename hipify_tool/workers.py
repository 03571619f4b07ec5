"""Translation step 1 over many files, in worker processes when the work is large enough to pay.

Workers are forked after the run has built its translator, which they inherit, and die with the run
that forked them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .errors import EnvironmentProblem
from .translate import TranslationFailure, Translator

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["translate_all", "PARALLEL_THRESHOLD_CHARS"]

PARALLEL_THRESHOLD_CHARS = 1_000_000
"""Below this much text, forking workers costs more than it saves."""

Result = str | TranslationFailure


def _die_with_parent(parent: int) -> None:
    """Worker initializer: exit once the run that forked it is gone.

    Workers inherit the output root's lock; if the run is killed (SIGKILL, the OOM killer), idle
    workers would otherwise live on holding it, and every later run into that root would wait for them.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.1)
        os._exit(1)

    threading.Thread(target=watch, name="hipify-tool-parent-watch", daemon=True).start()


def _translate_chunk(translator: Translator, items: Sequence[tuple[str, str]]) -> list[Result]:
    results: list[Result] = []
    for rel, text in items:
        try:
            results.append(translator.translate(text, rel))
        except TranslationFailure as failure:
            results.append(failure)
    return results


def _child(translator: Translator, items: Sequence[tuple[str, str]], reader: Connection, writer: Connection) -> None:
    """A forked worker: translates its share with the translator it inherited (built once, by the run)
    and sends the results back; it dies with the run."""
    reader.close()  # only the run reads: if the run dies, sending fails instead of blocking forever
    _die_with_parent(os.getppid())
    writer.send(_translate_chunk(translator, items))
    writer.close()


def translate_all(
    translator: Translator,
    items: Sequence[tuple[str, str]],
    jobs: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """Step 1 of each ``(rel, text)``, in order; a file that cannot be translated gives its failure.

    With ``jobs`` > 1 and enough text, ``jobs - 1`` forked workers translate their shares while the run
    translates its own: the workers inherit the translator the run built (tables, compiled passes), so
    nothing is built twice and no core waits. ``progress(done, total)`` is called as shares finish.
    """
    jobs = min(jobs, len(items))
    if jobs > 1 and sum(len(text) for _, text in items) > PARALLEL_THRESHOLD_CHARS:
        return _forked(translator, items, jobs, progress)
    if progress is None:
        return _translate_chunk(translator, items)
    done: list[Result] = []
    for i in range(0, len(items), 32):
        done += _translate_chunk(translator, items[i : i + 32])
        progress(len(done), len(items))
    return done


def _forked(
    translator: Translator, items: Sequence[tuple[str, str]], jobs: int, progress: Callable[[int, int], None] | None
) -> list[Result]:
    from multiprocessing import get_context  # deferred: costs start-up otherwise

    translator.prepare()  # built before the fork, so that every worker inherits it
    context = get_context("fork")
    shares = [range(i, len(items), jobs) for i in range(jobs)]
    workers = []
    try:
        for share in shares[1:]:
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(
                target=_child, args=(translator, [items[i] for i in share], reader, writer), daemon=True
            )
            process.start()
            writer.close()
            workers.append((process, reader, share))
        results: list[Result | None] = [None] * len(items)
        for i, result in zip(shares[0], _translate_chunk(translator, [items[i] for i in shares[0]]), strict=True):
            results[i] = result
        done = len(shares[0])
        if progress is not None:
            progress(done, len(items))
        for process, reader, share in workers:
            try:
                received: list[Result] = reader.recv()
            except EOFError:
                process.join()
                raise EnvironmentProblem(f"a translation worker died (exit code {process.exitcode})") from None
            for i, result in zip(share, received, strict=True):
                results[i] = result
            done += len(share)
            if progress is not None:
                progress(done, len(items))
        return [r for r in results if r is not None]
    finally:
        for process, reader, _ in workers:
            reader.close()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
