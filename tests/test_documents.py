"""Splitting files into passages: pure functions on inline text, plus the seeds."""

import pytest

from rag.ingest.passages import is_debris, load_document, parse_document, word_count_tokens
from rag.types.errors import DocumentError

from conftest import SEEDS


def parse(text: str, source: str = "/docs/a.txt", max_tokens: int = 200):
    return parse_document(text, source, word_count_tokens, max_tokens, "hash")


def test_one_paragraph_per_line_with_a_headline_title():
    doc = parse("A Headline Without Final Punctuation\nFirst paragraph here.\nSecond paragraph here.\n")
    assert doc.title == "A Headline Without Final Punctuation"
    assert [p.text for p in doc.passages] == ["First paragraph here.", "Second paragraph here."]
    assert [p.ordinal for p in doc.passages] == [0, 1]


def test_blank_line_paragraphs_join_hard_wrapped_lines():
    text = "Title line\n\nThis paragraph is wrapped\nover two lines.\n\nAnother one.\n"
    doc = parse(text)
    assert [p.text for p in doc.passages] == ["This paragraph is wrapped\nover two lines.", "Another one."]


def test_a_file_that_opens_with_a_paragraph_keeps_it_and_titles_by_its_first_sentence():
    text = "Keir Starmer has warned Donald Trump not to turn his back on Ukraine. More follows.\nNext.\n"
    doc = parse(text)
    assert doc.title == "Keir Starmer has warned Donald Trump not to turn his back on Ukraine."
    assert doc.passages[0].text.startswith("Keir Starmer has warned")


def test_long_first_sentence_titles_are_shortened_at_a_word():
    sentence = "Word " * 40 + "end."
    doc = parse(sentence + "\n")
    assert len(doc.title) <= 100 and doc.title.endswith("…")


def test_headings_join_the_paragraph_that_follows():
    doc = parse("Title\nSection Heading\nThe paragraph under it.\nAnother paragraph.\n")
    assert [p.text for p in doc.passages] == ["Section Heading\nThe paragraph under it.", "Another paragraph."]


def test_markdown_headings_and_title():
    doc = parse("# My Notes\n\n## Budget\n\nWe spend 2.5% on it.\n\nA closing thought.\n", source="/n.md")
    assert doc.title == "My Notes"
    assert [p.text for p in doc.passages] == ["## Budget\nWe spend 2.5% on it.", "A closing thought."]


@pytest.mark.parametrize("line", [
    "Share:", "0 comments", "12 Comments", "Image 3139", "Image Credit (Shortened):", "(Image: Anadolu))",
    "AFP via Getty Images)", "Follow for more updates on Britannia Daily", "You may also like", "More for You",
    "Top Followed", "About Us", "Newsletter", "Text 1738609636636", "(",
    "Copyright ©️ 2024 Britannia Daily | All rights reserved.",
])
def test_web_page_debris_is_recognised(line):
    assert is_debris(line)


@pytest.mark.parametrize("line", [
    "Share prices fell 3% on Monday.", "The image of the summit was striking.",
    "Copyright law was also discussed at length by the committee, which met for the whole of a long day in June.",
    "About us, he said little.",
])
def test_real_sentences_are_not_debris(line):
    assert not is_debris(line)


def test_scraped_page_loses_debris_footer_and_repeated_headline():
    doc = load_document(SEEDS / "001_382f563c0c54cd26.txt", word_count_tokens, 200)
    assert doc.title == "Starmer Defies Trump on Ukraine’s NATO Ambitions as White House Summit Looms"
    texts = "\n".join(p.text for p in doc.passages)
    for debris in ("0 comments", "Image 3139", "Follow for more updates", "You may also like",
                   "Welcome to Britannia Daily", "Copyright", "Text 1738609636636", doc.title):
        assert debris not in texts
    assert doc.passages[0].text.startswith("Sir Keir Starmer has openly challenged")
    assert doc.passages[-1].text.startswith("For Starmer, navigating between")


