"""Which documents a question may draw on: `--only PATTERN` and the chat's `/only`.

A pattern picks a document when it is a glob that matches the document's path (as
ingested, relative to the working folder, or its file name), or, without glob
characters, when it is a piece of the path or of the title, ignoring case. Several
patterns pick every document any of them picks. Retrieval then searches only those
documents' passages, in Chroma (a `where` filter on the document id) and in BM25
(scores outside the scope are zeroed) alike.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from typing import Mapping, Protocol

from rag.types.errors import ScopeError
from rag.types.scope import Scope

_GLOB_CHARACTERS = frozenset("*?[")
# How many titles a "matches no document" error lists.
TITLES_LISTED = 5


@dataclass(frozen=True)
class ScopedDocuments:
    """A scope resolved against one generation of the index."""

    scope: Scope
    sources: tuple[str, ...]  # the files picked, as the manifest names them
    doc_ids: frozenset[str]
    passage_ids: frozenset[str]


def matches(pattern: str, source: str, title: str) -> bool:
    """Does `pattern` pick the document at `source` titled `title`?"""
    wanted = pattern.strip().lower()
    if not wanted:
        return False
    relative = os.path.relpath(source) if os.path.isabs(source) else source
    paths = {source.lower(), relative.lower(), os.path.basename(source).lower()}
    if _GLOB_CHARACTERS & set(wanted):
        absolute = os.path.abspath(pattern.strip()).lower()
        return (any(fnmatch.fnmatchcase(p, wanted) for p in paths) or fnmatch.fnmatchcase(source.lower(), absolute)
                or fnmatch.fnmatchcase(title.lower(), wanted))
    return any(wanted in p for p in paths) or wanted in title.lower()


class IndexedFile(Protocol):
    """What scoping reads of a manifest's entry for a file."""

    doc_id: str
    title: str
    passages: tuple[str, ...]


def resolve_scope(scope: Scope, files: Mapping[str, IndexedFile]) -> ScopedDocuments | None:
    """The documents `scope` picks among `files` (a manifest's source -> entry with
    `doc_id`, `title` and `passages`); None for every document. A pattern that picks
    nothing is a `ScopeError` naming it and a few titles."""
    if scope.everything:
        return None
    picked: dict[str, IndexedFile] = {}
    for pattern in scope.patterns:
        found = {source: entry for source, entry in files.items() if matches(pattern, source, entry.title)}
        if not found:
            titles = sorted(entry.title for entry in files.values())
            raise ScopeError(pattern, tuple(titles[:TITLES_LISTED]), len(titles))
        picked.update(found)
    return ScopedDocuments(scope, tuple(sorted(picked)), frozenset(e.doc_id for e in picked.values()),
                           frozenset(pid for e in picked.values() for pid in e.passages))
