"""Bylines and date lines at the top of a document, on the layouts news sites and
reports use, and prose that only looks like one."""
from rag.ingest.byline import Byline, find_byline
from rag.retrieve.question import asks_about_document, document_topic


def byline(*lines):
    return find_byline(lines, [("p1", " ".join(lines))])


def test_author_and_date_lines_are_found_with_the_passage_that_holds_them():
    found = byline("Starmer to press Trump on security guarantees", "Share:", "Author: Pippa Crerar in Washington",
                   "Published: Feb, 26 2025 22:30", "Prime minister faces a major diplomatic effort.")
    assert (found.author.value, found.author.quote, found.author.passage_id) == (
        "Pippa Crerar", "Author: Pippa Crerar in Washington", "p1")
    assert (found.published.value, found.published.quote) == ("Feb, 26 2025 22:30", "Published: Feb, 26 2025 22:30")
    assert Byline.from_json(found.to_json()) == found  # kept in the manifest as it is


def test_bylines_people_write():
    assert byline("By Jane Smith and John Doe, Political Editors").author.value == "Jane Smith and John Doe"
    assert byline("BY JOHN SMITH").author.value == "JOHN SMITH"
    assert byline("Written by Ana de la Cruz | Reuters").author.value == "Ana de la Cruz"
    assert byline("Tuesday 4 March 2025").published.value == "4 March 2025"
    assert byline("Updated: 2025-03-04").published.value == "2025-03-04"
    # Author and date on one line, as a page's text often runs them together.
    both = byline("Author: Pippa Crerar Published: Feb, 26 2025")
    assert both.author.quote == "Author: Pippa Crerar" and both.author.value == "Pippa Crerar"
    assert both.published.quote == "Published: Feb, 26 2025"


def test_prose_is_not_a_byline():
    assert not byline("By the end of the year, prices had risen.")
    assert not byline("By Monday Trump had agreed to the deal.")
    assert not byline("By Reuters")  # an agency alone names no writer
    assert not byline("The date of the vote: 4 March 2025 was chosen by the council.")
    # Only the top of a document: a "By …" line far down is not its byline.
    assert not find_byline(["Body text."] * 20 + ["By Jane Smith"], [("p1", "Body text. By Jane Smith")])
    # A line that no passage holds (dropped as page furniture) cannot be cited, so it is not kept.
    assert not find_byline(["By Jane Smith"], [("p1", "Something else entirely.")])


def test_questions_about_a_document_rather_than_its_content():
    assert asks_about_document("Who wrote the article about Starmer pressing Trump?") == "author"
    assert asks_about_document("Who is the author of the report on troops?") == "author"
    assert asks_about_document("By whom was the article written?") == "author"
    assert asks_about_document("When was the article about the summit published?") == "published"
    assert asks_about_document("On what date was this piece published?") == "published"
    for content in ("Who wrote the treaty?", "When was the treaty written?",
                    "Who was the president mentioned in the article?", "What did the article say about Lammy?"):
        assert asks_about_document(content) == ""
    assert document_topic("Who wrote the article about Starmer pressing Trump?") == "Starmer pressing Trump"
    assert document_topic("When was the article about the summit published?") == "the summit"


def test_a_web_pages_metadata_becomes_byline_lines_read_like_any_other():
    from rag.ingest.byline import metadata_lines

    lines = metadata_lines("Tom Krisher; Ap Auto Writer", "2019-11-20", "Connecticut Post")
    assert lines == ["By Tom Krisher and Ap Auto Writer", "Published: 2019-11-20", "Publisher: Connecticut Post"]
    found = find_byline(lines + ["The article."], [("p1", " ".join(lines + ["The article."]))])
    assert (found.author.value, found.published.value, found.publisher.value) == (
        "Tom Krisher and Ap Auto Writer", "2019-11-20", "Connecticut Post")
    assert metadata_lines(None, "", None) == []
    assert asks_about_document("Which newspaper published the story on GM?") == "publisher"
    assert asks_about_document("Who published the treaty?") == ""
