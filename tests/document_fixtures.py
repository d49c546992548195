"""Real documents for the reader tests, made with real tools: PDFs with reportlab
(laid out line by line, as typesetting software does: running header and footer,
page numbers, a word hyphenated at a line end, ligature characters, a two-column
page, an encrypted file, an image-only page), Word files with python-docx, web
pages with boilerplate around the article, and a small EPUB zipped by hand."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

HEADER = "Lighthouse Board Annual Report 2023"
PAGE_SENTENCES = {  # one sentence that can only be on its page
    1: "The board met eleven times during the year to review the coastal beacons.",
    2: "Storm damage closed the southern jetty for nine weeks in February and March.",
    3: "The keeper at Cape Wrath counted 4,812 ships passing the northern cape in 2023.",
}
SPANNING = ("The restoration of the old lens tower continued through the winter months and the "
            "engineers replaced every corroded bolt in the lantern room before the spring inspection.")
# Lines of at most 30 characters: each column is 200 points wide.
LEFT_COLUMN = ["Column one is about the pilots", "who guided 312 vessels safely", "into the port, most of them at",
               "night during the autumn gales", "and the worst of the storms of", "the early winter of that year."]
RIGHT_COLUMN = ["Column two covers the repairs", "as spending on the old foghorn", "station rose to 1.2 million",
                "pounds this year, twice what", "the board had planned for it", "in the budget of the spring."]


def _vera(canvas_module) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    import reportlab

    path = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")
    pdfmetrics.registerFont(TTFont("Vera", path))
    return "Vera"


def report_pdf(path: Path, encrypt: str | None = None) -> Path:
    """Four pages: three single-column, one two-column. Body type 11 pt on 14 pt
    lines; a new paragraph is indented; header and footer repeat on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    c.setTitle("Lighthouse Board Annual Report")
    font = _vera(canvas)
    width, height = A4
    left, right_edge = 72, width - 72

    def furniture(number: int) -> None:
        c.setFont(font, 9)
        c.drawString(left, height - 40, HEADER)
        c.drawRightString(right_edge, 30, f"Page {number}")

    def paragraph(lines: list[str], y: float, x: float = left) -> float:
        c.setFont(font, 11)
        for i, line in enumerate(lines):
            c.drawString(x + (18 if i == 0 else 0), y, line)
            y -= 14
        return y - 4

    # Page 1: a heading, a paragraph with a hyphenated word and ligatures, and a
    # paragraph that runs onto page 2.
    furniture(1)
    c.setFont(font, 16)
    c.drawString(left, height - 90, "1 Operations")
    y = paragraph(["The \ufb01nancial year brought a steady evolu-",
                   "tion of the service along the whole coast."], height - 120)
    y = paragraph([PAGE_SENTENCES[1], "Attendance was \ufb02awless at every meeting of the board."], y)
    stations = ["Ardnamurchan", "Bell Rock", "Corsewall", "Dunnet Head", "Eilean Glas", "Fair Isle",
                "Girdle Ness", "Hoy", "Inchkeith", "Kinnaird Head", "Lismore", "Muckle Flugga",
                "Noss Head", "Out Skerries", "Pentland Skerries", "Rubh Re", "Sanda", "Tod Head"]
    for station in stations:
        if y < 120:
            break
        y = paragraph(["The inspectors walked along the coast and wrote down",
                       f"what they saw at {station}."], y)
    words = SPANNING.split()
    c.setFont(font, 11)
    c.drawString(left + 18, y, " ".join(words[:8]))
    c.drawString(left, y - 14, " ".join(words[8:15]))
    c.showPage()
    furniture(2)
    c.setFont(font, 11)
    c.drawString(left, height - 90, " ".join(words[15:]))
    y = paragraph([PAGE_SENTENCES[2], "Repairs were finished before the summer season."], height - 108)
    c.showPage()
    furniture(3)
    c.setFont(font, 16)
    c.drawString(left, height - 90, "2 Traffic")
    paragraph([PAGE_SENTENCES[3], "That is the highest count since records began in 1952."], height - 120)
    c.showPage()
    furniture(4)
    mid = width / 2
    paragraph(LEFT_COLUMN, height - 100, left)
    paragraph(RIGHT_COLUMN, height - 100, mid + 10)
    c.showPage()
    c.save()
    return path


def image_only_pdf(path: Path, text_first_page: bool = False) -> Path:
    """A scan: pages that are only an image; with `text_first_page`, a first page of
    text before the scanned one."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (200, 100), "white")
    c = canvas.Canvas(str(path), pagesize=A4)
    if text_first_page:
        c.setFont(_vera(canvas), 11)
        c.drawString(72, 700, "The cover letter explains that the survey pages follow as scans.")
        c.showPage()
    c.drawImage(ImageReader(image), 72, 500, 400, 200)
    c.showPage()
    c.save()
    return path


# The development PDFs beside the repository (../shared, as CI has it).
BENCHDATA = Path(__file__).resolve().parents[2] / "shared" / "benchdata"
SCANNED_SOURCE = BENCHDATA / "pdfs-more" / "gadr.pdf"  # a real paper; its page 1 becomes a scan
SCANNED_SENTENCE = "MADR was derived from the Y-Statements"  # on that page, and only there


def page_image(source: Path, page: int, dpi: int = 200):
    """A page of a real PDF rendered by PDFium, as a PIL image (what a scanner makes)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(source))
    try:
        return document[page - 1].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()


