"""The checkable facts of a sentence: numbers, months, quoted phrases, names and
negation, normalised so that different spellings of the same fact compare equal.
Pure, no dependencies.

Embedding similarity blurs exactly what a small model gets wrong when it cites:
"89 votes" and "93 votes" embed almost identically, and so do "has been invited"
and "has not been invited". The citation checker therefore asks, besides "does it
mean the same?", whether every number, month, quotation and name of a sentence is
in the passage it cites, and whether the two agree on negation.

Normalisations: "2.5 per cent" = "2.5%" = "2.5 percent"; "eight" = "8";
"1,000" = "1000"; "26th" = "26"; "Feb" = "February" (so "Feb 26" = "26 February");
"U.S." = "US" = "United States" = "America"; "Ukrainian" = "Ukraine";
possessives and the honorifics Mr, Sir, Lord … are ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # "one" is left out: far more often a pronoun ("one said") than a count
_MONTHS = {
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "may": "may", "jun": "june",
    "jul": "july", "aug": "august", "sep": "september", "sept": "september", "oct": "october",
    "nov": "november", "dec": "december",
}
_MONTH_NAMES = set(_MONTHS.values())
# Groups of names that mean the same thing in news text.
_ALIASES = [
    {"us", "usa", "united states", "america", "american", "americans"},
    {"uk", "britain", "british", "united kingdom", "brits"},
    {"un", "united nations"},
    {"eu", "european union"},
    {"france", "french"},
    {"germany", "german"},
    {"pm", "prime minister"},
    {"no10", "downing street"},
]
_ALIAS_OF = {name: group for group in _ALIASES for name in group}
_HONORIFICS = frozenset("mr mrs ms mx sir dame lord lady dr prof".split())
# Capitalised words that are not names: sentence starters, pronouns, weekday-less fillers.
_NOT_NAMES = frozenset("""
i a an the this that these those there here it its he she they we you his her their our my your
and but or so yet if when while after before as at by for from in into of on to with without
however meanwhile although though despite amid also still then thus today yesterday tomorrow
what who which where why how yes no not
""".split())

_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:st|nd|rd|th)?"
    r"(\s*(?:%|per\s*cent\b|percent\b))?",
    re.I,
)
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b(\s*(?:per\s*cent\b|percent\b))?", re.I)
_QUOTED = re.compile(r"[“\"]([^”\"]{3,}?)[”\"]")
_WORD = re.compile(r"[A-Za-z][\w’'.]*")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalise(text: str) -> str:
    """Lower case, straight quotes, one space: for phrase containment."""
    return " ".join(text.translate(_APOSTROPHES).lower().split())


def _number_key(digits: str) -> str:
    value = float(digits.replace(",", ""))
    return str(int(value)) if value.is_integer() else f"{value:g}"


_SEASON = re.compile(r"\b((?:1[5-9]|20)\d\d)\s*[-–/]\s*(\d\d)\b(?![-–/]?\d)")


def numbers(text: str) -> set[str]:
    """Each number as a canonical string, "2.5%" when it is a percentage. A season
    or span of years written short ("2018–19") counts as both full years."""
    found: set[str] = set()
    for match in _SEASON.finditer(text):
        found.add(match.group(1)[:2] + match.group(2))
    text = _SEASON.sub(lambda m: m.group(1), text)
    for match in _NUMBER.finditer(text):
        found.add(_number_key(match.group(1)) + ("%" if match.group(2) else ""))
    for match in _NUMBER_WORD.finditer(text):
        found.add(str(_NUMBER_WORDS[match.group(1).lower()]) + ("%" if match.group(2) else ""))
    return found


def number_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each number written in the text, digits first, then words."""
    return [m.span() for pattern in (_NUMBER, _NUMBER_WORD) for m in pattern.finditer(text)]


def months(text: str) -> set[str]:
    found = set()
    for word in re.findall(r"[A-Za-z]+", text):
        key = word.lower()
        # "May" the month vs "may" the verb, "march" the walk: only capitalised ones count.
        if word[0].isupper() and (key in _MONTH_NAMES or (key in _MONTHS and len(word) <= 4)):
            found.add(_MONTHS.get(key, key))
    return found


_ELISION = re.compile(r"\s*(?:\[\s*(?:\.\s*){3}\]|\[…\]|\.\.\.|…)\s*")
_NOT_WORD = re.compile(r"[^\w]+")


def plain_words(text: str) -> str:
    """Words only, lower case, one space: "Mockingjay – Part 2" = "mockingjay part 2"."""
    return " " + " ".join(_NOT_WORD.sub(" ", text.translate(_APOSTROPHES).replace("'", "").lower()).split()) + " "


