"""Translation step 1 over many files, in worker processes when the work is large enough to pay.

Workers are forked (the translator travels as its rebuild recipe, see
:class:`hipify_tool.translate.Translator`) and die with the run that forked them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence

from .translate import TranslationFailure, Translator

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


def _translate_chunk(translator: Translator, items: list[tuple[str, str]]) -> list[Result]:
    results: list[Result] = []
    for rel, text in items:
        try:
            results.append(translator.translate(text, rel))
        except TranslationFailure as failure:
            results.append(failure)
    return results


def translate_all(
    translator: Translator,
    items: Sequence[tuple[str, str]],
    jobs: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """Step 1 of each ``(rel, text)``, in order; a file that cannot be translated gives its failure.

    ``progress(done, total)`` is called as chunks finish.
    """
    jobs = min(jobs, len(items))
    if jobs > 1 and sum(len(text) for _, text in items) > PARALLEL_THRESHOLD_CHARS:
        from concurrent.futures import ProcessPoolExecutor  # deferred: costs start-up otherwise
        from multiprocessing import get_context

        chunks = [list(items[i :: jobs * 2]) for i in range(jobs * 2)]
        by_rel: dict[str, Result] = {}
        with ProcessPoolExecutor(
            jobs, mp_context=get_context("fork"), initializer=_die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            for chunk, results in zip(
                chunks, pool.map(_translate_chunk, [translator] * len(chunks), chunks), strict=True
            ):
                for (rel, _), result in zip(chunk, results, strict=True):
                    by_rel[rel] = result
                if progress is not None:
                    progress(len(by_rel), len(items))
        return [by_rel[rel] for rel, _ in items]
    if progress is None:
        return _translate_chunk(translator, list(items))
    done: list[Result] = []
    for i in range(0, len(items), 32):
        done += _translate_chunk(translator, list(items[i : i + 32]))
        progress(len(done), len(items))
    return done
