"""Citation checking: is each sentence of an answer stated by the passage it cites?

Two layers. Parsing is pure: split an answer into sentences and read the markers
after each (`[2]`, `[1, 3]`, `[1][3]`, `[1-3]`, and the footnote form `[^2]` of a
Markdown briefing). Checking uses the embedding model: a sentence is `supported`
when what it cites contains every number, month, quotation and name of the
sentence (rag/check/facts.py), agrees with it on negation, and states it by a calibrated
score of how close its closest sentences are in meaning and how many of its words
they hold (rag/check/support.py). A long sentence is judged in parts too, so the
verdict names the clause that is not stated. Otherwise it is `unsupported`, or
`wrong source` when another of the answer's passages does state it (with the higher
score a searched fix needs, SEARCHED_FIX_THRESHOLD), or `uncited`
when it makes a claim with no marker at all. Refusals and connective sentences
("In short:") make no claim and need no marker.

A sentence found verbatim in the passage it cites is supported without asking the
model: that is how extractive answers come out 100 % supported by construction.
"""
from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

import numpy as np

from rag.embedding.base import Embedder
from rag.check.facts import PassageFacts, missing_facts, names, negation_conflict, normalise, numbers
from rag.text.words import content_words, looks_like_instruction
from rag.text.sentences import sentence_spans
from rag.check.support import SupportModel, SupportSignals, claim_parts, coverage
from rag.types.answers import Answer, Source
from rag.types.citations import (
    NO_CLAIM, NOT_SHOWN_STRICTLY, SUPPORTED, UNCITED, UNSUPPORTED, WRONG_SOURCE, AnswerSentence, CitationReport,
    Evidence, SentenceCheck,
)
from rag.types.corpus import Passage

MARKER = re.compile(r"\[\^?(\d+(?:\s*(?:,|-|–)\s*\^?\d+)*)\]")
_MARKER_BEFORE_PUNCT = re.compile(r"\s*\[\^?\d+(?:\s*(?:,|-|–)\s*\^?\d+)*\](?=[.,;:!?])")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"'“‘(]*[A-Z0-9]")
_NEXT_TEXT = re.compile(r"\s+\S")
_ENDS_WITH_STOP = re.compile(r"[.!?…][\"'”’)]*\s*$")

# The calibrated support score (rag/check/support.py) at or above which a sentence
# counts as stated. 0.5 is the operating point fitted on WiCE's dev claims; higher
# flags more sentences (the README's trade-off table, bench/fit_support.py).
DEFAULT_THRESHOLD = 0.5
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

# A source may be a whole document (`rag check` with "[1] report.pdf") or a long
# article: past this many sentences under one number, only the sentences that
# share the most rare words with the checked sentence (and their neighbours) are
# embedded. Embedding a 1,000-sentence article costs seconds; ranking it by words
# costs milliseconds, and the supporting sentence shares the claim's rare words.
MAX_SENTENCES_EMBEDDED = 24
NARROWED_TO = 6
READ_PASSAGES_KEPT = 4096  # passages whose facts and sentence spans the checker remembers
CLOSEST_WINDOWS = 3  # the windows whose words count towards coverage
# A passage offered as the fix (the one that states what a sentence cites wrongly,
# or a source for an uncited one) is the best of several searched, and the best of
# several passes the score on shared words alone more often than the one passage a
# writer chose: a fix must be more likely than not by a margin. On the labelled set
# and the tests' cases every right fix scores 0.69 or more (paraphrases), while 3 of
# the 8 fixes offered for unsupported claims score under 0.6, as does "the recent
# developments at the UN" offered for a General Assembly vote (0.57); a higher bar
# would cut into right paraphrases (bench/RESULTS.md, "A fix must clear a higher bar").
SEARCHED_FIX_THRESHOLD = 0.6


