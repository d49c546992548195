"""Citation checking: is each sentence of an answer stated by the passage it cites?

Two layers. Parsing is pure: split an answer into sentences and read the markers
after each (`[2]`, `[1, 3]`, `[1][3]`, `[1-3]`, and the footnote form `[^2]` of a
Markdown briefing). Checking uses the embedding model: a sentence is `supported`
when the passage it cites contains every number, month, quotation and name of the
sentence (rag/facts.py), agrees with it on negation, and holds a sentence (or two
consecutive ones) close to it in meaning. Otherwise it is `unsupported`, or
`wrong source` when another of the answer's passages does state it, or `uncited`
when it makes a claim with no marker at all. Refusals and connective sentences
("In short:") make no claim and need no marker.

A sentence found verbatim in the passage it cites is supported without asking the
model: that is how extractive answers come out 100 % supported by construction.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

import numpy as np

from rag.facts import PassageFacts, missing_facts, names, negation_conflict, normalise, numbers
from rag.select import content_words
from rag.sentences import sentence_spans
from rag.types import (
    NO_CLAIM, SUPPORTED, UNCITED, UNSUPPORTED, WRONG_SOURCE, Answer, AnswerSentence, CitationReport, Evidence,
    Passage, SentenceCheck, Source,
)

MARKER = re.compile(r"\[\^?(\d+(?:\s*(?:,|-|–)\s*\^?\d+)*)\]")
_MARKER_BEFORE_PUNCT = re.compile(r"\s*\[\^?\d+(?:\s*(?:,|-|–)\s*\^?\d+)*\](?=[.,;:!?])")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"'“‘(]*[A-Z0-9]")
_NEXT_TEXT = re.compile(r"\s+\S")
_ENDS_WITH_STOP = re.compile(r"[.!?…][\"'”’)]*\s*$")

# Cosine similarity of a sentence to the closest sentence (or pair) of the passage
# it cites, below which the passage does not state it. Chosen on the odd-numbered
# half of eval/citations.jsonl, where every threshold from 0.50 to 0.66 flagged no
# supported sentence: 0.64 keeps a margin below the lowest supported paraphrase
# (0.66); the even half is the held-out check (bench/RESULTS.md).
MIN_SIMILARITY = 0.64
PAIR_MARGIN = 0.02

# Sentences that decline to answer: no claim, so no citation needed. Models word a
# refusal many ways ("The sources don't mention…", "There is no information about…",
# "I'm sorry, but I cannot find…"); each is recognised, not only our own sentence.
_REFUSAL = re.compile(
    r"\b(?:do(?:es)?\s+not|don[’']t|doesn[’']t|cannot|can[’']t)\s+(?:cover|say|mention|answer|contain|state|specify)"
    r"|\bnot\s+(?:covered|mentioned|stated|specified)\b|\bno\s+(?:information|mention)\b"
    r"|\bI\s+(?:do\s+not|don[’']t)\s+know\b"
    # The subject is the documents themselves, or the assistant: "the sources do not
    # provide…", "I'm sorry, I cannot find…". A claim about the world ("Trump did not
    # provide guarantees") is not a refusal and stays checked.
    r"|\b(?:documents?|sources?|passages?|texts?|articles?|context)\s+(?:\w+\s+){0,3}?"
    r"(?:do(?:es)?\s+not|don[’']t|doesn[’']t|did\s+not|didn[’']t|cannot|can[’']t|fail\s+to)\b"
    r"|\bI(?:\s+am|[’']m)\s+(?:sorry|unable|not\s+able)\b|\bI\s+apologi[sz]e\b"
    r"|\bI\s+(?:cannot|can[’']t|could\s+not|couldn[’']t|am\s+unable\s+to)\s+(?:find|answer|determine|tell|say)\b",
    re.I,
)


def is_refusal(sentence: str) -> bool:
    """Does the sentence decline to answer (in any of the usual wordings)?"""
    return bool(_REFUSAL.search(sentence))


# --------------------------------------------------------------------------- parsing


def marker_numbers(marker_body: str) -> list[int]:
    """The numbers of one marker's body: "1, 3" -> [1, 3]; "1-3" -> [1, 2, 3]."""
    numbers_: list[int] = []
    for part in re.split(r"\s*,\s*", marker_body.replace("^", "")):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2:
            lo, hi = int(bounds[0]), int(bounds[1])
            numbers_.extend(range(lo, hi + 1) if hi >= lo and hi - lo < 50 else [lo, hi])
        else:
            numbers_.append(int(bounds[0]))
    return numbers_


