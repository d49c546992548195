"""Find indexed passages by how people refer to them: "file.txt#6", a file path
and paragraph number, a title and paragraph number ("Starmer to press Trump…, ¶4"),
a page ("report.pdf#p4", "Report, p. 4"), or a whole document ("report.pdf", its
title).

Used by `rag check` (a briefing's sources list) and `rag eval-cite` (the labelled
set's references). Reads the manifest for ids, then the store for the texts.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from rag.types.corpus import Passage


# A shorter name than this ("The", "Report") is not taken as the start of a title.
MIN_TITLE_CHARS = 8


def _comparable_title(title: str) -> str:
    return " ".join(title.split()).rstrip("…").strip().lower()


def _ordinal(passage_id: str) -> int:
    return int(passage_id.split(":")[-2])


class PassageLookup:
    def __init__(self, index):
        self.index = index
        self._files = index.manifest.files  # absolute source path -> FileEntry

    def by_file(self, file: str, paragraph: int) -> Passage | None:
        """`file` is a path (absolute, or relative to the working folder) or a file
        name that is unique in the index; `paragraph` is 1-based."""
        source = self.source_for_file(file)
        return self._paragraph(source, paragraph) if source else None

    def by_reference(self, reference: str) -> Passage | None:
        """"file.txt#6" -> paragraph 6 of file.txt."""
        file, _, number = reference.rpartition("#")
        if not file or not number.isdigit():
            return None
        return self.by_file(file, int(number))

    def by_title(self, title: str, paragraph: int) -> Passage | None:
        """A title as the assistant prints it; a shortened one ("…") matches by prefix."""
        source = self._source_for_title(title)
        return self._paragraph(source, paragraph) if source else None

    def by_page(self, name: str, page: int, by_title: bool = False) -> Passage | None:
        """A page of a file (or of the document with that title) as one passage:
        the texts of the passages on it, joined, labelled with the page."""
        source = self._source_for_title(name) if by_title else self.source_for_file(name)
        if source is None:
            return None
        stored = self.index.store.get(list(self._files[source].passages))
        on_page = sorted((p for p in stored.values()
                          if p.page is not None and p.page <= page <= (p.last_page or p.page)),
                         key=lambda p: p.ordinal)
        if not on_page:
            return None
        first = on_page[0]
        return replace(first, id=f"{first.doc_id}:p{page}", text="\n\n".join(p.text for p in on_page),
                       end=on_page[-1].end, page=page, last_page=page)

    def document(self, name: str, by_title: bool = False) -> tuple[Passage, ...]:
        """Every passage of a file (or of the document with that title), in order:
        what a citation of a whole document ("[1] report.pdf") names."""
        source = self._source_for_title(name) if by_title else self.source_for_file(name)
        if source is None:
            return ()
        stored = self.index.store.get(list(self._files[source].passages))
        return tuple(sorted(stored.values(), key=lambda p: p.ordinal))

    def _source_for_title(self, title: str) -> str | None:
        """The one document whose title this is, or starts with (or that starts it)."""
        wanted = _comparable_title(title).rstrip(".")
        if len(wanted) < MIN_TITLE_CHARS:
            return None
        matches = [src for src, entry in self._files.items()
                   if _comparable_title(entry.title).startswith(wanted)
                   or wanted.startswith(_comparable_title(entry.title))]
        return matches[0] if len(matches) == 1 else None

    def source_for_file(self, file: str) -> str | None:
        path = Path(file).expanduser()
        for absolute in (os.path.abspath(path), str(path.resolve())):
            if absolute in self._files:
                return absolute
        by_name = [src for src in self._files if Path(src).name == path.name]
        return by_name[0] if len(by_name) == 1 else None

    def _paragraph(self, source: str, paragraph: int) -> Passage | None:
        ids = [pid for pid in self._files[source].passages if _ordinal(pid) == paragraph - 1]
        if not ids:
            return None
        return self.index.store.get(ids).get(ids[0])
