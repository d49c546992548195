"""Keep an index in step with folders as they change (`rag watch`).

Each burst of file-system events becomes one ordinary incremental ingest of the
watched paths, so a watched update is exactly what `rag ingest` of the same paths
would do: atomic (an interrupt leaves the index as the last update committed it),
by size and modification time first, and removing files gone from a folder. The
events only say *when* to look; the ingest's plan says *what* changed, so an
editor's temporary files and a save storm cost one cheap plan, and nothing is
missed when events come while an update runs (the next plan sees them).

The watcher holds the index's ingest lock for as long as it runs: a second
watcher, `rag ingest` or the chat's /ingest on the same index is refused, naming
the watcher. Folders are watched recursively; a single file is watched through
its folder, so an editor that saves by renaming a new file over it is followed.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from rag.config import Settings
from rag.index.manifest import IngestLock
from rag.ingest.pipeline import EmbedderFactory, ProgressCallback, ingest_paths
from rag.types.corpus import IngestReport
from rag.types.errors import QueryError

if TYPE_CHECKING:
    from watchfiles import Change

# Events are gathered until the folders have been quiet this long, then one update
# runs: long enough that a copied folder or a save storm is one batch, short enough
# that a saved file is searchable within a couple of seconds.
QUIET_MS = 400
# ... but a stream of events that never goes quiet (a long copy) is taken in slices this long.
LONGEST_BATCH_MS = 10_000
# How long the watcher waits before saying nothing changed: the first such word tells
# that it is in place.
READY_CHECK_MS = 500


def _quiet(stage: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class WatchUpdate:
    """One update the watcher made: what the ingest did (its `problems` only those
    not told before: a file that stays unreadable is named once), and how many
    file-system events (paths) prompted it; the first update (`initial`) is the
    ingest at start."""

    report: IngestReport
    events: int
    initial: bool = False

    @property
    def changed_anything(self) -> bool:
        report = self.report
        return bool(report.added or report.updated or report.removed or report.problems)


def _watch_roots(paths: Sequence[Path]) -> tuple[list[Path], set[Path]]:
    """(what to hand the watcher, the single files among `paths`): a file is
    watched through its folder, and only its own events count."""
    roots: list[Path] = []
    files: set[Path] = set()
    for path in paths:
        absolute = Path(os.path.abspath(path))
        if absolute.is_dir():
            root = absolute
        else:
            files.add(absolute)
            root = absolute.parent
        if root not in roots:
            roots.append(root)
    return roots, files


def event_filter(paths: Sequence[Path], index_dir: Path) -> Callable[[Change, str], bool]:
    """Which events count: under a watched folder or on a watched file, never in
    the index folder (an index kept inside a watched folder would else wake the
    watcher with every update it writes), and not in a version-control or cache
    folder or an editor's swap file (watchfiles' default filter)."""
    from watchfiles import DefaultFilter

    _, files = _watch_roots(paths)
    folders = [Path(os.path.abspath(p)) for p in paths if Path(p).is_dir()]
    default = DefaultFilter(ignore_paths=[str(Path(os.path.abspath(index_dir)))])

    def counts(change: Change, path: str) -> bool:
        if not default(change, path):
            return False
        where = Path(path)
        return where in files or any(where.is_relative_to(folder) for folder in folders)

    return counts


def follow(paths: Sequence[Path], settings: Settings, embedder_factory: EmbedderFactory,
           on_update: Callable[[WatchUpdate], None], *, progress: ProgressCallback | None = None,
           update_progress: ProgressCallback | None = None,
           stop: threading.Event | None = None, on_watching: Callable[[], None] = lambda: None) -> int:
    """Ingest `paths`, then keep following them until `stop` is set (or Ctrl-C,
    which raises KeyboardInterrupt between or during updates; the index stays as
    the last finished update left it). `on_update` is told of every update that
    changed something, the first one always; `on_watching` once the watcher runs.
    `progress` follows the first ingest, `update_progress` each later one.
    Returns how many updates were made after the first."""
    from watchfiles import watch

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise QueryError(f"{', '.join(missing)}: no such file or folder to watch")
    roots, _ = _watch_roots(paths)
    progress = progress or _quiet  # the first ingest's
    update_progress = update_progress or _quiet
    wanted = event_filter(paths, settings.index_dir)
    updates = 0
    with IngestLock(settings.index_dir, holder="rag watch"):
        first = ingest_paths(paths, settings, embedder_factory, progress, lock_held=True)
        told = {(p.path, p.reason) for p in first.problems}
        on_update(WatchUpdate(first, 0, initial=True))
        ready = False
        # watchfiles starts its watcher inside the first wait and says nothing when it
        # is in place; its first yield (empty, on a timeout, if nothing changed) is the
        # sign. Files changed between the first ingest and that moment are caught by
        # an update then, before the watcher is announced.
        for events in watch(*roots, watch_filter=wanted, debounce=LONGEST_BATCH_MS, step=QUIET_MS,
                            stop_event=stop, rust_timeout=READY_CHECK_MS, yield_on_timeout=True,
                            raise_interrupt=True):
            if ready and not events:
                continue  # a timeout: nothing changed
            report = ingest_paths(paths, settings, embedder_factory, update_progress, lock_held=True,
                                  retry_skipped=False)
            new = tuple(p for p in report.problems if (p.path, p.reason) not in told)
            told |= {(p.path, p.reason) for p in new}
            update = WatchUpdate(replace(report, problems=new), len({path for _, path in events}))
            if update.changed_anything:
                updates += 1
                on_update(update)
            if not ready:
                ready = True
                on_watching()
    return updates