def cited_numbers(text: str) -> list[int]:
    """Every source number the text cites, in order of first appearance."""
    seen: list[int] = []
    for match in MARKER.finditer(text):
        for n in marker_numbers(match.group(1)):
            if n not in seen:
                seen.append(n)
    return seen


def parse_answer(text: str) -> list[AnswerSentence]:
    """The sentences of an answer with the source numbers each cites.

    Markers are blanked out before splitting, so "Europe. [1] Amid…" and
    "Europe.[1] Amid…" split like "Europe. Amid…"; a marker then belongs to the
    sentence before it. A marker followed by a capitalised word also ends a
    sentence, for quoted lines that have no final stop ("Author: Pippa Crerar [1]
    Published…"). The splitter's traps (Mr., U.S., No. 10, 2.5%) are in sentences.py.
    """
    markers = list(MARKER.finditer(text))
    masked = list(text)
    for m in markers:
        masked[m.start():m.end()] = " " * (m.end() - m.start())
    blank = "".join(masked)

    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(blank):
        for m in markers:
            if start < m.start() and m.end() < end and blank[start:m.start()].strip():
                # A full stop before the marker settles it whatever case follows
                # (a small model may not capitalise); else a capital must follow.
                after_stop = _ENDS_WITH_STOP.search(blank, start, m.start())
                rest = (_NEXT_TEXT if after_stop else _NEXT_STARTS_SENTENCE).match(blank, m.end(), end)
                if rest and not MARKER.match(text, rest.end() - 1):
                    spans.append((start, m.start()))
                    start = rest.start() + len(rest.group(0)) - len(rest.group(0).lstrip())
        spans.append((start, end))
    spans = [(s, e) for s, e in ((s, _rstrip(blank, s, e)) for s, e in spans) if e > s]

    cited: list[list[int]] = [[] for _ in spans]
    ends = [e for _, e in spans]
    for m in markers:
        owner = 0
        for i, (s, _) in enumerate(spans):
            if s <= m.start():
                owner = i
        if spans:
            for n in marker_numbers(m.group(1)):
                if n not in cited[owner]:
                    cited[owner].append(n)
            ends[owner] = max(ends[owner], m.end())
    return [AnswerSentence(i, s, ends[i], _without_markers(text[s:e]), tuple(cited[i]))
            for i, (s, e) in enumerate(spans)]


def _without_markers(text: str) -> str:
    """"rose [2]." -> "rose."; the sentence's own spacing is otherwise kept."""
    text = _MARKER_BEFORE_PUNCT.sub("", text)
    return " ".join(MARKER.sub(" ", text).split())


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def makes_claim(sentence: str) -> bool:
    """Does the sentence state something a source must back? Refusals, headings
    and connectives ("In short:", "Here is what the sources say.") do not."""
    if _REFUSAL.search(sentence):
        return False
    if numbers(sentence) or names(sentence):
        return True
    return len(content_words(sentence)) >= 3 and not sentence.rstrip().endswith(":")


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class _Candidate:
    number: int | None  # its number in the answer; None: found by search, not given to the writer
    passage: Passage
    facts: PassageFacts
    windows: tuple[tuple[int, int], ...]  # single sentences, then consecutive pairs
    singles: int  # how many of the windows are single sentences


@dataclass(frozen=True)
class _Support:
    ok: bool
    reason: str
    evidence: Evidence


def _windows(text: str) -> tuple[tuple[tuple[int, int], ...], int]:
    spans = sentence_spans(text) or [(0, len(text))]
    pairs = [(spans[i][0], spans[i + 1][1]) for i in range(len(spans) - 1)]
    return tuple(spans) + tuple(pairs), len(spans)


