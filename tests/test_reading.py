"""Bad input: each case is a one-line reason naming the file, and the rest goes on."""
import os
from pathlib import Path

import pytest

from rag.cli.advice import explain_problem

from rag.ingest import passages as documents
from rag.ingest.passages import decode, discover, read_text
from rag.ingest.pipeline import plan_changes
from rag.types.errors import DocumentError


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def reason(path: Path) -> str:
    with pytest.raises(DocumentError) as info:
        read_text(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    return info.value.reason


def test_missing_file(tmp_path):
    assert reason(tmp_path / "nope.txt") == "no such file"


def test_empty_and_whitespace_only_files(tmp_path):
    assert "empty" in reason(write(tmp_path / "e.txt", b""))
    assert "empty" in reason(write(tmp_path / "w.txt", b"  \n\n\t \n"))


def test_binary_file(tmp_path):
    assert "binary" in reason(write(tmp_path / "b.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR"))


def test_not_utf8_names_the_byte_and_the_fix(tmp_path):
    text = reason(write(tmp_path / "latin.txt", "café au lait".encode("latin-1")))
    assert "not UTF-8" in text and "0xe9" in text and "iconv" in text


def test_unreadable_file(tmp_path, monkeypatch):
    """Tests run as root here, and root reads a chmod-000 file anyway, so when the
    permission bit does not bite we make the read itself fail with EACCES, the
    error the OS gives an ordinary user."""
    path = write(tmp_path / "secret.txt", b"hidden text")
    path.chmod(0)
    if os.access(path, os.R_OK):
        real = Path.read_bytes

        def denied(self):
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", denied)
    assert reason(path) == "cannot read: permission denied"


def test_utf16_with_bom_and_crlf_are_read(tmp_path):
    path = write(tmp_path / "u16.txt", "Title\r\nLine one.\r\n".encode("utf-16"))
    text, _ = read_text(path)
    assert text == "Title\nLine one.\n"


def test_a_file_over_the_size_limit_is_skipped_naming_the_setting(tmp_path):
    from rag.config import Settings

    write(tmp_path / "big.txt", b"Big file.\n" * 200)  # 2,000 bytes
    write(tmp_path / "small.txt", b"Small file.\n")
    limit = Settings(max_file_mb=1000 / 2**20)
    changes = plan_changes([tmp_path], None, lambda: documents.word_count_tokens, 200, settings=limit)
    assert [Path(d.source).name for d in changes.documents] == ["small.txt"]
    (problem,) = changes.problems
    assert problem.path.endswith("big.txt") and "over the limit" in problem.reason
    assert "--max-file-mb" in explain_problem(problem) and "--" not in problem.reason


def test_discover_walks_folders_skips_hidden_and_counts_other_types(tmp_path):
    write(tmp_path / "a.txt", b"A\nx.")
    write(tmp_path / "sub" / "deeper" / "b.md", b"# B\n\nx.")
    write(tmp_path / "sub" / "pic.png", b"\x89PNG")  # an image: read by OCR
    write(tmp_path / "sub" / "song.mp3", b"ID3")
    write(tmp_path / ".hidden" / "c.txt", b"C\nx.")
    write(tmp_path / ".dotfile.txt", b"D\nx.")
    write(tmp_path / "sheet.xlsx", b"PK")
    files, problems, other = discover([tmp_path])
    assert [f.name for f in files] == ["a.txt", "pic.png", "b.md"]
    assert problems == [] and other == {".mp3": 1, ".xlsx": 1}


def test_discover_reports_missing_paths_and_named_unsupported_files(tmp_path):
    sheet = write(tmp_path / "sheet.xlsx", b"PK")
    files, problems, _ = discover([tmp_path / "missing", sheet])
    assert files == []
    assert problems[0].reason == "no such file or folder"
    assert problems[1].reason.startswith("unsupported file type '.xlsx' (supported: .docx, .epub, .htm, .html,")


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    write(tmp_path / "good.txt", b"Good\nA fine paragraph.")
    write(tmp_path / "bad.txt", b"\xfa\xfb broken")
    write(tmp_path / "empty.txt", b"")
    changes = plan_changes([tmp_path], None, lambda: documents.word_count_tokens, 200)
    assert [Path(d.source).name for d in changes.documents] == ["good.txt"]
    assert sorted(Path(p.path).name for p in changes.problems) == ["bad.txt", "empty.txt"]


def test_decode_rejects_nul_even_when_mostly_text():
    with pytest.raises(DocumentError, match="binary"):
        decode(b"plain text\x00more", "x.txt")