@dataclass(frozen=True)
class _Candidate:
    position: int  # its place in the checker's list of candidates: the key of a plan
    number: int | None  # its number in the answer; None: found by search, not given to the writer
    passage: Passage
    facts: PassageFacts
    spans: tuple[tuple[int, int], ...]  # its sentences
    names: frozenset[str]  # the names it mentions
    span_words: tuple[frozenset[str], ...]  # each sentence's content words

    @property
    def group(self) -> object:
        """Candidates under one number (the passages of a cited document) are judged
        together; a searched passage stands alone."""
        return self.number if self.number is not None else ("searched", self.position)

    def windows(self, sentences: Sequence[int]) -> list[tuple[int, int]]:
        """The given sentences, then each pair of them that stand next to each other."""
        chosen = set(sentences)
        singles = [self.spans[j] for j in sentences]
        pairs = [(self.spans[j][0], self.spans[j + 1][1]) for j in sentences if j + 1 in chosen]
        return singles + pairs


# Per checked sentence: the windows of each candidate (by position) to compare it
# with; singles first, and how many singles there are.
_Plan = Mapping[int, tuple[tuple[tuple[int, int], ...], int]]


@dataclass(frozen=True)
class _Support:
    ok: bool
    reason: str
    evidence: Evidence
    score: float | None = None  # the calibrated support score, where it was reached
    parts: tuple[str, ...] = ()  # the parts of the sentence found unsupported


