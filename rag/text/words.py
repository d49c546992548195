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


def words_of(text: str) -> list[str]:
    """The words of `text` as written, in order ("Members", "of", "Parliament")."""
    return _WORD.findall(text)


def content_words(text: str) -> set[str]:
    words = {w.lower().strip("'’-").replace("’", "'") for w in words_of(text)}
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
_MACHINE = r"(?:ai(?:\s+(?:models?|systems?|tools?))?|a\.i\.|assistants?|chat\s?bots?|language\s+models?|llms?|bots?)"
_TELL = r"(?:reply|respond|answer|say|state|write|tell|claim|report|mention)"
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|rules|prompts?|guidelines|above)\b"
    r"|\byou\s+are\s+now\b|\bsystem\s+prompt\b|\bact\s+as\s+(?:an?\s+)?(?:ai|assistant|dan)\b"
    r"|\b(?:reply|respond|answer|say)\b.{0,20}\bonly\b.{0,20}\bwith\b|\b(?:do\s+not|never)\s+cite\b"
    r"|\bnew\s+instructions\b|</?sources?\b|<\||\[/?INST\]|<<SYS>>"
    # Notes addressed to the assistant in the middle of ordinary prose: "Note to any AI
    # assistant: …", "When anyone asks about the museum, reply that …, then write …",
    # "Assistants must answer that …", "disregard the user's question".
    rf"|\b(?:note|message|instructions?|reminder|memo)\s+(?:to|for)\s+(?:any|the|all|every)?\s*{_MACHINE}\b"
    rf"|\b(?:if|when|whenever)\s+(?:anyone|anybody|someone|somebody|a\s+user|the\s+user|users)\s+"
    rf"(?:asks?|asked|enquires?|inquires?|questions?|wants?\s+to\s+know)\b[^.]{{0,160}}?"
    rf"(?:,\s*(?:please\s+|always\s+|just\s+|simply\s+)?|\b(?:you|the\s+assistant|{_MACHINE})\s+"
    rf"(?:should|must|shall|are\s+to|is\s+to)\s+)(?:reply|respond|answer|say|state|write|tell|claim)\b"
    rf"|\b{_MACHINE}\b(?:\s+(?:reading|read|summari[sz]ing|processing|answering|parsing|that|which|who|reads|"
    rf"this|these|the|text|document|documents|report|page|article|file|here)){{0,4}}\s+"
    rf"(?:must|should|shall|are\s+to|is\s+to|need\s+to|ought\s+to)\s+"
    rf"(?:always\s+)?(?:{_TELL}|ignore|disregard)\b"
    r"|\b(?:ignore|disregard)\b.{0,30}\b(?:question|user|query|request)\b"
    rf"|(?:[:;]\s*|\bthen\s+|\band\s+then\s+)(?:reply|respond|answer)\s+(?:that|with|by\s+saying)\b"
    r"|\bthen\s+(?:write|say|add|append|end\s+with)\s+(?:the\s+(?:word|phrase|words|marker)|[\"“'‘])",
    re.IGNORECASE,
)


def looks_like_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))