def scanned_pdf(path: Path, source: Path = SCANNED_SOURCE, pages: tuple[int, ...] = (1,),
                cover: str | None = None) -> Path:
    """An image-only PDF made from pages of a real PDF: each rendered to an image
    and placed on a page of its own, so that only OCR can read it. With `cover`, a
    first page of real text comes before the scans (a partly scanned file)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(595, 842))
    if cover:
        c.setFont(_vera(canvas), 11)
        c.drawString(72, 700, cover)
        c.showPage()
    for page in pages:
        c.drawImage(ImageReader(page_image(source, page)), 0, 0, 595, 842)
        c.showPage()
    c.save()
    return path


def word_file(path: Path) -> Path:
    """Title, headings at two levels, paragraphs, a table, and a footnote (written
    into the package by hand: python-docx cannot add one)."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Harbour Safety Review"
    document.add_heading("Harbour Safety Review", level=0)
    document.add_heading("Findings", level=1)
    document.add_paragraph("The review found that the eastern breakwater needs new lighting.")
    document.add_heading("Pilots", level=2)
    document.add_paragraph("Pilot boats answered every distress call within twenty minutes.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Station", "Calls answered"
    table.cell(1, 0).text, table.cell(1, 1).text = "Northgate", "148"
    document.add_heading("Recommendations", level=1)
    document.add_paragraph("Install two additional beacons before the winter of 2025.")
    buffer = io.BytesIO()
    document.save(buffer)
    footnotes = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:t>---</w:t></w:r></w:p></w:footnote>'
        '<w:footnote w:id="1"><w:p><w:r><w:t>Figures supplied by the coastguard in January.</w:t></w:r></w:p>'
        '</w:footnote></w:footnotes>')
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("word/footnotes.xml", footnotes)
    path.write_bytes(buffer.getvalue())
    return path


ARTICLE = [
    "The city council approved a new flood barrier on Tuesday after a two-hour debate.",
    "Construction of the barrier will start in April and cost an estimated 40 million euros.",
    "Residents of the lower town have asked for protection since the floods of 2021.",
]
BOILERPLATE = ["Accept all cookies", "Sign up for our newsletter", "Most read this week",
               "Contact us", "Privacy policy"]


def news_page(path: Path) -> Path:
    menu = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(8))
    related = "".join(f'<li><a href="/r{i}">Related story number {i} about something else entirely</a></li>'
                      for i in range(6))
    paragraphs = "".join(f"<p>{text} {text}</p>" for text in ARTICLE)
    path.write_text(f"""<!DOCTYPE html><html><head><title>Council approves flood barrier | Daily Bugle</title>
<meta property="og:title" content="Council approves flood barrier"></head><body>
<div class="cookie-banner">{BOILERPLATE[0]} <button>OK</button></div>
<nav><ul>{menu}</ul></nav>
<article><h1>Council approves flood barrier</h1>
<p class="byline">By A. Reporter</p>{paragraphs}
<h2>What happens next</h2><p>The council will publish the full plans next month for public comment, and
residents may object in writing until the end of the summer.</p></article>
<aside><h3>{BOILERPLATE[2]}</h3><ul>{related}</ul></aside>
<footer><p>{BOILERPLATE[1]}</p><a href="/c">{BOILERPLATE[3]}</a> <a href="/p">{BOILERPLATE[4]}</a></footer>
</body></html>""", encoding="utf-8")
    return path


CHAPTERS = {
    "chapter_b.xhtml": ("The Voyage Out", ["The ship left harbour at dawn with forty passengers aboard.",
                                           "By noon the wind had turned against them."]),
    "chapter_a.xhtml": ("The Return", ["They came home after three years at sea.",
                                       "The harbour master did not recognise them."]),
}


def small_epub(path: Path) -> Path:
    """Two chapters whose spine order (b, then a) is not their files' order."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>""")
        archive.writestr("OEBPS/content.opf", """<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Tales of the Sea</dc:title>
<dc:identifier id="id">x</dc:identifier></metadata>
<manifest><item id="a" href="text/chapter_a.xhtml" media-type="application/xhtml+xml"/>
<item id="b" href="text/chapter_b.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="b"/><itemref idref="a"/></spine></package>""")
        for name, (heading, paragraphs) in CHAPTERS.items():
            body = "".join(f"<p>{p}</p>" for p in paragraphs)
            archive.writestr(f"OEBPS/text/{name}", f"""<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{heading}</title></head>
<body><h1>{heading}</h1>{body}</body></html>""")
    return path


def one_of_each(folder: Path) -> Path:
    """A folder with one good file of each format beyond plain text."""
    folder.mkdir(parents=True, exist_ok=True)
    report_pdf(folder / "report.pdf")
    word_file(folder / "review.docx")
    news_page(folder / "barrier.html")
    small_epub(folder / "tales.epub")
    return folder
