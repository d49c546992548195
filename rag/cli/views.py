"""The JSON the command line's `--json` prints and `rag mcp`'s tools return, built
in one place so the two never drift apart."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.report.briefing import DraftCheck
    from rag.types.library import LibraryStatus, ShownDocument


def status_json(status: LibraryStatus, files: bool = False) -> dict[str, Any]:
    """What `rag status --json` prints; with `files`, what `rag status --files --json` prints."""
    from rag.cli.advice import advise

    if files:
        return {"files": [dict(s.to_json(), advice=advise(s.remedies) or None) for s in status.files],
                "complete": status.records_files}
    return status.to_json()


def show_json(document: ShownDocument) -> dict[str, Any]:
    """What `rag show FILE --json` prints: the file's title, byline and every passage."""
    return {"source": document.source, "title": document.title, "byline": document.byline.to_json(), "passages": [
        {"id": p.id, "label": p.label, **p.place_json(), "text": p.text} for p in document.passages]}


def check_json(result: DraftCheck, name: str) -> dict[str, Any]:
    """What `rag check FILE --json` prints: each sentence's verdict and a suggestion."""
    from rag.report.briefing import suggestion

    report = result.report
    return {
        "file": name,
        "summary": report.summary(),
        "review": result.review, "reviewed_by": result.reviewed_by, "reread": result.reread,
        "sources": {str(n): result.source_label(n) for n in sorted(result.sources)},
        "unresolved_sources": result.unresolved,
        "sentences": [{**c.to_json(), "suggestion": suggestion(c, result.sources)} for c in report.checks],
    }
