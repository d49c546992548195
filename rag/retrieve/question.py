"""What a question asks for: the type of its answer and the terms an answer must be
about. Pure (no model, no index): the rules read the wh-word and its head noun.

The answer type lets selection prefer sentences that hold such an answer (a number
for "how many", a date for "when", a name for "who"), and lets the summary say
when an answer lacks it. The key terms (names, quoted phrases, numbers) are what
the documents must mention for the question to be covered: "What did Xi Jinping
say…" is not answered by passages that never name Xi Jinping.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

QUANTITY, DATE, PERSON, PLACE, ORGANISATION = "quantity", "date", "person", "place", "organisation"
REASON, YES_NO, DEFINITION, OTHER = "reason", "yes/no", "definition", "other"
ANSWER_TYPES = (QUANTITY, DATE, PERSON, PLACE, ORGANISATION, REASON, YES_NO, DEFINITION, OTHER)

# How the summary names what an answer of each type lacks ("none gives a number").
MISSING_WORDS = {QUANTITY: "a number", DATE: "a date", PERSON: "a person's name", PLACE: "a place",
                 ORGANISATION: "an organisation's name"}

_PERSON_NOUNS = (r"person|man|woman|people|president|minister|leader|author|writer|scientist|king|queen|"
                 r"emperor|ruler|general|chancellor|secretary|spokes(?:man|woman|person)|official|politician|"
                 r"player|actor|artist|composer|inventor|founder|ceo|director|judge|governor|senator|pope|"
                 r"prince|princess|duke|chief|commander|officer|explorer|philosopher|poet|physicist|chemist|"
                 r"economist|journalist|reporter|ambassador|mayor|diplomat|member|figure|individual|khan")
_PLACE_NOUNS = (r"country|countries|city|cities|town|place|region|state|province|continent|island|river|"
                r"mountain|area|location|capital|nation|territory|village|port|county|district|site|sea|ocean|"
                r"lake|street|building|venue|colony|colonies")
_ORG_NOUNS = (r"organi[sz]ation|company|companies|party|agency|group|university|team|body|institution|firm|"
              r"corporation|newspaper|network|bank|union|alliance|court|ministry|department|council|"
              r"committee|army|navy|church|school|college|club|government|parliament")
_TIME_NOUNS = r"year|date|day|month|century|decade|time|era|period|season|week|age"
_QUANTITY_NOUNS = (r"number|percentage|percent|proportion|share|amount|sum|total|cost|price|size|length|"
                   r"height|weight|distance|population|rate|speed|temperature|score|margin|majority|count|"
                   r"figure|fraction|value|budget|salary|fee|area")

_RULES: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p, re.IGNORECASE), t) for p, t in (
    (r"^\s*(?:how\s+(?:many|much|long|far|old|large|big|tall|high|deep|wide|heavy|often|fast|small)\b)", QUANTITY),
    (r"\b(?:how\s+(?:many|much))\b", QUANTITY),
    (rf"^\s*(?:in\s+|by\s+|at\s+|on\s+|from\s+|until\s+|since\s+)?(?:what|which)\s+(?:{_TIME_NOUNS})s?\b", DATE),
    (r"^\s*(?:when|since\s+when|until\s+when)\b", DATE),
    (rf"^\s*(?:in\s+|at\s+|from\s+|to\s+|on\s+)?(?:what|which)\s+(?:{_QUANTITY_NOUNS})\b", QUANTITY),
    (r"^\s*(?:who|whom|whose)\b", PERSON),
    (rf"^\s*(?:to\s+|by\s+|from\s+|with\s+)?(?:what|which)\s+(?:\w+\s+)?(?:{_PERSON_NOUNS})s?\b", PERSON),
    (r"^\s*where\b", PLACE),
    (rf"^\s*(?:in\s+|to\s+|from\s+|at\s+|on\s+|into\s+)?(?:what|which)\s+(?:\w+\s+)?(?:{_PLACE_NOUNS})\b", PLACE),
    (rf"^\s*(?:in\s+|to\s+|from\s+|at\s+|by\s+|for\s+)?(?:what|which)\s+(?:\w+\s+)?(?:{_ORG_NOUNS})\b", ORGANISATION),
    (r"^\s*(?:why|for\s+what\s+reason|how\s+come)\b|\bwhat\s+(?:caused|led\s+to|was\s+the\s+reason|is\s+the\s+reason)\b",
     REASON),
    (r"^\s*(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should|shall|may|might|must)\b", YES_NO),
    (r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:a|an|the)?\s*[\w' -]+\??\s*$|^\s*(?:define|what\s+does\s+.+\s+mean)\b",
     DEFINITION),
))

# Words that begin a question or stand capitalised without naming anything.
_NOT_NAMES = frozenset("""
what which who whom whose when where why how is are was were do does did can could has have had will would
should shall may might must in on at by for from to of the a an and or but if according tell name give list
describe explain compare i we you he she they it this that these those there mr mrs ms dr sir
after before during since until besides apart following despite regarding concerning beyond between among
under over within without as once while apart aside other another each every both either neither
""".split())
_TITLES = frozenset("president prime minister chancellor king queen prince princess mr mrs ms dr sir general "
                    "secretary senator governor mayor pope emperor chief foreign defence defense".split())
_PLURAL_ACRONYM = re.compile(r"^[A-Z]{2,}s$")
_SHORT_ACRONYM = re.compile(r"^[A-Z]{2,3}$")
_CONNECTORS = frozenset("of de da van von al bin the and".split())
_CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|de|da|van|von|al|bin|the|and)?\s*[A-Z][\w'’.-]*)*")
# Quotations in double quotes or ‘…’ (a lone ’ or ' is an apostrophe: "harm's way").
_QUOTED = re.compile(r"[\"“]([^\"“”]{3,80})[\"”]|‘([^‘’]{3,80})’")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


@dataclass(frozen=True)
class KeyTerm:
    text: str
    start: int  # offsets in the question
    end: int
    kind: str  # "name", "quoted" or "number"


@dataclass(frozen=True)
class QuestionAnalysis:
    question: str
    answer_type: str
    key_terms: tuple[KeyTerm, ...]

    @property
    def names(self) -> tuple[KeyTerm, ...]:
        return tuple(t for t in self.key_terms if t.kind == "name")

    @property
    def missing_words(self) -> str:
        """What an answer lacks when it has no answer of this type, or ""."""
        return MISSING_WORDS.get(self.answer_type, "")

    def to_json(self) -> dict:
        return {"answer_type": self.answer_type,
                "key_terms": [{"text": t.text, "start": t.start, "end": t.end, "kind": t.kind}
                              for t in self.key_terms]}


def answer_type(question: str) -> str:
    text = " ".join(question.split())
    # "What did X say/argue/announce…" asks for a statement, whatever follows.
    if re.match(r"^\s*what\s+(?:did|does|do|has|have|had|will|would)\s+.+\b(?:say|said|tell|argue|announce|"
                r"claim|write|think|believe|want|warn|propose|suggest|mean|do)\b", text, re.IGNORECASE):
        return OTHER
    for pattern, kind in _RULES:
        if pattern.search(text):
            return kind
    return OTHER


def key_terms(question: str) -> tuple[KeyTerm, ...]:
    terms: list[KeyTerm] = []
    taken: list[tuple[int, int]] = []
    for match in _QUOTED.finditer(question):
        group = 1 if match.group(1) is not None else 2
        terms.append(KeyTerm(match.group(group), match.start(group), match.end(group), "quoted"))
        taken.append((match.start(), match.end()))
    for match in _CAPITALISED.finditer(question):
        if any(s <= match.start() < e for s, e in taken):
            continue
        words = [(match.start() + m.start(), m.group(0)) for m in re.finditer(r"\S+", match.group(0))]
        # Question words and titles are not names: "Which", "President", "Prime Minister".
        while words and (words[0][1].lower().strip("'’.") in _NOT_NAMES or words[0][1].lower() in _TITLES):
            words.pop(0)
        while words and words[-1][1].lower() in _CONNECTORS:
            words.pop()
        if len(words) == 1 and _PLURAL_ACRONYM.match(words[0][1]):
            continue  # "MPs", "CEOs": a kind of person, not a name
        if len(words) == 1 and not question[:words[0][0]].strip():
            continue  # the question's first word is capitalised anyway ("Reports document that…")
        if not words:
            continue
        last = re.sub(r"['’]s$", "", words[-1][1].rstrip(".,:;?!"))  # "Japan's" names Japan
        start, end = words[0][0], words[-1][0] + len(last)
        terms.append(KeyTerm(question[start:end], start, end, "name"))
    for match in _NUMBER.finditer(question):
        if not any(t.start <= match.start() < t.end for t in terms):
            number = match.group(0).rstrip(".,")
            terms.append(KeyTerm(number, match.start(), match.start() + len(number), "number"))
    return tuple(sorted(terms, key=lambda t: t.start))


# "Who wrote the article about …?", "When was this report published?": questions
# about a document rather than what it says. A document noun is required, so that
# "Who wrote the treaty?" stays a question about the text's content.
_DOCUMENT_NOUN = r"(?:article|story|piece|report|document|paper|post|column|essay|blog|editorial|op-ed|news\s+item)"
_ASKS_AUTHOR = re.compile(
    rf"^\s*(?:who\s+(?:wrote|authored|penned|reported|(?:is|was)\s+the\s+(?:author|writer|reporter))|by\s+whom\s+(?:was|is))\b"
    rf".*\b{_DOCUMENT_NOUN}|\b(?:author|writer|byline|reporter)\s+of\s+(?:the|this|that)\s+(?:\w+\s+)?{_DOCUMENT_NOUN}",
    re.IGNORECASE)
_ASKS_PUBLISHED = re.compile(
    rf"^\s*(?:when|on\s+what\s+(?:day|date)|what\s+(?:day|date))\b.*\b{_DOCUMENT_NOUN}\b.*\b(?:published|written|"
    rf"posted|released|come\s+out|came\s+out)\b|\bpublication\s+date\s+of\b.*\b{_DOCUMENT_NOUN}",
    re.IGNORECASE)


_ASKS_PUBLISHER = re.compile(
    rf"^\s*(?:who|which\s+(?:newspaper|site|website|outlet|publication|publisher|paper|magazine))\s+"
    rf"(?:published|ran|printed|carried)\b.*\b{_DOCUMENT_NOUN}|\b(?:publisher|source)\s+of\s+(?:the|this|that)\s+"
    rf"(?:\w+\s+)?{_DOCUMENT_NOUN}", re.IGNORECASE)


# Where a question asks a second question: "…, and what did he ask the US for?",
# "Who … and when …?", "…; why …?", "…? How …?". Only before a question word, so
# "Europe and the US" or "Song and Ming" stay whole.
_SECOND_QUESTION = re.compile(r"(?:,?\s+and\s+|;\s*|\?\s+)(?=(?:what|who|whom|whose|when|where|why|how|which)\b)",
                              re.IGNORECASE)


_PERSON_PRONOUN = re.compile(r"\b(?:he|she|they)\b", re.IGNORECASE)
_REFERS_BACK = re.compile(r"\b(?:he|she|it|they|him|her|them|his|its|their|this|that|these|those)\b", re.IGNORECASE)


def question_parts(question: str) -> tuple[str, ...]:
    """The questions a question asks: one, or several for "What did Starmer say Europe
    must do, and what did he ask the US for?". Each part is searched for on its own,
    since one query for both finds passages about neither. A later part that names no
    one, or refers back ("he", "it", "them"), gets the first name of the first part, its
    usual subject, in place of "he", "she" or "they": "what did Starmer ask the US for?"."""
    pieces = [p.strip(" ,;?") for p in _SECOND_QUESTION.split(question)]
    if len(pieces) < 2 or any(len(p.split()) < 2 for p in pieces):
        return (question,)
    parts = [pieces[0] + "?"]
    names = [t.text for t in key_terms(pieces[0]) if t.kind == "name"]
    for piece in pieces[1:]:
        piece = piece[0].upper() + piece[1:]  # a question as one would type it on its own
        own = [t for t in key_terms(piece) if t.kind == "name"]
        # The first name is usually who or what the question is about (its subject).
        lacking = [n for n in names[:1] if n not in piece]
        person = _PERSON_PRONOUN.search(piece)
        if lacking and person:
            # "what did he ask the US for" is searched as "what did Starmer ask the US for".
            parts.append(f"{piece[:person.start()]}{lacking[0]}{piece[person.end():]}?")
        else:
            refers_back = bool(_REFERS_BACK.search(piece))
            parts.append(f"{piece}?" + (f" {' '.join(lacking)}" if lacking and (refers_back or not own) else ""))
        names += [t.text for t in own]
    return tuple(parts)


def asks_about_document(question: str) -> str:
    """"author", "published" or "publisher" when the question asks who wrote a
    document, when or by whom it was published; "" otherwise."""
    text = " ".join(question.split())
    if _ASKS_PUBLISHER.search(text):
        return "publisher"
    if _ASKS_AUTHOR.search(text) and not re.search(r"\b(?:say|said|tell|told|write\s+about)\b", text, re.I):
        return "author"
    if _ASKS_PUBLISHED.search(text):
        return "published"
    return ""


def document_topic(question: str) -> str:
    """What a question about a document says the document is about: "Who wrote the
    article about Starmer pressing Trump?" -> "Starmer pressing Trump" (the whole
    question when it does not say)."""
    match = re.search(rf"\b{_DOCUMENT_NOUN}s?\s+(?:about|on|regarding|concerning|titled|called|headlined|that\s+\w+)"
                      rf"\s+(.+)", question, re.IGNORECASE)
    if not match:
        return question
    topic = re.sub(r"\s+(?:was|were|is)?\s*(?:first\s+)?(?:published|written|posted|released|came\s+out)\b.*$", "",
                   match.group(1), flags=re.IGNORECASE)
    return topic.strip(" ?!.\"'“”") or question


def analyse(question: str) -> QuestionAnalysis:
    return QuestionAnalysis(question, answer_type(question), key_terms(question))


# --------------------------------------------------------------------------- against texts

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 "hundred|thousand|million|billion|trillion|dozen|dozens|half|quarter|third|twice|thrice|"
                 "hundreds|thousands|millions|billions|several|single|double|triple|none|zero")
_HOLDS = {
    QUANTITY: re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b|%|\bper\s*cent\b", re.IGNORECASE),
    DATE: re.compile(rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}}|[1-9][0-9]?(?:st|nd|rd|th)\s+century|[0-9]{{2,4}}s)\b"
                     rf"|\b(?:{_MONTHS})\.?\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                     rf"yesterday|today|tomorrow|tonight|week|month|year|decade|century|spring|summer|autumn|"
                     rf"winter|morning|evening|night|ago|since|until|during|era|period|dynasty|reign)\b",
                     re.IGNORECASE),
}
_PROPER_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z'’\-]+(?:\s+[A-Z][a-z'’\-]+)*")
_CORE_SKIP = _TITLES | _CONNECTORS


def holds_answer_type(text: str, kind: str) -> bool:
    """Does `text` hold something of the answer type: a number for a quantity, a
    date-like expression for a date, a capitalised name for a person, place or
    organisation? Other types are not checked (always True)."""
    if kind in _HOLDS:
        return bool(_HOLDS[kind].search(text))
    if kind in (PERSON, PLACE, ORGANISATION):
        return bool(_PROPER_NAME.search(text)) or bool(re.search(r"\b[A-Z]{2,}\b", text))
    return True


def _core_words(term: KeyTerm) -> list[str]:
    # "Huguenot-descended" is mentioned by "Huguenot": hyphenated parts count alone.
    words = [re.sub(r"['’]s$", "", w.strip("'’.,:;?!")) for w in re.split(r"[\s\-‐–]+", term.text)]
    return [w for w in words if w and w.lower() not in _CORE_SKIP and len(w) > 1]


def _word_pattern(word: str) -> str:
    """A name's word, and the words made from it: "Russia" also matches "Russian",
    "Ukraine" "Ukrainian", "Frenchman" "Frenchmen" (the ending may change)."""
    if len(word) >= 5:
        return re.escape(word[:max(4, len(word) - 2)]) + r"\w{0,5}"
    return re.escape(word) + r"(?:['’]s)?"


def _fold(text: str) -> str:
    """Without accents, so that "Celeron" finds "Céleron"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _plain_number(text: str) -> str:
    return re.sub(r"(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)", "", text)