class CitationChecker:
    """Checks answers against their sources with an embedding model (any object
    with `embed(texts) -> unit vectors`; pass an `EmbeddingCache` so the passage
    sentences that selection already embedded are not embedded again)."""

    def __init__(self, embedder, min_similarity: float = MIN_SIMILARITY):
        self.embedder = embedder
        self.min_similarity = min_similarity

    # ------------------------------------------------------------------ public

    def check_answer(self, text: str, sources: Sequence[Source], extra: Sequence[Passage] = ()) -> CitationReport:
        """Every sentence of `text` checked against the numbered `sources` it cites;
        `extra` passages (not numbered) may be suggested for uncited or wrongly
        cited sentences."""
        started = time.perf_counter()
        sentences = parse_answer(text)
        checks = self.check_sentences(sentences, sources, extra)
        return CitationReport(tuple(checks), round(1000 * (time.perf_counter() - started), 2))

    def check_sentences(self, sentences: Sequence[AnswerSentence], sources: Sequence[Source],
                        extra: Sequence[Passage] = ()) -> list[SentenceCheck]:
        candidates = self._candidates(sources, extra)
        by_number = {c.number: c for c in candidates if c.number is not None}
        known: set[str] = set()
        for c in candidates:
            known |= set(names(c.passage.text))
        # Sentences quoted verbatim from what they cite need no embedding at all.
        needs_model = [s for s in sentences
                       if (s.cited or makes_claim(s.text)) and not _verbatim_in(s, by_number)]
        vectors = self._vectors(needs_model, candidates)
        return [self._check(s, candidates, by_number, known, vectors) for s in sentences]

    # ------------------------------------------------------------------ internals

    def _candidates(self, sources: Sequence[Source], extra: Sequence[Passage]) -> list[_Candidate]:
        out: list[_Candidate] = []
        seen: set[str] = set()
        for number, passage in [(s.number, s.passage) for s in sources] + [(None, p) for p in extra]:
            if passage.id in seen and number is None:
                continue
            seen.add(passage.id)
            out.append(_Candidate(number, passage, PassageFacts.of(passage.text, passage.title),
                                  *_windows(passage.text)))
        return out

    def _vectors(self, sentences: Sequence[AnswerSentence], candidates: Sequence[_Candidate]) -> Mapping[str, np.ndarray]:
        """One embedding call for every sentence and passage window not verbatim-matched."""
        texts: list[str] = []
        for s in sentences:
            texts.append(s.text)
        if sentences:
            for c in candidates:
                texts.extend(c.passage.text[a:b] for a, b in c.windows)
        unique = list(dict.fromkeys(texts))
        if not unique:
            return {}
        matrix = self.embedder.embed(unique)
        return dict(zip(unique, matrix))

    def _check(self, sentence: AnswerSentence, candidates: Sequence[_Candidate],
               by_number: Mapping[int, _Candidate], known: set[str],
               vectors: Mapping[str, np.ndarray]) -> SentenceCheck:
        valid = tuple(n for n in sentence.cited if n in by_number)
        invalid = tuple(n for n in sentence.cited if n not in by_number)
        if not sentence.cited and not makes_claim(sentence.text) or _REFUSAL.search(sentence.text):
            return SentenceCheck(sentence, NO_CLAIM, "makes no claim that needs a source", None, None, invalid)

        cited = [by_number[n] for n in valid]
        if cited:
            support = self._support(sentence.text, cited, known, vectors)
            if support.ok:
                reason = support.reason
                if invalid:
                    reason += f"; {_markers(invalid)} names no source"
                return SentenceCheck(sentence, SUPPORTED, reason, support.evidence, None, invalid)
        else:
            support = None

        # Not stated where it says: does another passage state it?
        others = [c for c in candidates if c.number not in valid]
        alternative = self._best_supporting(sentence.text, others, known, vectors)
        if not sentence.cited:
            evidence = alternative.evidence if alternative else self._closest(sentence.text, candidates, vectors)
            return SentenceCheck(sentence, UNCITED, "makes a claim but cites no source", evidence,
                                 alternative.evidence if alternative else None, invalid)
        if alternative:
            # The reason says why the cited passage fails; `supported_by` is the fix.
            why = support.reason if support else f"{_markers(invalid)} names no source"
            return SentenceCheck(sentence, WRONG_SOURCE, why, support.evidence if support else None,
                                 alternative.evidence, invalid)
        if support is None:
            return SentenceCheck(sentence, UNSUPPORTED, f"{_markers(invalid)} names no source, and no passage "
                                 "states it", self._closest(sentence.text, candidates, vectors), None, invalid)
        return SentenceCheck(sentence, UNSUPPORTED, support.reason, support.evidence, None, invalid)

    def _support(self, sentence: str, cited: Sequence[_Candidate], known: set[str],
                 vectors: Mapping[str, np.ndarray]) -> _Support:
        """Do the cited passages, together, state the sentence?"""
        target = normalise(sentence).rstrip(" .!?")
        for c in cited:
            if target and target in c.facts.text:
                a, b = _locate(c, sentence)
                return _Support(True, "quoted verbatim", Evidence(c.number, c.passage, a, b, 1.0))

        best = max((self._closest_in(sentence, c, vectors) for c in cited), key=lambda e: e.similarity)
        label = _markers(tuple(c.number for c in cited if c.number is not None)) or best.where
        # Every fact must be somewhere in what it cites (a merged claim may cite two).
        missing = missing_facts(sentence, _merged(c.facts for c in cited), known)
        if missing:
            return _Support(False, f"{_join(missing)} {'is' if len(missing) == 1 else 'are'} not in {label}", best)
        conflict = negation_conflict(sentence, best.text)
        if conflict:
            return _Support(False, f"{conflict} ({label})", best)
        if best.similarity < self.min_similarity:
            return _Support(False, f"{label} does not say this (closest sentence: similarity "
                            f"{best.similarity:.2f} < {self.min_similarity:.2f})", best)
        return _Support(True, f"stated by {label} (similarity {best.similarity:.2f})", best)

    def _best_supporting(self, sentence: str, candidates: Sequence[_Candidate], known: set[str],
                         vectors: Mapping[str, np.ndarray]) -> _Support | None:
        supports = [self._support(sentence, [c], known, vectors) for c in candidates]
        good = [s for s in supports if s.ok]
        if not good:
            return None
        # A numbered source the writer was given is the better fix than a searched one.
        return max(good, key=lambda s: (s.evidence.number is not None, s.evidence.similarity))

    def _closest_in(self, sentence: str, c: _Candidate, vectors: Mapping[str, np.ndarray]) -> Evidence:
        """The passage's sentence (or pair of sentences) closest in meaning."""
        query = vectors[sentence]
        best_window, best_sim = c.windows[0], -1.0
        for i, (a, b) in enumerate(c.windows):
            sim = float(vectors[c.passage.text[a:b]] @ query)
            # A single sentence is the clearer evidence: a pair must do better by a margin.
            if sim > best_sim + (PAIR_MARGIN if i >= c.singles else 0.0):
                best_window, best_sim = (a, b), sim
        return Evidence(c.number, c.passage, best_window[0], best_window[1], best_sim)

    def _closest(self, sentence: str, candidates: Sequence[_Candidate],
                 vectors: Mapping[str, np.ndarray]) -> Evidence | None:
        if not candidates or sentence not in vectors:
            return None
        return max((self._closest_in(sentence, c, vectors) for c in candidates), key=lambda e: e.similarity)