def quotation_in(phrase: str, plain_text: str) -> bool:
    """Is a quoted phrase in a text (as `plain_words`)? Punctuation and case aside,
    and each part of a quotation elided with "[...]" or "…" on its own."""
    parts = [plain_words(part) for part in _ELISION.split(phrase)]
    return all(part in plain_text for part in parts if part.strip())


def quotations(text: str) -> list[str]:
    """Quoted phrases of at least two words, normalised."""
    out = []
    for match in _QUOTED.finditer(text):
        phrase = normalise(match.group(1)).strip(" .,;:!?")
        if len(phrase.split()) >= 2:
            out.append(phrase)
    return out


def _name_key(word: str) -> str:
    word = word.translate(_APOSTROPHES)
    word = re.sub(r"'s?$", "", word).replace(".", "").lower()
    return word


def names(text: str, known: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """Capitalised words that name someone or something: key -> the word as written.
    The first word
    of a sentence, or one after an opening quote or a colon, is capitalised anyway:
    it counts only when it is a `known` name (capitalised inside a sentence in the
    candidate passages) or is followed by another capitalised word ("Angela Merkel")."""
    out: dict[str, str] = {}
    words = list(_WORD.finditer(text))
    for i, match in enumerate(words):
        word = match.group(0).rstrip(".")
        if not word or not word[0].isupper():
            continue
        key = _name_key(word)
        if not key or key in _NOT_NAMES or key in _HONORIFICS or key in _MONTHS or key in _MONTH_NAMES:
            continue
        before = text[:match.start()].rstrip()
        starts_sentence = not before or before[-1] in ".!?:“\"‘(" or before.endswith("]")
        if starts_sentence:
            follows = words[i + 1].group(0) if i + 1 < len(words) else ""
            if key not in known and not (follows[:1].isupper() and _name_key(follows) not in _NOT_NAMES):
                continue
        out.setdefault(key, word.translate(_APOSTROPHES).removesuffix("'s"))
    return out


_TOKEN = re.compile(r"[A-Za-z][\w’']*|[,;:.!?–—()]")
# Content words after a negator that it negates: "not taken lightly" (two), but a
# determiner negates only its noun: "no role for Europe" does not deny Europe.
_NEGATED_SPAN = 2
_DETERMINER_NEGATORS = frozenset("no neither nor".split())
_NEGATOR_WORDS = frozenset("not never cannot nothing none nobody nowhere".split()) | _DETERMINER_NEGATORS
_ANTONYM_PREFIXES = ("un", "dis", "in", "im", "non")
# Words between a negator and what it negates that do not use up its reach: "not going
# to make guarantees" negates the making and the guarantees, as "will not make" does.
_TRANSPARENT = frozenset("going able willing prepared ready about planning intending trying set due".split())


def _polarity(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(words asserted, words negated), stem -> word: each content word by whether
    a negator stands shortly before it in the same clause."""
    from rag.text.words import content_words  # the stemmer the selector uses

    asserted: dict[str, str] = {}
    negated: dict[str, str] = {}
    left = 0
    for token in _TOKEN.findall(text):
        low = token.lower()
        if low in _NEGATOR_WORDS or low.endswith(("n’t", "n't")):
            left = 1 if low in _DETERMINER_NEGATORS else _NEGATED_SPAN
            continue
        if not low[0].isalpha():
            left = 0  # a clause boundary ends the negation's reach
            continue
        words = content_words(low)
        if not words:
            continue
        for stem in words:
            (negated if left else asserted).setdefault(stem, token)
        if not (left and low in _TRANSPARENT):
            left = max(0, left - 1)
    both = asserted.keys() & negated.keys()
    return ({k: v for k, v in asserted.items() if k not in both},
            {k: v for k, v in negated.items() if k not in both})


def negation_conflict(sentence: str, evidence: str) -> str | None:
    """A word one text asserts and the other negates ("has been invited" against
    "has not been invited"), or None. Counting negators instead would be fooled
    by a negation in another clause of the passage's sentence."""
    said, denied = _polarity(sentence)
    ev_said, ev_denied = _polarity(evidence)
    for stem in sorted(said.keys() & ev_denied.keys()):
        return f"the passage negates “{ev_denied[stem]}”"
    for stem in sorted(denied.keys() & ev_said.keys()):
        return f"the sentence negates “{denied[stem]}”, which the passage asserts"
    # "likely" against "unlikely", "agree" against "disagree".
    words = {w.lower() for w in _WORD.findall(sentence)}
    ev_words = {w.lower() for w in _WORD.findall(evidence)}
    for a, b in ((words, ev_words), (ev_words, words)):
        for word in sorted(a):
            for prefix in _ANTONYM_PREFIXES:
                if len(word) >= 4 and prefix + word in b and prefix + word not in a:
                    return f"“{word}” against “{prefix + word}”"
    return None


@dataclass(frozen=True)
class PassageFacts:
    """What a passage offers to be checked against, precomputed once."""

    text: str  # normalised
    numbers: frozenset[str]
    months: frozenset[str]
    words: frozenset[str]  # name keys of every word (case-insensitive), the title's included
    acronyms: frozenset[str] = frozenset()  # initials of capitalised runs: "Members of Parliament" -> "mp"
    plain: str = ""  # the text as words only, for quotations

    @classmethod
    def of(cls, passage_text: str, title: str = "") -> "PassageFacts":
        both = f"{title} {passage_text}"
        written = [w.rstrip(".") for w in _WORD.findall(both)]
        # A name joined by a full stop ("ID.SPACE") also gives its parts, which a
        # sentence may write apart ("ID. SPACE"); `has_name` joins them the other way.
        words = {_name_key(w) for w in written} | {_name_key(part) for w in written for part in _dotted_parts(w)}
        return cls(normalise(passage_text), frozenset(numbers(passage_text)),
                   frozenset(months(passage_text)), frozenset(words), frozenset(acronyms(both)),
                   plain_words(passage_text))

    def has_number(self, number: str) -> bool:
        # A bare number in the sentence may be a percentage in the passage; not the reverse.
        return number in self.numbers or (not number.endswith("%") and f"{number}%" in self.numbers)

    def has_name(self, key: str) -> bool:
        if key in self.words or key.removesuffix("s") in self.acronyms:
            return True
        group = _ALIAS_OF.get(key)
        if group and any((" " in alias and alias in self.text) or alias in self.words for alias in group):
            return True
        # "Ukrainian" / "Ukraine", "Russian" / "Russia", "European" / "Europe".
        if len(key) >= 5:
            stem = key[:5]
            return any(w.startswith(stem) and abs(len(w) - len(key)) <= 3 for w in self.words)
        return False


_RUN = re.compile(r"[A-Z][a-z]+(?:\s+(?:of|the|and|for)?\s*[A-Z][a-z]+)+")


def acronyms(text: str) -> set[str]:
    """The initials of each run of capitalised words, lower case: "Members of
    Parliament" -> "mp", "United Nations" -> "un". Small words inside are skipped."""
    out = set()
    for run in _RUN.findall(text):
        initials = "".join(w[0] for w in run.split() if w[0].isupper())
        if len(initials) >= 2:
            out.add(initials.lower())
    return out


# A model that names its sources in words ("as stated in source 2", "according to
# sources 1 and 3") refers to the numbered list in its prompt: the number is a
# pointer, not a fact the passage should hold.
# A number in the list ends where it ends: "source 1, 75,000 refugees" names source 1 only.
_LISTED = r"\d{1,2}(?![.,]?\d)"
_SOURCE_REFERENCE = re.compile(
    rf"\b(?:sources?|passages?)\s+(?:no\.?\s*)?{_LISTED}(?:\s*(?:,|and|&|or)\s*{_LISTED})*\b", re.I)


def _dotted_parts(word: str) -> list[str]:
    """The parts of a name joined by full stops, each of two letters or more ("ID.SPACE"
    -> ID, SPACE); none for initials ("U.S") or a plain word."""
    parts = word.split(".")
    return parts if len(parts) > 1 and all(len(p) >= 2 for p in parts) else []


def missing_facts(sentence: str, passage: PassageFacts, known: set[str]) -> list[str]:
    """The facts of `sentence` that `passage` does not contain, as a reader would
    name them: '"18"', '"February"', 'the quotation "…"', 'the name Macron'."""
    sentence = _SOURCE_REFERENCE.sub(" ", sentence)
    missing: list[str] = []
    for number in sorted(numbers(sentence)):
        if not passage.has_number(number):
            missing.append(f"“{number}”")
    for month in sorted(months(sentence)):
        if month not in passage.months:
            missing.append(f"“{month.capitalize()}”")
    for phrase in quotations(sentence):
        if phrase not in passage.text and not quotation_in(phrase, passage.plain or plain_words(passage.text)):
            missing.append(f"the quotation “{phrase}”")
    spelled_out = {w.lower() for run in _RUN.findall(sentence) for w in run.split()
                   if "".join(x[0] for x in run.split() if x[0].isupper()).lower() in passage.words}
    for key, written in sorted(names(sentence, known).items()):
        parts = _dotted_parts(written)
        if not passage.has_name(key) and key not in spelled_out \
                and not (parts and all(passage.has_name(_name_key(p)) for p in parts)):
            missing.append(f"the name {written}")
    return missing