class CitationChecker:
    """Checks answers against their sources with an embedding model (any object
    with `embed(texts) -> unit vectors`; pass an `EmbeddingCache` so the passage
    sentences that selection already embedded are not embedded again). A sentence
    that passes the hard rules is judged by `model`'s calibrated score against
    `threshold` (rag/check/support.py)."""

    def __init__(self, embedder: Embedder, threshold: float = DEFAULT_THRESHOLD, model: SupportModel | None = None):
        self.embedder = embedder.scoring_embedder()
        self.threshold = threshold
        self.model = model or SupportModel.packaged()
        # A draft's sentences often cite the same document: its passages' facts and
        # sentences are read once, not once per sentence.
        self._read: "OrderedDict[tuple[str, str, str], tuple]" = OrderedDict()

    # ------------------------------------------------------------------ public

    def check_answer(self, text: str, sources: Sequence[Source], extra: Sequence[Passage] = ()) -> CitationReport:
        """Every sentence of `text` checked against the numbered `sources` it cites;
        `extra` passages (not numbered) may be suggested for uncited or wrongly
        cited sentences. Several sources may share a number: the passages of one
        cited document."""
        started = time.perf_counter()
        sentences = parse_answer(text)
        checks = self.check_sentences(sentences, sources, extra)
        return CitationReport(tuple(checks), round(1000 * (time.perf_counter() - started), 2))

    def check_sentences(self, sentences: Sequence[AnswerSentence], sources: Sequence[Source],
                        extra: Sequence[Passage] = ()) -> list[SentenceCheck]:
        candidates = self._candidates(sources, extra)
        by_number: dict[int, list[_Candidate]] = {}
        for c in candidates:
            if c.number is not None:
                by_number.setdefault(c.number, []).append(c)
        known: set[str] = set()
        for c in candidates:
            known |= c.names
        # Sentences quoted verbatim from what they cite need no embedding at all.
        needs_model = [s for s in sentences
                       if (s.cited or makes_claim(s.text)) and not _verbatim_in(s, by_number)]
        plans = {s.text: self._plan(s.text, candidates) for s in needs_model}
        # First only the windows of what each sentence cites: most sentences of a
        # draft are stated where they say, and then the other candidates (every
        # source of a long briefing) need not be embedded at all.
        vectors = dict(self._vectors({s.text: {i: w for i, w in plans[s.text].items()
                                               if candidates[i].number in s.cited} for s in needs_model},
                                     candidates))
        checks = []
        for s in sentences:
            plan = plans.get(s.text, {})
            check = self._check(s, candidates, by_number, known, vectors, plan, cited_only=True)
            if check is None:
                vectors.update(self._vectors({s.text: plan}, candidates, have=vectors))
                check = self._check(s, candidates, by_number, known, vectors, plan)
            assert check is not None  # the full pass always judges
            checks.append(check)
        return checks

    # ------------------------------------------------------------------ internals

    def _candidates(self, sources: Sequence[Source], extra: Sequence[Passage]) -> list[_Candidate]:
        out: list[_Candidate] = []
        seen: set[str] = set()
        for number, passage in [(s.number, s.passage) for s in sources] + [(None, p) for p in extra]:
            if passage.id in seen and number is None:
                continue
            seen.add(passage.id)
            out.append(_Candidate(len(out), number, passage, *self._reading(passage)))
        return out

    def _reading(self, passage: Passage) -> tuple:
        key = (passage.id, passage.title, passage.text)
        if key in self._read:
            self._read.move_to_end(key)
            return self._read[key]
        text = passage.text
        spans = tuple(sentence_spans(text) or [(0, len(text))])
        # A sentence written to steer an assistant ("when anyone asks…, reply that…") is
        # no evidence: its words and facts are left out, as they are left out of prompts.
        steering = [(a, b) for a, b in spans if looks_like_instruction(text[a:b])]
        if steering:
            for a, b in steering:
                text = text[:a] + " " * (b - a) + text[b:]
            spans = tuple(span for span in spans if span not in steering) or ((0, 0),)
        self._read[key] = (PassageFacts.of(text, passage.title), spans, frozenset(names(text)),
                           tuple(frozenset(content_words(text[a:b])) for a, b in spans))
        if len(self._read) > READ_PASSAGES_KEPT:
            self._read.popitem(last=False)
        return self._read[key]

    def _plan(self, sentence: str, candidates: Sequence[_Candidate]) -> dict[int, tuple]:
        """Which windows of each candidate to compare `sentence` with: all of them,
        unless the candidates under one number (a document) hold more sentences
        than are worth embedding; then those closest in rare words."""
        groups: dict[object, list[int]] = {}
        for c in candidates:
            groups.setdefault(c.group, []).append(c.position)
        plan: dict[int, tuple] = {}
        for members in groups.values():
            chosen = _closest_by_words(sentence, [candidates[i] for i in members])
            for i, sentences in zip(members, chosen):
                if sentences:
                    windows = candidates[i].windows(sentences)
                    plan[i] = (tuple(windows), len(sentences))
        return plan

    def _vectors(self, plans: Mapping[str, _Plan], candidates: Sequence[_Candidate],
                 have: Mapping[str, np.ndarray] | None = None) -> Mapping[str, np.ndarray]:
        """One embedding call for every checked sentence and planned passage
        sentence. A pair of consecutive sentences is not embedded: its vector is
        the normalised sum of theirs (a WiCE claim against its article: 0.64 ->
        0.37 s with everything else equal; the support score is fitted on what
        this computes, bench/fit_support.py)."""
        texts: list[str] = list(plans)
        pairs: dict[str, tuple[str, str]] = {}
        for plan in plans.values():
            for i, (windows, singles) in plan.items():
                text = candidates[i].passage.text
                texts.extend(text[a:b] for a, b in windows[:singles])
                ends = {a: b for a, b in windows[:singles]}
                for a, b in windows[singles:]:
                    first_end = ends[a]
                    second_start = next(x for x, _ in windows[:singles] if x >= first_end)
                    pairs[text[a:b]] = (text[a:first_end], text[second_start:b])
        have = have or {}
        unique = [t for t in dict.fromkeys(texts) if t not in have]  # `have`: embedded before, not returned
        vectors = dict(zip(unique, self.embedder.embed(unique))) if unique else {}
        for pair, (first, second) in pairs.items():
            if pair not in have:
                summed = (vectors[first] if first in vectors else have[first]) + \
                    (vectors[second] if second in vectors else have[second])
                vectors.setdefault(pair, summed / (np.linalg.norm(summed) or 1.0))
        return vectors

    def _check(self, sentence: AnswerSentence, candidates: Sequence[_Candidate],
               by_number: Mapping[int, list[_Candidate]], known: set[str],
               vectors: Mapping[str, np.ndarray], plan: _Plan, cited_only: bool = False) -> SentenceCheck | None:
        """The sentence's verdict. With `cited_only` (only the cited windows are
        embedded yet), None where the verdict needs the other candidates."""
        valid = tuple(n for n in sentence.cited if n in by_number)
        invalid = tuple(n for n in sentence.cited if n not in by_number)
        if not sentence.cited and not makes_claim(sentence.text) or _REFUSAL.search(sentence.text):
            return SentenceCheck(sentence, NO_CLAIM, "makes no claim that needs a source", None, None, invalid)

        cited = [c for n in valid for c in by_number[n]]
        if cited:
            support = self._support(sentence.text, cited, known, vectors, plan)
            if support.ok:
                reason = support.reason
                if invalid:
                    reason += f"; {_markers(invalid)} names no source"
                return SentenceCheck(sentence, SUPPORTED, reason, support.evidence, None, invalid, support.score)
        else:
            support = None
        if cited_only:
            return None

        # Not stated where it says: does another source state it?
        others = [c for c in candidates if c.number not in valid]
        alternative = self._best_supporting(sentence.text, others, known, vectors, plan)
        score = support.score if support else None
        parts = support.parts if support else ()
        if not sentence.cited:
            evidence = alternative.evidence if alternative else _closest(sentence.text, candidates, vectors, plan)
            return SentenceCheck(sentence, UNCITED, "makes a claim but cites no source", evidence,
                                 alternative.evidence if alternative else None, invalid)
        if alternative:
            # The reason says why the cited passage fails; `supported_by` is the fix.
            why = support.reason if support else f"{_markers(invalid)} names no source"
            return SentenceCheck(sentence, WRONG_SOURCE, why, support.evidence if support else None,
                                 alternative.evidence, invalid, score, parts)
        if support is None:
            return SentenceCheck(sentence, UNSUPPORTED, f"{_markers(invalid)} names no source, and no passage "
                                 "states it", _closest(sentence.text, candidates, vectors, plan),
                                 None, invalid)
        return SentenceCheck(sentence, UNSUPPORTED, support.reason, support.evidence, None, invalid, score, parts)

    def _support(self, sentence: str, cited: Sequence[_Candidate], known: set[str],
                 vectors: Mapping[str, np.ndarray], plan: _Plan) -> _Support:
        """Do the cited passages, together, state the sentence?"""
        target = normalise(sentence).rstrip(" .!?")
        for c in cited:
            if target and target in c.facts.text:
                a, b = _locate(c, sentence)
                return _Support(True, "quoted verbatim", Evidence(c.number, c.passage, a, b, 1.0), 1.0)

        numbers_ = tuple(dict.fromkeys(c.number for c in cited if c.number is not None))
        scored = _scored(sentence, cited, vectors, plan)
        if not scored:  # nothing of what it cites could be compared (an empty passage)
            c = cited[0]
            return _Support(False, f"{_markers(numbers_) or c.passage.label} has no text to compare",
                            Evidence(c.number, c.passage, 0, 0, 0.0), 0.0)
        best = _best_window(scored)
        label = _markers(numbers_) or best.where
        parts = claim_parts(sentence)
        # Every fact must be somewhere in what it cites (a merged claim may cite two).
        facts = _merged(c.facts for c in cited)
        missing = missing_facts(sentence, facts, known)
        if missing:
            weak = tuple(p for p in parts if missing_facts(p, facts, known))
            where = f" (in {_quoted(weak)})" if len(parts) > 1 and weak else ""
            return _Support(False, f"{_join(missing)} {'is' if len(missing) == 1 else 'are'} not in {label}{where}",
                            best, 0.0, weak if len(parts) > 1 else ())
        conflict = negation_conflict(sentence, best.text)
        if conflict:
            return _Support(False, f"{conflict} ({label})", best, 0.0)
        closest = sorted(scored, key=lambda s: -s[0])[:CLOSEST_WINDOWS]
        closest_texts = [c.passage.text[a:b] for _, c, (a, b), _ in closest]
        signals = SupportSignals.measure(sentence, max(s[0] for s in scored), closest_texts, parts)
        score = self.model.score(signals)
        if score < self.threshold:
            weak = _weakest_parts(parts, closest_texts)
            what = f"does not state {_quoted(weak)}" if len(parts) > 1 and weak else "does not say this"
            return _Support(False, f"{label} {what} (support {score:.2f} < {self.threshold:.2f}; closest "
                            f"sentence: similarity {best.similarity:.2f})", best, score,
                            weak if len(parts) > 1 else ())
        return _Support(True, f"stated by {label} (support {score:.2f}, similarity {best.similarity:.2f})",
                        best, score)

    def _best_supporting(self, sentence: str, candidates: Sequence[_Candidate], known: set[str],
                         vectors: Mapping[str, np.ndarray], plan: _Plan) -> _Support | None:
        """The passage to offer as the sentence's source: of those that state it with a
        score of at least SEARCHED_FIX_THRESHOLD, a numbered one first, then the best."""
        groups: dict[object, list[_Candidate]] = {}
        for c in candidates:
            if c.position in plan:
                groups.setdefault(c.group, []).append(c)
        supports = [self._support(sentence, group, known, vectors, plan) for group in groups.values()]
        bar = max(self.threshold, SEARCHED_FIX_THRESHOLD)
        good = [s for s in supports if s.ok and (s.score or 0.0) >= bar]
        if not good:
            return None
        # A numbered source the writer was given is the better fix than a searched one.
        return max(good, key=lambda s: (s.evidence.number is not None, s.score or 0.0, s.evidence.similarity))