def mentioned(term: KeyTerm, texts: Sequence[str]) -> bool:
    """Is a name, quoted phrase or number of the question in any of the texts? A
    name counts when one of its own words appears as a word ("President Xi"
    mentions "Chinese President Xi Jinping"); a quotation when all its words appear
    in one text; a number as that number ("1,500" is "1500"), not inside another."""
    if term.kind == "number":
        number = re.escape(_plain_number(term.text))
        pattern = re.compile(rf"(?<![\d.,]){number}(?![\d]|[.,]\d)")
        return any(pattern.search(_plain_number(t)) for t in texts)
    words = [_fold(w) for w in _core_words(term)]
    if not words:
        return True
    texts = [_fold(t) for t in texts]
    if term.kind == "quoted":
        return any(all(re.search(rf"\b{re.escape(w)}\b", t, re.IGNORECASE) for w in words) for t in texts)
    if all(_SHORT_ACRONYM.match(w) for w in words):
        return True  # "US", "SP": too often written out ("United States") to refuse on
    # Case is ignored: a capitalised common noun ("the Gate") is found as "gate".
    pattern = re.compile(r"\b(?:" + "|".join(_word_pattern(w) for w in words) + r")\b", re.IGNORECASE)
    return any(pattern.search(t) for t in texts)


def missing_terms(analysis: QuestionAnalysis, texts: Sequence[str]) -> tuple[KeyTerm, ...]:
    """The question's names, quoted phrases and numbers that none of the texts
    mention ("In 1755 what fort…" is not covered by passages without 1755)."""
    return tuple(t for t in analysis.key_terms if (t.kind != "number" or _checkable_number(t.text))
                 and not mentioned(t, texts))


def _checkable_number(number: str) -> bool:
    """Years, counts of hundreds and up, decimals: numbers a text writes in digits.
    Small ones are as often words ("two") or part of a name ("World War 1" is
    "World War I"), so their absence proves nothing."""
    return len(re.sub(r"\D", "", number)) >= 3 or bool(re.search(r"\d[.,]\d", number))


def gives_answer(text: str, analysis: QuestionAnalysis) -> bool:
    """Does `text` hold an answer of the asked type beyond what the question itself
    says? (The question's own numbers and names are taken out first: "the 1999
    election" does not answer "how many seats…".)"""
    for term in analysis.key_terms:
        text = re.sub(rf"\b{re.escape(term.text)}\b", " ", text)
    return holds_answer_type(text, analysis.answer_type)
