"""Ingesting PDF, Word, web pages and e-books as a user does: the `rag` command in a
real subprocess, the real embedding model and Chroma store, files made by real
tools (tests/document_fixtures.py). Bad files cost one line each and nothing else."""
from __future__ import annotations

import json
import zipfile

import pytest

from rag.cli.advice import explain

import document_fixtures as fx
from rag.index.manifest import read_manifest
from rag.ingest.pipeline import ingest_paths
from rag.wiring import open_retriever

from conftest import make_settings
from helpers import assert_no_traceback, run

CAPE_WRATH = "How many ships did the keeper at Cape Wrath count passing the northern cape?"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A folder with one good file of each format and five bad ones, ingested once."""
    root = tmp_path_factory.mktemp("formats")
    docs = fx.one_of_each(root / "docs")
    fx.report_pdf(docs / "locked.pdf", encrypt="secret")
    fx.image_only_pdf(docs / "scan.pdf")
    fx.scanned_pdf(docs / "survey.pdf", cover="The cover letter says that the survey follows as a scan.")
    (docs / "liar.pdf").write_text("Plain text that claims to be a PDF.\n", encoding="utf-8")
    with zipfile.ZipFile(docs / "broken.docx", "w") as archive:
        archive.writestr("readme.txt", "not a Word package")
    (docs / "menu.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    result = run(["ingest", "docs"], cwd=root)
    return root, result


def test_every_format_is_ingested_and_each_bad_file_is_one_line(library):
    root, result = library
    assert_no_traceback(result)
    assert result.returncode == 1, result.stderr
    assert "added 5, updated 0, removed 0, unchanged 0" in result.stdout
    problems = [line for line in result.stderr.splitlines() if line.startswith("rag: skipped")]
    expected = {"locked.pdf": "password-protected", "scan.pdf": "no text layer, and OCR found no text",
                "liar.pdf": "not a PDF", "broken.docx": "damaged Word file", "menu.html": "no main content"}
    assert len(problems) == len(expected), problems
    for name, reason in expected.items():
        assert any(name in line and reason in line for line in problems), (name, problems)


def test_status_lists_every_file_indexed_or_skipped_with_its_reason(library):
    root, _ = library
    listed = run(["status", "--files", "--json"], cwd=root)
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    assert report["complete"] is True
    files = {f["source"].split("/")[-1]: f for f in report["files"]}
    indexed = {name for name, f in files.items() if f["state"] == "indexed"}
    assert indexed == {"report.pdf", "review.docx", "barrier.html", "tales.epub", "survey.pdf"}
    for name in indexed:
        assert files[name]["passages"] > 0 and files[name]["read_at"] and files[name]["reason"] is None
    assert files["survey.pdf"]["pages"] >= 2 and files["survey.pdf"]["ocr_pages"] >= 1  # a cover, then a scan
    skipped = {name: f["reason"] for name, f in files.items() if f["state"] == "skipped"}
    for name, reason in {"locked.pdf": "password-protected", "scan.pdf": "OCR found no text", "liar.pdf": "not a PDF",
                         "broken.docx": "damaged Word file", "menu.html": "no main content"}.items():
        assert reason in skipped[name], (name, skipped)
    assert files["locked.pdf"]["passages"] == 0

    summary = run(["status"], cwd=root)
    assert "5 indexed, 5 skipped, 0 changed, 0 gone" in summary.stdout, summary.stdout


def test_a_question_answered_on_page_3_is_cited_with_page_3(library):
    root, _ = library
    result = run(["ask", "--extractive", "--json", CAPE_WRATH], cwd=root)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    [cited] = answer["cited_sources"]
    assert cited["page"] == 3 and cited["source"].endswith("report.pdf")
    assert ", p. 3, ¶" in cited["label"] and cited["section"] == "2 Traffic"
    assert all({"source", "page", "section"} <= set(hit) for hit in answer["retrieved"])


def test_a_question_answered_only_on_a_scanned_page_is_cited_with_that_page(library):
    """survey.pdf: a page of text, then page 1 of a real paper as a picture only."""
    root, result = library
    assert any("survey.pdf: 1 page read by OCR" in line for line in result.stderr.splitlines()), result.stderr
    [entry] = [e for source, e in read_manifest(root / ".rag").files.items() if source.endswith("survey.pdf")]
    assert entry.ocr_pages == 1
    answer = json.loads(run(["ask", "--extractive", "--json", "From which format was MADR derived?"],
                            cwd=root).stdout)
    assert "Y-Statements" in answer["answer"]
    assert any(c["source"].endswith("survey.pdf") and c["page"] == 2 for c in answer["cited_sources"]), answer


def test_show_prints_what_was_read_from_one_file(library):
    root, _ = library
    result = run(["show", "--json", "report.pdf"], cwd=root)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["title"] == "Lighthouse Board Annual Report"
    pages = {p["page"] for p in shown["passages"]}
    assert pages == {1, 2, 3, 4}
    assert not any(fx.HEADER in p["text"] for p in shown["passages"])
    text = run(["show", "review.docx"], cwd=root)
    assert "§Findings › Pilots" in text.stdout and "Northgate | 148" in text.stdout


def test_a_web_pages_byline_answers_who_wrote_it(library):
    """The saved page names its writer above the article; its metadata carries it, and
    the answer quotes it from the passage where the reader put it."""
    root, _ = library
    result = run(["ask", "--extractive", "--json", "Who wrote the article about the council's flood barrier?"],
                 cwd=root)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answer"] == "By A Reporter [1]", answer["answer"]
    [cited] = answer["cited_sources"]
    assert cited["source"].endswith("barrier.html") and answer["answers_question"] is True
    shown = json.loads(run(["show", "--json", "barrier.html"], cwd=root).stdout)
    assert shown["byline"]["author"]["value"] == "A Reporter" and "published" not in shown["byline"]


def test_batch_answers_every_question_as_json_lines(library):
    root, _ = library
    questions = root / "questions.txt"
    questions.write_text(f"{CAPE_WRATH}\n\nWhat will the flood barrier cost?\n", encoding="utf-8")
    result = run(["ask", "--extractive", "--batch", str(questions), "--json"], cwd=root)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == [CAPE_WRATH, "What will the flood barrier cost?"]
    assert answers[1]["cited_sources"][0]["source"].endswith("barrier.html")
    markdown = run(["ask", "--extractive", "--batch", "-", "--format", "markdown"], cwd=root,
                   input=questions.read_text(encoding="utf-8"))
    assert markdown.stdout.count("\n## ") + markdown.stdout.startswith("## ") == 2
    assert "[^1]:" in markdown.stdout and "[^2]:" in markdown.stdout and ", p. 3, ¶" in markdown.stdout


def test_check_accepts_page_references(library):
    root, _ = library
    draft = root / "draft.md"
    draft.write_text("The keeper at Cape Wrath counted 4,812 ships passing the northern cape in 2023 [1]. "
                     "Spending on the foghorn station rose to 1.2 million pounds [2].\n\n## Sources\n"
                     "[1] docs/report.pdf#p3\n[2] Lighthouse Board Annual Report, p. 4\n", encoding="utf-8")
    result = run(["check", "--json", str(draft)], cwd=root)
    assert_no_traceback(result)
    verdicts = json.loads(result.stdout)
    assert verdicts["unresolved_sources"] == []
    assert [s["verdict"] for s in verdicts["sentences"]] == ["supported", "supported"], verdicts


def test_check_accepts_a_whole_document_and_names_the_page(library):
    """A source line that names only the file: the checker finds the page itself."""
    root, _ = library
    draft = root / "whole.md"
    draft.write_text("The keeper at Cape Wrath counted 4,812 ships passing the northern cape in 2023 [1]. "
                     "The keeper at Cape Wrath counted 5,000 ships [1].\n\n## Sources\n[1] docs/report.pdf\n",
                     encoding="utf-8")
    data = json.loads(run(["check", "--json", str(draft)], cwd=root).stdout)
    assert data["unresolved_sources"] == [] and data["sources"]["1"].endswith("whole document)")
    stated, changed = data["sentences"]
    assert stated["verdict"] == "supported" and ", p. 3, ¶" in stated["evidence"]["label"]
    assert changed["verdict"] == "unsupported" and "“5000” is not in [1]" in changed["reason"]
    text = run(["check", str(draft)], cwd=root).stdout
    assert "stated in Lighthouse Board Annual Report, p. 3, ¶" in text, text


def test_unchanged_files_are_not_read_again(library):
    root, _ = library
    again = run(["ingest", "docs"], cwd=root)
    assert "added 0, updated 0, removed 0, unchanged 5" in again.stdout


def test_a_pdf_that_turns_damaged_keeps_its_passages(tmp_path, embedder, embedder_factory):

    docs = tmp_path / "docs"
    docs.mkdir()
    pdf = fx.report_pdf(docs / "report.pdf")
    settings = make_settings(tmp_path / "idx")
    ingest_paths([docs], settings, embedder_factory)
    before = read_manifest(settings.index_dir)
    pdf.write_bytes(pdf.read_bytes()[:700])
    report = ingest_paths([docs], settings, embedder_factory)
    assert [p.reason.split(":")[0] for p in report.problems] == ["damaged or truncated PDF"]
    assert read_manifest(settings.index_dir).files == before.files
    [top] = open_retriever(settings, embedder=embedder).search(CAPE_WRATH, 1)
    assert top.passage.page == 3 and "4,812 ships" in top.passage.text


def test_a_reader_past_its_time_limit_is_stopped_and_the_rest_goes_on(tmp_path, embedder_factory):
    """The limit is set below the time a worker takes to start, so that the PDF's
    reader is stopped for certain; a real hang cannot be produced on demand."""
    docs = tmp_path / "docs"
    docs.mkdir()
    fx.report_pdf(docs / "report.pdf")
    (docs / "note.txt").write_text("Note\nThe tide table changes in May.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "idx", read_timeout_s=0.01)
    report = ingest_paths([docs], settings, embedder_factory)
    assert [p.path.rsplit("/", 1)[-1] for p in report.problems] == ["report.pdf"]
    assert "made no progress for 0.01 s" in report.problems[0].reason
    assert [a.rsplit("/", 1)[-1] for a in report.added] == ["note.txt"]


@pytest.fixture
def four_formats(tmp_path):
    return fx.one_of_each(tmp_path / "docs")


def test_an_interrupted_ingest_of_every_format_leaves_the_previous_index_whole(
        tmp_path, four_formats, embedder, embedder_factory, monkeypatch):
    """The interruption is injected at the commit point (a KeyboardInterrupt from
    write_manifest), as in tests/test_ingest.py: a real Ctrl-C cannot be timed."""
    import rag.ingest.pipeline as ingest_module

    settings = make_settings(tmp_path / "idx")
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nThe ferry runs twice a day.\n", encoding="utf-8")
    ingest_paths([note], settings, embedder_factory)
    before = read_manifest(settings.index_dir)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_module, "write_manifest", interrupt)
    with pytest.raises(KeyboardInterrupt):  # all four formats read and embedded, not committed
        ingest_paths([four_formats], settings, embedder_factory)
    monkeypatch.undo()
    assert read_manifest(settings.index_dir) == before
    report = ingest_paths([four_formats], settings, embedder_factory)
    assert len(report.added) == 4 and report.documents_total == 5 and not report.problems


def test_another_embedding_model_is_refused_for_every_format(tmp_path, four_formats, embedder, embedder_factory):
    import shutil

    from rag.types.errors import ModelMismatchError

    settings = make_settings(tmp_path / "idx")
    report = ingest_paths([four_formats], settings, embedder_factory)
    assert report.documents_total == 4 and not report.problems
    other = tmp_path / "other-model"
    shutil.copytree(embedder.location.path, other)
    with pytest.raises(ModelMismatchError) as info:
        ingest_paths([four_formats], settings.replace(embed_model=str(other)), embedder_factory)
    assert "--rebuild" in explain(info.value)
    assert read_manifest(settings.index_dir).embed_model == embedder.name


def test_an_index_written_before_pages_and_sections_opens():
    """Passages stored before this change have no page or section keys."""
    from rag.types.corpus import Passage

    old = {"doc_id": "d", "source": "/x/a.txt", "title": "A", "ordinal": 2, "start": 10, "end": 40}
    passage = Passage.from_metadata("d:2:abc", "Some text.", old)
    assert (passage.page, passage.last_page, passage.section) == (None, None, "")
    assert passage.label == "A, ¶3" and passage.to_metadata() == old


def test_a_partly_scanned_pdf_is_ingested_with_a_note(tmp_path, embedder_factory):
    docs = tmp_path / "docs"
    docs.mkdir()
    fx.image_only_pdf(docs / "letter.pdf", text_first_page=True)
    report = ingest_paths([docs], make_settings(tmp_path / "idx"), embedder_factory)
    assert len(report.added) == 1 and not report.problems
    # The scanned page is a blank picture: OCR ran and found nothing on it.
    assert [w.reason for w in report.warnings] == ["OCR found no text on 1 of the 1 pages without a text layer"]


def test_a_long_scan_that_progresses_outlives_the_read_time_limit(tmp_path, embedder_factory):
    """Four scanned pages of a real paper, with a read time limit of 2.5 times what
    one page's OCR takes on this machine (measured first): the whole file takes
    longer than the limit, so only the limit's restart at each page lets it finish."""
    import time

    from rag.ingest.readers import read

    docs = tmp_path / "docs"
    docs.mkdir()
    one = fx.scanned_pdf(tmp_path / "one.pdf", source=fx.BENCHDATA / "pdfs-more" / "gadr.pdf", pages=(2,))
    started = time.perf_counter()
    read(one.read_bytes(), str(one))
    page_s = time.perf_counter() - started
    fx.scanned_pdf(docs / "scan.pdf", source=fx.BENCHDATA / "pdfs-more" / "gadr.pdf", pages=(1, 2, 3, 2))
    pages_seen = []
    started = time.perf_counter()
    report = ingest_paths([docs], make_settings(tmp_path / "idx", read_timeout_s=2.5 * page_s), embedder_factory,
                          progress=lambda stage, done, total: pages_seen.append((done, total)) if stage == "pages"
                          else None)
    assert time.perf_counter() - started > 2.5 * page_s  # longer than the limit, as a whole
    assert not report.problems, report.problems
    [entry] = read_manifest(tmp_path / "idx").files.values()
    assert entry.ocr_pages == 4
    assert (8, 8) in pages_seen  # the 4 pages read for their text layer, then 4 by OCR


def test_a_scan_may_be_larger_than_the_size_limit_for_text(tmp_path, embedder_factory):
    """Scans are pictures: a PDF or an image may be 16 times --max-file-mb."""
    docs = tmp_path / "docs"
    docs.mkdir()
    scan = fx.scanned_pdf(docs / "scan.pdf")
    size_mb = scan.stat().st_size / 2**20
    (docs / "big.txt").write_text("The harbour wall was rebuilt in stone. " * int(size_mb * 2**20 / 40 + 1000))
    report = ingest_paths([docs], make_settings(tmp_path / "idx", max_file_mb=size_mb / 2), embedder_factory)
    assert [p.path.rsplit("/", 1)[-1] for p in report.problems] == ["big.txt"]
    assert "over the limit" in report.problems[0].reason
    assert [a.rsplit("/", 1)[-1] for a in report.added] == ["scan.pdf"]