def _scored(sentence: str, candidates: Sequence[_Candidate], vectors: Mapping[str, np.ndarray],
            plan: _Plan) -> list[tuple[float, _Candidate, tuple[int, int], bool]]:
    """(similarity, candidate, window, is a pair) for each planned window of the
    candidates."""
    query = vectors[sentence]
    out = []
    for c in candidates:
        windows, singles = plan.get(c.position, ((), 0))
        for k, (a, b) in enumerate(windows):
            out.append((float(vectors[c.passage.text[a:b]] @ query), c, (a, b), k >= singles))
    return out


def _closest(sentence: str, candidates: Sequence[_Candidate], vectors: Mapping[str, np.ndarray],
             plan: _Plan) -> Evidence | None:
    if not candidates or sentence not in vectors:
        return None
    scored = _scored(sentence, candidates, vectors, plan)
    return _best_window(scored) if scored else None


def _best_window(scored: Sequence[tuple[float, _Candidate, tuple[int, int], bool]]) -> Evidence:
    """The closest window as evidence; a single sentence is the clearer evidence,
    so a pair must do better by a margin."""
    best = max(scored, key=lambda s: s[0] - (PAIR_MARGIN if s[3] else 0.0))
    similarity, c, (a, b), _ = best
    return Evidence(c.number, c.passage, a, b, similarity)


