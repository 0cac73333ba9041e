"""Writing many workbooks on every CPU: the shared inputs reach each worker once.

Sending a unit's inputs with every chunk costs more than writing them (a unit's tasks carry
the whole plan's assignments), so the workers receive everything when they start and then
take chunks of job numbers. No worker outlives the command that started it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Callable, Iterator

from .errors import OutputError
from .progress import SILENT, Progress

# Jobs handed to a worker at a time: small enough to keep both CPUs busy to the end.
CHUNK = 16

_SHARED: tuple[Callable[[object, int], str], object] | None = None  # inside a worker


def nothing() -> None:
    """No work of the command's own to do while the workers write (``run_jobs``' default)."""


def run_jobs(work: Callable[[object, int], str], shared: object, count: int, progress: Progress = SILENT,
             workers: int | None = None, meanwhile: Callable[[], object] = nothing) -> None:
    """Call ``work(shared, n)`` for n in range(count) in worker processes, one per CPU.

    ``work`` is a module-level function returning the name of what it wrote;
    ``progress.step(name)`` is called as each job is done. ``meanwhile()`` is the command's own
    work, done here once the workers have their jobs (the CPU this process would spend waiting).
    """
    if not count:
        meanwhile()
        return
    workers = max(1, min(workers or os.cpu_count() or 1, count))
    size = max(1, min(CHUNK, count // (workers * 4)))
    try:
        with ProcessPoolExecutor(workers, initializer=_receive, initargs=(work, shared)) as pool, \
                cancelling(pool):
            futures = [pool.submit(_run, start, min(start + size, count)) for start in range(0, count, size)]
            meanwhile()
            for future in as_completed(futures):
                for name in future.result():
                    progress.step(name)
    except BrokenProcessPool as exc:
        raise OutputError("写文件的工作进程异常终止（可能是内存不足或被系统结束），本次的文件没有全部写完。"
                          "请重新运行。") from exc


@contextmanager
def cancelling(pool: ProcessPoolExecutor) -> Iterator[None]:
    """Jobs not yet started are dropped when the block fails (Ctrl-C, a worker's error): the
    command ends with the jobs in hand, not after all of them."""
    try:
        yield
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise


def worker_started() -> None:
    """In a worker, first: end this process as soon as the command that started it has ended,
    however it ended (killed included), so that no worker goes on writing or waits for work for
    good; and keep Python's notes about objects it could not close (after a full disk) off the
    clerk's screen: the worker's error reaches the command, which tells it. What the worker was
    started with (when forked: the command's modules, plan and registry) lives as long as it does,
    so the garbage collector never looks through it again (about 0.06 s per reader at 2,000 files)."""
    sys.unraisablehook = lambda _unraisable: None
    gc.freeze()
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_after, args=(parent,), daemon=True, name="end-with-parent").start()


def _exit_after(parent) -> None:
    parent.join()  # returns when the parent process is gone
    os._exit(1)


def _receive(work: Callable[[object, int], str], shared: object) -> None:
    global _SHARED
    worker_started()
    _SHARED = work, shared


def _run(start: int, stop: int) -> list[str]:
    work, shared = _SHARED
    return [work(shared, number) for number in range(start, stop)]
