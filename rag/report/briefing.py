"""Briefings: write an answer as Markdown with footnoted sources, and read a draft
briefing back to check its citations (`rag ask --format markdown`, `rag check`).

A draft cites as the assistant does, `[2]` or the footnote `[^2]`, and lists its
sources in a "Sources" section or as footnote definitions, each naming a passage
by file and paragraph (`seeds/a.txt#6`, or `` `seeds/a.txt` `` with `¶6`), by
title and paragraph ("Starmer to press Trump…, ¶6", "Report, p. 4, ¶12": the forms
`rag ask` prints), by page ("report.pdf#p4", "Report, p. 4"), or as a whole
document ("report.pdf", its title), when the check finds the passage itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Mapping, Sequence

from rag.check.checker import CitationChecker, parse_answer
from rag.ingest.readers import SUPPORTED_SUFFIXES
from rag.report.render import SOURCE_STATE_NOTES, display_path, mode_label, problem_line
from rag.text.safe_text import inert
from rag.types.answers import Answer, Source, SourceState
from rag.types.citations import NOT_SHOWN_STRICTLY, SUPPORTED, UNCITED, WRONG_SOURCE, AnswerSentence, CitationReport, SentenceCheck
from rag.types.corpus import Passage

# --------------------------------------------------------------------------- writing


def render_markdown(answer: Answer, source_states: Mapping[int, SourceState] | None = None) -> str:
    """The answer as a briefing: its question as the heading, each sentence with
    footnote references, the check's result, and a sources section that gives
    every cited passage's title, paragraph, file and text. `source_states` marks
    the sources of a saved answer whose documents have changed or gone since
    (rag.chat.session.source_states)."""
    lines = [f"# {answer.question.strip()}", ""]
    checks = answer.citations.checks if answer.citations else ()
    if checks:
        # A briefing goes out: a sentence a reader cannot rely on (unsupported,
        # contradicted, unsure, uncited) is left out of the text and listed below.
        body = []
        for check in checks:
            if check.verdict in NOT_SHOWN_STRICTLY:
                continue
            refs = "".join(f"[^{n}]" for n in check.sentence.cited)
            body.append(check.sentence.text + refs)
        lines.append(" ".join(body) if body else "*No sentence of the answer could be confirmed (see below).*")
    else:
        lines.append(answer.text)
    lines.append("")
    if answer.citations:
        note = f"Checked: {answer.summary}. Mode: {mode_label(answer.mode, answer.model)}"
        if answer.dropped_sentences:
            note += f". {answer.dropped_sentences} unchecked sentence(s) left out (strict)"
        lines.append(f"*{note}.*")
        problems = [c for c in checks if c.verdict not in (SUPPORTED, "no claim")]
        for check in problems:
            # A passage the answer did not number has no footnote to point at.
            fix = None if check.supported_by and check.supported_by.number else ""
            left_out = " (left out)" if check.verdict in NOT_SHOWN_STRICTLY else ""
            lines.append(f"- {check.mark} “{_clip(check.sentence.text, 80)}”{left_out}: {problem_line(check, fix)}")
        lines.append("")
    if answer.alternative is not None:
        alternative = answer.alternative.citations.checks if answer.alternative.citations else ()
        lines += [f"**Warning:** {answer.warning_line}", "",
                  " ".join(c.sentence.text + "".join(f"[^{n}]" for n in c.sentence.cited) for c in alternative), ""]
        checks = answer.shown_checks
    cited = answer.shown_sources
    if cited:
        lines += ["## Sources", ""]
        for source in cited:
            p = source.passage
            lines.append(f"[^{source.number}]: **{p.title}**, {p.place} — `{display_path(p.source)}`")
            spans = [(c.evidence.start, c.evidence.end) for c in checks
                     if c.verdict == SUPPORTED and c.evidence and c.evidence.passage.id == p.id]
            lines.append(f"    > {_emphasise(p.text, spans)}")
            state = (source_states or {}).get(source.number)
            if state:
                lines.append(f"    *Note: {SOURCE_STATE_NOTES[state]}; the text above is the passage as it "
                             "was cited.*")
            lines.append("")
    # Document text and model output are made inert before they reach a file.
    return inert("\n".join(lines).rstrip()) + "\n"


def conversation_markdown(answers: Sequence[Answer], source_states: Sequence[Mapping[int, SourceState]] = ()) -> str:
    """A whole conversation as one briefing: each answer with its own sources."""
    states = list(source_states) + [{}] * (len(answers) - len(source_states))
    return "\n---\n\n".join(render_markdown(a, s) for a, s in zip(answers, states))


def _emphasise(text: str, spans) -> str:
    """The passage on one line, with the sentences the answer rests on in bold."""
    out, at = [], 0
    for start, end in sorted(set(spans)):
        if start < at:
            continue
        out += [text[at:start], "**", text[start:end].strip(), "**"]
        at = end
    out.append(text[at:])
    return " ".join("".join(out).split())


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# --------------------------------------------------------------------------- reading


_DEFINITION = re.compile(r"^\s*\[\^?(\d+)\]:\s*(.+)$")  # "[^1]: …" / "[1]: …"
_LISTED = re.compile(r"^\s*\[\^?(\d+)\]\s+(.+)$")  # "[1] …" inside a sources section
_SOURCES_HEADING = re.compile(r"^\s*(?:#{1,6}\s*)?(?:sources|references)\s*:?\s*$", re.I)
_PARAGRAPH = re.compile(r"(?:¶\s*|#|\bpara(?:graph)?\.?\s*)(\d+)\b", re.I)
_PAGE = re.compile(r"(?:#p|\bpp?\.\s*|\bpage\s+)(\d+)", re.I)  # "report.pdf#p4", "p. 4", "pp. 4–5"
_PLACE = re.compile(r",\s*(?:pp?\.\s*\d+(?:\s*[–-]\s*\d+)?|page\s+\d+|§[^,]*)", re.I)
_PATH = re.compile(r"`([^`]+)`|(\S+\.(?:" + "|".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
                   + r"))(?:#p?\d+)?\b", re.I)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Draft:
    body: str  # the prose, without headings, notes and the sources section
    sources: Mapping[int, str]  # marker number -> how the draft describes the source


def read_draft(text: str) -> Draft:
    body_lines: list[str] = []
    sources: dict[int, str] = {}
    in_sources = False
    in_fence = False
    last_was_definition = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if _SOURCES_HEADING.match(line):
            in_sources = True
            continue
        definition = _DEFINITION.match(line) or (_LISTED.match(line) if in_sources else None)
        if definition:
            sources[int(definition.group(1))] = definition.group(2).strip()
            last_was_definition = True
            continue
        if last_was_definition and (line.startswith(("    ", "\t")) or stripped.startswith(">")):
            continue  # the quoted passage under a source
        last_was_definition = False
        if in_sources and not stripped.startswith("#"):
            continue
        if stripped.startswith("#"):
            in_sources = bool(_SOURCES_HEADING.match(line))
            body_lines.append("")
            continue
        if stripped.startswith((">", "<", "*Checked:", "- ✓", "- ✗", "- ↪", "- ?")):
            body_lines.append("")  # quotations, HTML and the check's own notes are not claims
            continue
        body_lines.append(_BULLET.sub("", line).replace("**", ""))
    # Lines of one paragraph are one run of prose; a blank line or a list item ends it.
    paragraphs: list[str] = []
    current: list[str] = []
    for line in body_lines:
        if not line.strip():
            if current:
                paragraphs.append(" ".join(current))
            current = []
        else:
            current.append(line.strip())
    if current:
        paragraphs.append(" ".join(current))
    return Draft("\n".join(paragraphs), sources)


def resolve_source(description: str, lookup) -> tuple[Passage, ...]:
    """The indexed passages a source line names; empty when it names none. A
    paragraph number names one passage; a page alone ("report.pdf#p4", "Title,
    p. 4") names the page, whose passages are checked together; a file or title
    alone ("report.pdf", "`notes/a.txt`") names the whole document, and each
    sentence citing it is checked against the passages of it that bear on it."""
    paragraph = _PARAGRAPH.search(description.replace("#p", "#page"))
    page = _PAGE.search(description)
    for match in _PATH.finditer(description):
        path = (match.group(1) or match.group(2)).split("#")[0]
        if paragraph:
            found = lookup.by_file(path, int(paragraph.group(1)))
        elif page:
            found = lookup.by_page(path, int(page.group(1)))
        else:
            return lookup.document(path)
        if found:
            return (found,)
    title = _PLACE.sub("", re.split(r",?\s*¶", description)[0]).replace("**", "").strip(" “”\"'*_")
    if paragraph:
        found = lookup.by_title(title, int(paragraph.group(1)))
    elif page:
        found = lookup.by_page(title, int(page.group(1)), by_title=True)
    else:
        return lookup.document(title, by_title=True)
    return (found,) if found else ()


class DraftReview(StrEnum):
    """Whether the model re-read a draft; the front end words it."""

    REVIEWED = "reviewed"
    SKIPPED = "skipped"  # asked not to
    NO_MODEL = "no model"  # none installed
    CANNOT = "cannot"  # a server, or a model under a billion parameters


@dataclass(frozen=True)
class DraftCheck:
    report: CitationReport
    sources: Mapping[int, tuple[Passage, ...]]  # what each of the draft's numbers names; empty: not found
    descriptions: Mapping[int, str]
    whole_documents: frozenset[int] = frozenset()  # numbers that cite a whole document
    # The model's review (rag/answer/review.py, `review_draft`): whether it ran (or why
    # not), which model re-read the sentences with a number, how many.
    review: "DraftReview | None" = None
    reviewed_by: str | None = None
    reread: int = 0

    @property
    def unresolved(self) -> list[int]:
        return sorted(n for n, p in self.sources.items() if not p)

    def source_label(self, number: int) -> str | None:
        """How the report names what a number cites: a passage's label, or a
        document's title and file."""
        passages = self.sources.get(number) or ()
        if not passages:
            return None
        if number in self.whole_documents:
            return f"{passages[0].title} ({display_path(passages[0].source)}, whole document)"
        return passages[0].label


def check_draft(text: str, lookup, retriever, checker: CitationChecker, k: int = 5) -> DraftCheck:
    """Check each sentence of a draft against what it cites (a passage, a page or
    a whole document), with the passages a search for the sentence returns as
    the candidates for a fix."""
    import time

    started = time.perf_counter()
    draft = read_draft(text)
    resolved = {n: resolve_source(d, lookup) for n, d in draft.sources.items()}
    numbered = [Source(n, p, p.text) for n, passages in sorted(resolved.items()) for p in passages]
    documents = frozenset(n for n, d in draft.sources.items()
                          if resolved[n] and not _PARAGRAPH.search(d.replace("#p", "#page")) and not _PAGE.search(d))
    by_number: dict[int, list[Source]] = {}
    numbers_of_document: dict[str, set[int]] = {}
    for source in numbered:
        by_number.setdefault(source.number, []).append(source)
        numbers_of_document.setdefault(source.passage.doc_id, set()).add(source.number)
    checks: list[SentenceCheck] = []
    for sentence in parse_answer(draft.body):
        found = [h.passage for h in retriever.search(sentence.text, k)]
        # What the sentence cites, and as candidates for a better source only the
        # draft's sources that hold a passage the search found: the work per
        # sentence stays bounded however many sources the draft lists.
        wanted = set(sentence.cited).union(*(numbers_of_document.get(p.doc_id, ()) for p in found))
        given = [s for n in sorted(wanted) for s in by_number.get(n, ())]
        checks.extend(checker.check_sentences([sentence], given, found))
    checks = [_renumber(c, i) for i, c in enumerate(checks)]
    report = CitationReport(tuple(checks), round(1000 * (time.perf_counter() - started), 1))
    return DraftCheck(report, resolved, dict(draft.sources), documents)


def _renumber(check: SentenceCheck, index: int) -> SentenceCheck:
    from dataclasses import replace

    sentence: AnswerSentence = replace(check.sentence, index=index)
    return replace(check, sentence=sentence)


def suggestion(check: SentenceCheck, sources: Mapping[int, tuple[Passage, ...]]) -> str | None:
    """How to fix a wrongly cited or uncited sentence: the number when the draft
    already lists the passage (or its document), else the passage to add."""
    fix = check.supported_by
    if check.verdict not in (WRONG_SOURCE, UNCITED) or fix is None:
        return None
    for number, passages in sources.items():
        if any(p.id == fix.passage.id for p in passages):
            return f"cite [{number}]"
    return f"cite {display_path(fix.passage.source)}#{fix.passage.paragraph}"


def read_draft_file(path: Path) -> str:
    from rag.ingest.passages import read_text

    text, _ = read_text(path)
    return text