def _closest_by_words(sentence: str, group: Sequence[_Candidate]) -> list[list[int]]:
    """For each candidate of a group, the indices of its sentences to embed: all,
    or across the group the NARROWED_TO that hold the most of the sentence's words,
    each weighted by how rare it is among the group's sentences."""
    total = sum(len(c.spans) for c in group)
    if total <= MAX_SENTENCES_EMBEDDED:
        return [list(range(len(c.spans))) for c in group]
    wanted = content_words(sentence)
    held = [(g, j, words & wanted) for g, c in enumerate(group) for j, words in enumerate(c.span_words)]
    frequency: dict[str, int] = {}
    for _, _, words in held:
        for w in words:
            frequency[w] = frequency.get(w, 0) + 1
    weight = {w: math.log((total + 1) / (n + 0.5)) for w, n in frequency.items()}
    ranked = sorted(held, key=lambda h: -sum(weight[w] for w in h[2]))[:NARROWED_TO]
    chosen: list[list[int]] = [[] for _ in group]
    for g, j, _ in sorted(ranked, key=lambda h: (h[0], h[1])):
        chosen[g].append(j)
    return chosen


def _weakest_parts(parts: Sequence[str], closest_texts: Sequence[str]) -> tuple[str, ...]:
    """The clause(s) whose words are least found in the closest evidence."""
    if len(parts) < 2:
        return ()
    evidence = set().union(*(content_words(t) for t in closest_texts)) if closest_texts else set()
    shares = [(coverage(content_words(p), evidence), p) for p in parts if content_words(p)]
    if not shares:
        return ()
    lowest = min(s for s, _ in shares)
    if lowest >= 1.0:
        return ()
    return tuple(p for s, p in shares if s == lowest)


def _merged(facts: Iterable[PassageFacts]) -> PassageFacts:
    facts = list(facts)
    if len(facts) == 1:
        return facts[0]
    return PassageFacts(" \n ".join(f.text for f in facts), frozenset().union(*(f.numbers for f in facts)),
                        frozenset().union(*(f.months for f in facts)), frozenset().union(*(f.words for f in facts)),
                        frozenset().union(*(f.acronyms for f in facts)), " | ".join(f.plain for f in facts))