def test_byline_and_date_survive_and_share_buttons_do_not():
    doc = load_document(SEEDS / "003_3377007ccdf28ba1.txt", word_count_tokens, 200)
    first = doc.passages[0].text
    assert first.startswith("Author: Pippa Crerar in Washington\nPublished: Feb, 26 2025 22:30\nPrime minister")
    assert all("Share:" not in p.text and "More for You" not in p.text for p in doc.passages)


def test_every_sentence_of_the_seeds_is_kept():
    """Each paragraph of an article (everything long before a page footer such as
    "Follow for more updates…", whose image credit and site blurb are dropped)
    appears, whole, in some passage."""
    for path in sorted(SEEDS.iterdir()):
        doc = load_document(path, word_count_tokens, 200)
        text = path.read_text(encoding="utf-8")
        article = text.split("Follow for more updates")[0]
        joined = "\n".join(p.text for p in doc.passages)
        for line in article.splitlines():
            line = line.strip()
            if len(line) > 120:
                assert line in joined, (path.name, line[:60])
        for p in doc.passages:  # offsets point at the passage's place in the file
            assert text[p.start:p.end].startswith(p.text.split("\n")[0])
            assert text[p.start:p.end].endswith(p.text.split("\n")[-1])


def test_long_paragraph_is_split_at_sentence_boundaries_without_loss():
    sentences = [f"Sentence number {i} has exactly eight words." for i in range(60)]
    text = "Title\n" + " ".join(sentences) + "\n"
    doc = parse(text, max_tokens=50)
    assert len(doc.passages) > 1
    for p in doc.passages:
        assert len(p.text.split()) <= 50
        assert p.text.endswith("words.")  # cut only between sentences
        assert text[p.start:p.end] == p.text
    assert " ".join(p.text for p in doc.passages) == " ".join(sentences)

def test_long_paragraph_windows_are_even_not_a_full_one_and_a_stub():
    # Ten seven-word sentences in windows of 64 words: filling greedily gives 63 + 7;
    # the same two windows can hold 35 + 35.
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(10)]
    doc = parse("Title\n" + " ".join(sentences) + "\n", max_tokens=64)
    sizes = [len(p.text.split()) for p in doc.passages]
    assert len(sizes) == 2 and min(sizes) >= 28, sizes
    assert " ".join(p.text for p in doc.passages) == " ".join(sentences)



def test_real_tokenizer_limit_is_respected(embedder):
    words = " ".join(f"Ukraine’s reconstruction costs rose in quarter {i}." for i in range(200))
    doc = parse_document("Title\n" + words, "/x.txt", embedder.count_tokens, embedder.max_tokens - 2)
    counts = embedder.count_tokens([p.text for p in doc.passages])
    assert len(doc.passages) > 3 and max(counts) <= embedder.max_tokens - 2
    assert " ".join(p.text for p in doc.passages) == words


def test_one_enormous_line_without_punctuation_is_cut_at_words_and_kept_whole():
    line = " ".join(f"w{i}" for i in range(5000))
    doc = parse("Title\n" + line, max_tokens=100)
    assert len(doc.passages) == 50
    assert " ".join(p.text for p in doc.passages) == line


def test_ids_are_stable_and_change_with_content():
    a = parse("Title\nOne.\nTwo.\n")
    b = parse("Title\nOne.\nTwo.\n")
    c = parse("Title\nOne.\nTwo changed.\n")
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert a.passages[0].id == c.passages[0].id and a.passages[1].id != c.passages[1].id
    doc_id, ordinal, digest = a.passages[1].id.split(":")
    assert doc_id == a.doc_id and ordinal == "1" and len(digest) == 12


def test_only_debris_is_an_error():
    with pytest.raises(DocumentError, match="no text left"):
        parse("Share:\n0 comments\n")
