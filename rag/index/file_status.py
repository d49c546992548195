"""Where each file the index knows stands (`rag status --files`, the app's /files):
indexed, skipped and why, changed on disk since, or gone. Size and modification
time decide cheaply; the bytes are hashed only when they differ, so the status of
a large library costs a stat per file."""
from __future__ import annotations

from pathlib import Path

from rag.index.manifest import Manifest, content_hash, file_stat
from rag.types.corpus import FileState, FileStatus


def _same_bytes(source: str, recorded_hash: str) -> bool:
    try:
        return content_hash(Path(source).read_bytes()) == recorded_hash
    except OSError:
        return False


def file_statuses(manifest: Manifest) -> list[FileStatus]:
    """Every file the manifest lists or skipped, sorted by path."""
    found = []
    for source in sorted(set(manifest.files) | set(manifest.skipped)):
        entry = manifest.files.get(source)
        skipped = manifest.skipped.get(source)
        now = file_stat(source)
        if skipped is not None:
            state = (FileState.GONE if now is None
                     else FileState.CHANGED if skipped.size is not None and (skipped.size, skipped.mtime_ns) != now
                     else FileState.SKIPPED)
        elif entry is None:
            continue
        elif now is None:
            state = FileState.GONE
        elif (entry.size, entry.mtime_ns) == now or _same_bytes(source, entry.hash):
            state = FileState.INDEXED
        else:
            state = FileState.CHANGED
        known = entry is not None and entry.size is not None  # recorded since per-file status
        found.append(FileStatus(
            source=source, state=state, title=entry.title if entry else "",
            passages=len(entry.passages) if entry else 0,
            pages=entry.pages if known and entry else None,
            ocr_pages=entry.ocr_pages if entry else None,
            reader=entry.reader if entry else None,
            read_at=(skipped.at if skipped else entry.read_at if entry else ""),
            size=now[0] if now else (entry.size if entry else skipped.size if skipped else None),
            reason=skipped.reason if skipped else "",
            remedies=skipped.remedies if skipped else ()))
    return found
