"""Read files in worker processes, each with a time limit.

PDF, Word, web-page and e-book parsers are large third-party code that a damaged
or hostile file can send into a long loop or a crash. Each such file is read in a
worker process: one that runs past the limit is killed, one that dies is noticed,
and either way the file is reported as a problem and the ingest goes on with a
fresh worker. Reading also overlaps with embedding, which runs in the main process.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from rag.ingest.readers import ReadOptions, ReadResult
from rag.types.errors import Fix, Remedy

PageProgress = Callable[[str, int, int], None]  # (path, pages done, pages in the file)


@dataclass(frozen=True)
class ReadOutcome:
    path: str
    result: ReadResult | None  # None when the file could not be read
    problem: str = ""  # the one-line reason, when it could not
    # The hash of the bytes the reader was given: a file may change between the
    # plan's hashing and its reading, and the index records what it holds.
    content_hash: str = ""
    remedies: tuple[Remedy, ...] = ()  # what a person can do about the problem


def default_workers() -> int:
    # Leave a core to the embedder, which works while the files are read.
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def _worker(tasks, results) -> None:
    """A worker's loop: read the files it is given until it is given None. Results
    go back on the worker's own pipe, so that killing a worker can damage nothing
    another worker uses."""
    from pathlib import Path

    from rag.index.manifest import content_hash
    from rag.ingest.passages import read_bytes
    from rag.ingest.readers import read
    from rag.types.errors import DocumentError

    while True:
        task = tasks.recv()
        if task is None:
            return
        path, options = task
        try:
            data = read_bytes(Path(path), max_mb=float("inf"))  # its size was checked when it was planned
            result = read(data, path, on_page=lambda done, total: results.send(("pages", path, done, total)),
                          options=options)
            results.send(("done", path, result, "", content_hash(data)))
        except DocumentError as exc:
            results.send(("done", path, None, exc.reason, "", exc.remedies))
        except MemoryError:
            results.send(("done", path, None, "the reader ran out of memory"))
        except Exception as exc:  # a parser's own bug on a malformed file: one line, go on
            message = " ".join(str(exc).split())[:160]
            results.send(("done", path, None, f"the reader failed ({type(exc).__name__}: {message})"))


class _Slot:
    """One worker process, its two pipes, and the file it is reading."""

    def __init__(self, context) -> None:
        self._tasks, tasks = context.Pipe(duplex=False)[::-1]  # (write end here, read end there)
        self.results, results = context.Pipe(duplex=False)
        self.process = context.Process(target=_worker, args=(tasks, results), daemon=True)
        self.process.start()
        tasks.close()  # the worker's ends belong to the worker now
        results.close()
        self.path: str | None = None
        self.started = 0.0

    def give(self, path: str, options: ReadOptions) -> None:
        self.path, self.started = path, time.monotonic()
        self._tasks.send((path, options))

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self._tasks.send(None)
            except (OSError, ValueError):
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self._tasks.close()
        self.results.close()


def read_in_workers(paths: Sequence[str], workers: int, timeout_s: float,
                    on_page: PageProgress | None = None,
                    options: ReadOptions = ReadOptions()) -> Iterator[ReadOutcome]:
    """Outcomes in the order the files finish. Spawned workers (not forked), since
    the main process may hold torch's threads. A worker is stopped when its file
    has made no progress for `timeout_s`: each page it reports starts the clock
    again, so a long scan read page by page runs to its end."""
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")
    waiting = list(reversed(paths))
    slots = [_Slot(context) for _ in range(min(workers, len(paths)))]
    try:
        while waiting or any(slot.path for slot in slots):
            for slot in slots:
                if slot.path is None and waiting:
                    slot.give(waiting.pop(), options)
            busy = [slot for slot in slots if slot.path is not None]
            ready = wait([slot.results for slot in busy], timeout=0.2)
            # Overdue is judged before the messages are read: progress that came
            # after the limit had passed does not save a file.
            now = time.monotonic()
            overdue = {id(slot) for slot in busy if now - slot.started > timeout_s}
            for connection in ready:
                slot = next(s for s in busy if s.results is connection)
                try:
                    message = slot.results.recv()
                except (EOFError, OSError):
                    continue  # the worker died: noticed below
                if message[0] == "pages":
                    if id(slot) not in overdue:
                        slot.started = time.monotonic()  # progress: the time limit starts again
                    if on_page:
                        on_page(message[1], message[2], message[3])
                elif message[0] == "done":
                    slot.path = None
                    yield ReadOutcome(*message[1:])
            for index, slot in enumerate(slots):
                if slot.path is None:
                    continue
                if id(slot) in overdue or time.monotonic() - slot.started > timeout_s:
                    reason = (f"reading made no progress for {timeout_s:g} s, so it was stopped (a damaged or "
                              "hostile file?)")
                    remedies: tuple[Remedy, ...] = (Remedy(Fix.RAISE, "read_timeout_s"),)
                elif not slot.process.is_alive():
                    reason = f"the reader crashed on it (exit code {slot.process.exitcode})"
                    remedies = ()
                else:
                    continue
                path = slot.path
                slot.stop(kill=True)
                slots[index] = _Slot(context)
                yield ReadOutcome(path, None, reason, remedies=remedies)
    finally:
        for slot in slots:
            slot.stop()