def _merged(facts: Iterable[PassageFacts]) -> PassageFacts:
    facts = list(facts)
    if len(facts) == 1:
        return facts[0]
    return PassageFacts(" \n ".join(f.text for f in facts), frozenset().union(*(f.numbers for f in facts)),
                        frozenset().union(*(f.months for f in facts)), frozenset().union(*(f.words for f in facts)))


def _verbatim_in(sentence: AnswerSentence, by_number: Mapping[int, _Candidate]) -> bool:
    target = normalise(sentence.text).rstrip(" .!?")
    return bool(target) and any(n in by_number and target in by_number[n].facts.text for n in sentence.cited)


def _locate(c: _Candidate, sentence: str) -> tuple[int, int]:
    """The window of the passage that holds a verbatim sentence."""
    target = normalise(sentence).rstrip(" .!?")
    for a, b in c.windows:
        if target in normalise(c.passage.text[a:b]):
            return a, b
    return 0, len(c.passage.text)


def _markers(numbers_: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in numbers_)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- strict


def strict_checks(checks: Sequence[SentenceCheck]) -> tuple[list[SentenceCheck], int]:
    """The sentences `--strict` keeps, and how many it drops: unsupported and
    uncited sentences go; a wrong-source marker is pointed at the numbered source
    that states the sentence (a sentence stated only by a passage the answer had
    not numbered goes too); markers naming no source are removed."""
    kept: list[SentenceCheck] = []
    for check in checks:
        if check.verdict in (UNSUPPORTED, UNCITED):
            continue
        if check.verdict == WRONG_SOURCE:
            fix = check.supported_by
            if fix is None or fix.number is None:
                continue
            sentence = replace(check.sentence, cited=(fix.number,))
            check = SentenceCheck(sentence, SUPPORTED, f"cited {_markers(check.sentence.cited)}; corrected to "
                                  f"[{fix.number}], which states it", fix, None, ())
        elif check.invalid:
            sentence = replace(check.sentence, cited=tuple(n for n in check.sentence.cited if n not in check.invalid))
            check = replace(check, sentence=sentence, invalid=())
        kept.append(check)
    return kept, len(checks) - len(kept)


def sentence_with_markers(sentence: AnswerSentence) -> str:
    return sentence.text + (" " + _markers(sentence.cited) if sentence.cited else "")


def strict_answer(answer: Answer) -> Answer:
    """The answer as `--strict` gives it: only checked sentences, markers corrected."""
    if answer.citations is None:
        return answer
    kept, dropped = strict_checks(answer.citations.checks)
    text = " ".join(sentence_with_markers(c.sentence) for c in kept)
    return replace(answer, text=text, cited=tuple(cited_numbers(text)), dropped_sentences=dropped,
                   citations=CitationReport(tuple(kept), answer.citations.milliseconds))