def _verbatim_in(sentence: AnswerSentence, by_number: Mapping[int, list[_Candidate]]) -> bool:
    target = normalise(sentence.text).rstrip(" .!?")
    return bool(target) and any(target in c.facts.text for n in sentence.cited for c in by_number.get(n, ()))


def _locate(c: _Candidate, sentence: str) -> tuple[int, int]:
    """The window of the passage that holds a verbatim sentence."""
    target = normalise(sentence).rstrip(" .!?")
    for a, b in c.windows(range(len(c.spans))):
        if target in normalise(c.passage.text[a:b]):
            return a, b
    return 0, len(c.passage.text)


def _markers(numbers_: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in numbers_)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _quoted(parts: Sequence[str]) -> str:
    """Clauses of a sentence quoted each on its own: joined inside one pair of quotes
    they would read as words the writer never wrote ("Europe and but he said")."""
    return _join([f"“{part}”" for part in parts])


# --------------------------------------------------------------------------- strict


def repoint(check: SentenceCheck) -> SentenceCheck:
    """A wrong-source sentence cited to the numbered source that states it."""
    fix = check.supported_by
    assert fix is not None and fix.number is not None, "only a wrong-source check with a numbered source"
    sentence = replace(check.sentence, cited=(fix.number,))
    return SentenceCheck(sentence, SUPPORTED, f"cited {_markers(check.sentence.cited)}; corrected to "
                         f"[{fix.number}], which states it", fix, None, (), check.score)


def repointed(text: str, report: CitationReport) -> tuple[str, CitationReport, int]:
    """A model's answer with each wrong-source marker pointed at the numbered source
    the checker found stating the sentence (a model that reads often cites the
    neighbouring source); the text is rebuilt from its sentences only when one
    changes. Returns (text, report, how many markers were corrected)."""
    fixable = [c.verdict == WRONG_SOURCE and c.supported_by is not None and c.supported_by.number is not None
               for c in report.checks]
    if not any(fixable):
        return text, report, 0
    checks = [repoint(c) if fix else c for c, fix in zip(report.checks, fixable)]
    new_text = " ".join(c.sentence.with_markers() for c in checks)
    # Offsets follow the rebuilt text, so a front end's marks land on its sentences.
    placed, position = [], 0
    for c in checks:
        start = new_text.index(c.sentence.text, position)
        end = start + len(c.sentence.with_markers())
        placed.append(replace(c, sentence=replace(c.sentence, start=start, end=end)))
        position = end
    return new_text, CitationReport(tuple(placed), report.milliseconds), sum(fixable)


def strict_checks(checks: Sequence[SentenceCheck]) -> tuple[list[SentenceCheck], int]:
    """The sentences `--strict` keeps, and how many it drops: unsupported, uncited,
    unsure and contradicted sentences go; a wrong-source marker is pointed at the numbered source
    that states the sentence (a sentence stated only by a passage the answer had
    not numbered goes too); markers naming no source are removed."""
    kept: list[SentenceCheck] = []
    for check in checks:
        if check.verdict in NOT_SHOWN_STRICTLY:
            continue
        if check.verdict == WRONG_SOURCE:
            fix = check.supported_by
            if fix is None or fix.number is None:
                continue
            check = replace(repoint(check), score=None)
        elif check.invalid:
            sentence = replace(check.sentence, cited=tuple(n for n in check.sentence.cited if n not in check.invalid))
            check = replace(check, sentence=sentence, invalid=())
        kept.append(check)
    return kept, len(checks) - len(kept)


def strict_answer(answer: Answer) -> Answer:
    """The answer as `--strict` gives it: only checked sentences, markers corrected."""
    if answer.citations is None:
        return answer
    kept, dropped = strict_checks(answer.citations.checks)
    text = " ".join(c.sentence.with_markers() for c in kept)
    return replace(answer, text=text, cited=tuple(cited_numbers(text)), dropped_sentences=dropped,
                   citations=CitationReport(tuple(kept), answer.citations.milliseconds))
