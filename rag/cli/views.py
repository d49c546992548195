"""The JSON the command line's `--json` prints and `rag mcp`'s tools return, built
in one place so the two never drift apart."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.config import Settings

if TYPE_CHECKING:
    from rag.index.manifest import FileEntry, Index, Manifest
    from rag.types.corpus import Passage
    from rag.report.briefing import DraftCheck


def status_json(settings: Settings, manifest: Manifest, files: bool = False) -> dict[str, Any]:
    """What `rag status --json` prints; with `files`, what `rag status --files --json` prints."""
    from rag.cli.advice import advise
    from rag.index.file_status import file_statuses, state_counts

    statuses = file_statuses(manifest)
    if files:
        return {"files": [dict(s.to_json(), advice=advise(s.remedies) or None) for s in statuses],
                "complete": manifest.records_files}
    return {
        "index_dir": str(settings.index_dir),
        "store": manifest.chroma_url or str(settings.index_dir / "chroma"),
        "collection": manifest.collection,
        "embed_model": manifest.embed_model,
        "embed_precision": manifest.embed_precision,
        "dimension": manifest.dimension,
        "documents": len(manifest.files),
        "passages": manifest.passage_count,
        "generation": manifest.generation,
        "files": state_counts(statuses),
        **model_json(settings),
    }


def model_json(settings: Settings) -> dict[str, Any]:
    """The model `rag chat` and `rag ask` would use, and what llama.cpp would run it
    with on this machine (CPU features, extra buffers): what to quote in a crash report."""
    from rag.answer.generate import configured_model
    from rag.types.errors import RagError

    try:
        target = configured_model(settings)
    except RagError as exc:
        return {"model": f"none ({exc})", "llama_cpp": None}
    if target is None:
        return {"model": "none: extractive answers", "llama_cpp": None}
    if isinstance(target, str):
        return {"model": f"a model server at {target}", "llama_cpp": None}
    try:
        from rag.answer.cpu_features import planned_runtime

        runtime = planned_runtime(settings.extra_buffers).to_json()
    except ImportError as exc:  # an install problem: the model cannot run at all
        runtime = {"error": f"llama-cpp-python cannot be imported ({exc})"}
    return {"model": str(target), "llama_cpp": runtime}


def shown_file(index: Index, file: str) -> tuple[str, FileEntry, list[Passage]]:
    """(source, entry, passages in order) of one ingested file, named by path or by a
    file name unique in the index: what `rag show` prints."""
    from rag.index.lookup import PassageLookup
    from rag.types.errors import QueryError

    source = PassageLookup(index).source_for_file(file)
    if source is None:
        raise QueryError(f"{file}: not in the index (see `rag status`; ingest it with `rag ingest {file}`)")
    entry = index.manifest.files[source]
    return source, entry, sorted(index.store.get(list(entry.passages)).values(), key=lambda p: p.ordinal)


def show_json(index: Index, file: str) -> dict[str, Any]:
    """What `rag show FILE --json` prints: the file's title, byline and every passage."""
    source, entry, passages = shown_file(index, file)
    return {"source": source, "title": entry.title, "byline": entry.byline.to_json(), "passages": [
        {"id": p.id, "label": p.label, **p.place_json(), "text": p.text} for p in passages]}


def check_json(result: DraftCheck, name: str) -> dict[str, Any]:
    """What `rag check FILE --json` prints: each sentence's verdict and a suggestion."""
    from rag.report.briefing import suggestion

    report = result.report
    return {
        "file": name,
        "summary": report.summary(),
        "sources": {str(n): result.source_label(n) for n in sorted(result.sources)},
        "unresolved_sources": result.unresolved,
        "sentences": [{**c.to_json(), "suggestion": suggestion(c, result.sources)} for c in report.checks],
    }
