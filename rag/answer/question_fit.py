"""Does an answer give what its question asks? Two rules that need no model, read
from the answer's sentences and the question alone: an answer to "how many" or
"when" that holds no number or date, and an answer whose sentences only say the
question back ("Who benefited from CSNET?" → "The Computer Science Network (CSNET)
benefited from CSNET."). Such sentences are true to their passage, so the checker
gives them its ✓; the review marks them unsure (rag/answer/review.py)."""
from __future__ import annotations

import re

from rag.retrieve.question import DATE, QUANTITY, YES_NO, QuestionAnalysis, gives_answer
from rag.text.words import STOP_WORDS, content_words, words_of
from rag.types.citations import NO_CLAIM, CitationReport

# "How many", "how much": a number asked for without doubt ("which count", "what area"
# are also a title and a place, so the other quantity questions are not held to this).
_ASKS_A_NUMBER = re.compile(r"\bhow\s+(?:many|much)\b", re.IGNORECASE)


def gives_no_asked_number(report: CitationReport, analysis: QuestionAnalysis) -> bool:
    """Does an answer to "how many", "how much" or "when" hold no number or date beyond
    the question's own? Its sentences may be true, but it does not give what was asked
    ("How many Huguenots fled France?" → a true sentence about New France)."""
    asked = analysis.answer_type == DATE or (analysis.answer_type == QUANTITY
                                            and bool(_ASKS_A_NUMBER.search(analysis.question)))
    claims = [c.sentence.text for c in report.checks if c.verdict != NO_CLAIM]
    return asked and bool(claims) and not any(gives_answer(text, analysis) for text in claims)


# Words that point at the sources rather than say anything ("according to the sources").
_ABOUT_THE_SOURCES = frozenset(content_words("source sources document documents passage passages article "
                                                "articles text texts"))
# Yes, no and not say something a question does not: "Can a packet be lost?" → "Yes, …".
_POLARITY = frozenset({"yes", "no", "not", "never", "nor"})
# Letters written as an acronym: "CSNET", "CST", "NATO" (two or more capitals).
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]*[A-Z][A-Z0-9&]*s?\b")
_LONGEST_ACRONYM = 8


def restates_the_question(report: CitationReport, analysis: QuestionAnalysis) -> bool:
    """Do the answer's sentences add nothing to the question? Every content word of
    them is the question's own, a word about the sources, or a word of a spelled-out
    acronym that the question uses (a restatement often spells one out: "What did
    Jerne develop on the basis of CST?" → "Jerne developed the clonal selection theory
    (CST) on the basis of CST."). A yes, a no or a negation is something added, and a
    yes/no question is answered by saying it back ("Did the UK vote for it?" → "The UK
    voted for it.")."""
    question = analysis.question
    claims = [c.sentence.text for c in report.checks if c.verdict != NO_CLAIM]
    if not claims or analysis.answer_type == YES_NO:
        return False
    asked = content_words(question)
    said = set().union(*(content_words(text) for text in claims))
    polarity = {w.lower() for text in claims for w in words_of(text)} & _POLARITY
    if polarity - {w.lower() for w in words_of(question)}:
        return False
    spelled = set().union(*(spelled_out(acronym, text) for acronym in set(_ACRONYM.findall(question))
                            for text in claims))
    return not (said - asked - _ABOUT_THE_SOURCES - content_words(" ".join(spelled)))


def spelled_out(acronym: str, text: str) -> set[str]:
    """The words of `text` that spell `acronym` out, each giving one or more of its
    letters from its start ("Computer Science Network" spells CSNET; small words
    such as "of" may sit between): empty when none do."""
    letters = acronym.removesuffix("s").lower()
    if len(letters) > _LONGEST_ACRONYM:  # a shouted word, not an acronym (and the search grows fast)
        return set()
    words = words_of(text)
    for start in range(len(words)):
        run = _spells(letters, words, start)
        if run is not None and len(run) >= 2:
            return set(run)
    return set()


def _spells(letters: str, words: list[str], i: int) -> list[str] | None:
    if not letters:
        return []
    if i >= len(words):
        return None
    word = words[i].lower()
    for length in range(min(len(word), len(letters)), 0, -1):
        if letters.startswith(word[:length]):
            rest = _spells(letters[length:], words, i + 1)
            if rest is not None:
                return [words[i], *rest]
    if word in STOP_WORDS and i > 0:  # "Members of Parliament": a small word between
        return _spells(letters, words, i + 1)
    return None
