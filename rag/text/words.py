"""Words as the retrieval, the checker and the evaluation compare them: content words
(stop words left out, lightly stemmed) and sentences written to steer an assistant."""
from __future__ import annotations

import re

# Words that carry no content in a question.
STOP_WORDS = frozenset("""
a an the and or but if of in on at to for from by with about as into over after before than then
is are was were be been being do does did has have had will would can could should may might must shall
what which who whom whose when where why how that this these those there here it its it's he she they them
his her their our we you your i me my not no yes so such also just only very more most much many any some
said says say tell told according
""".split())
_WORD = re.compile(r"[\w'’%-]+")


def content_words(text: str) -> set[str]:
    words = {w.lower().strip("'’-").replace("’", "'") for w in _WORD.findall(text)}
    return {_stem(w) for w in words if w and w not in STOP_WORDS and len(w) > 1}


def _stem(word: str) -> str:
    # Enough to match "troops"/"troop", "voted"/"vote"; not a full stemmer.
    for suffix in ("'s", "ies", "es", "s", "ed", "ing"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


# Sentences written to steer an AI assistant rather than to inform a reader. They
# are never quoted as an answer nor put into a model's prompt: a planted document
# must not be able to instruct the assistant (the prompt's fence is the second line
# of defence, for what this list misses).
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|rules|prompts?|guidelines|above)\b"
    r"|\byou\s+are\s+now\b|\bsystem\s+prompt\b|\bact\s+as\s+(?:an?\s+)?(?:ai|assistant|dan)\b"
    r"|\b(?:reply|respond|answer|say)\b.{0,20}\bonly\b.{0,20}\bwith\b|\b(?:do\s+not|never)\s+cite\b"
    r"|\bnew\s+instructions\b|</?sources?\b|<\||\[/?INST\]|<<SYS>>",
    re.IGNORECASE,
)


def looks_like_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))
