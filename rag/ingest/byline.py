"""Who wrote a document and when it was published, as its own text says: the byline
("By Jane Smith", "Author: Pippa Crerar in Washington") and the date line
("Published: Feb, 26 2025 22:30") near the top of an article.

Read at ingest from the first lines of a document and kept in the manifest with
the passage that holds each line, so that "Who wrote the article about …?" is
answered by quoting that line, cited to its passage (which the checker then
finds verbatim). A web page's metadata (author, date, site name, which pages show
as their byline) is written as lines at the top of its text by the HTML reader.
File properties (a PDF's or Word file's Author field) are not used: they name
whoever made the file as often as the writer, and are not part of its text.
"""
from __future__ import annotations

import re
from typing import Sequence

from rag.types.corpus import Byline, BylineField

# Only the top of a document carries its byline; a "By …" further down is prose.
FIRST_LINES = 15

_NAME_WORD = r"(?!(?:Published|Updated|Posted)\b)[A-Z][\w'’.-]*"
_NAME = rf"{_NAME_WORD}(?:\s+(?:(?:van|von|de|da|del|der|la|le|du|di|dos|das|bin|al|and|&)\s+){{0,2}}{_NAME_WORD}){{1,5}}"
_AUTHOR_LINES = (
    # The keyword in any case, the name capitalised: "By the end of the year" is prose.
    re.compile(rf"^(?i:by|written\s+by|words\s+by|reporting\s+by|story\s+by)\s+(?P<name>{_NAME})"),
    re.compile(rf"^(?i:authors?|byline|writer|reporter|written\s+by)\s*[:：|-]\s*(?P<name>{_NAME})"),
)
_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?")
_DATE = rf"(?:\d{{1,2}}[\s,]+{_MONTH}[\s,]+\d{{4}}|{_MONTH}[\s,]+\d{{1,2}}(?:st|nd|rd|th)?[\s,]+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{4}})"
_DATE_LINES = (
    re.compile(rf"(?:^|(?<=\s))(?:published|first\s+published|posted|updated|last\s+updated|date)\s*(?:on|at)?\s*[:：|-]?\s*"
               rf"(?:\w+day,?\s+)?(?P<date>{_DATE}(?:[\s,]+(?:at\s+)?\d{{1,2}}[:.]\d{{2}}(?:\s*[ap]\.?m\.?)?)?)",
               re.IGNORECASE),
    re.compile(rf"^(?:\w+day,?\s+)?(?P<date>{_DATE})\s*$", re.IGNORECASE),  # a line that is only a date
)
_PUBLISHER_LINE = re.compile(r"^(?i:publisher|published\s+by|source)\s*[:：]\s*(?P<name>[^|•·]{2,60}?)\s*$")
# The name ends where the byline's other parts begin: "Pippa Crerar in Washington",
# "Jane Smith, Political Editor", "John Doe | Reuters".
_NAME_STOP = re.compile(r"\s+(?:in|at|for|from|and\s+agencies)\s+.*$|\s*[,|•·–—].*$|\s+(?:Published|Updated|Posted)\b.*$")

# What may follow the name on a byline line; anything else ("By Monday Trump had
# agreed.") makes it a sentence.
_BYLINE_REST = re.compile(r"\s*(?:$|[,|•·–—]|(?:in|at|for|from|and\s+agencies)\s|(?:Published|Updated|Posted)\b)")


def _squash(text: str) -> str:
    return " ".join(text.split())


def find_byline(lines: Sequence[str], passages: Sequence[tuple[str, str]]) -> Byline:
    """The byline and date line among a document's first lines; `passages` are
    (id, text) in order, to find the one that holds each line."""
    author = published = publisher = None
    for raw in list(lines)[:FIRST_LINES]:
        line = _squash(raw)
        if not line:
            continue
        if author is None:
            for pattern in _AUTHOR_LINES:
                match = pattern.match(line)
                if match and _BYLINE_REST.match(line[match.end():]):
                    name = _NAME_STOP.sub("", match.group("name")).strip()
                    if len(name.split()) >= 2:
                        author = (name, _author_quote(line))
                    break
        if publisher is None:
            match = _PUBLISHER_LINE.match(line)
            if match:
                publisher = (match.group("name").strip(), line)
        if published is None:
            for pattern in _DATE_LINES:
                match = pattern.search(line)
                if match:
                    published = (match.group("date").strip(" ,"), line[match.start():match.end()].strip())
                    break
    return Byline(_placed(author, passages), _placed(published, passages), _placed(publisher, passages))


def metadata_lines(author: str | None, date: str | None, publisher: str | None) -> list[str]:
    """A web page's byline as lines of its text ("By Sarah E Needleman",
    "Published: 2019-11-19", "Publisher: Wall Street Journal"), for a reader whose
    extraction keeps the article body but not the byline the page shows above it
    (the page's own metadata says who wrote it). `find_byline` then reads them like
    any other document's, and they can be cited."""
    lines = []
    if author and author.strip():
        lines.append("By " + " and ".join(a.strip() for a in author.split(";") if a.strip()))
    if date and date.strip():
        lines.append("Published: " + date.strip())
    if publisher and publisher.strip():
        lines.append("Publisher: " + publisher.strip())
    return lines


def _author_quote(line: str) -> str:
    """The author's part of a line that may go on with the date ("Author: X Published: …")."""
    return re.split(r"\s+(?=(?:Published|Updated|Posted)\b)", line)[0].strip()


def _placed(found: tuple[str, str] | None, passages: Sequence[tuple[str, str]]) -> BylineField | None:
    if found is None:
        return None
    value, quote = found
    for passage_id, text in passages:
        if quote in _squash(text):
            return BylineField(value, quote, passage_id)
    return None  # the line did not make it into a passage (dropped as page furniture): nothing to cite
