"""`--only`: retrieval limited to some documents, in Chroma and BM25 alike, with the
real seed index and MiniLM model."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.retrieve.scope import matches, resolve_scope
from rag.types.scope import Scope
from rag.types.errors import ScopeError

from helpers import run

QUESTION = "What did Macron say about security guarantees for Ukraine?"


def test_a_pattern_picks_by_glob_on_the_path_or_words_of_the_path_or_title():
    source = "/home/ann/news/004_c47a76e7acbef03d.txt"
    title = "Starmer to press Trump on security guarantees"
    assert matches("004_*", source, title)  # a glob on the file name
    assert matches("/home/ann/news/*.txt", source, title)  # on the whole path
    assert matches("news/", source, title) and matches("C47A", source, title)  # a piece of the path, any case
    assert matches("security guarantees", source, title)  # words of the title
    assert matches("*Trump*", source, title)  # a glob on the title
    assert not matches("005_*", source, title) and not matches("Macron", source, title)
    assert not matches("  ", source, title)


def test_a_search_in_scope_finds_only_those_documents_with_either_retriever(seed_retriever):
    files = seed_retriever.index.manifest.files
    chosen = next(s for s in files if Path(s).name.startswith("001_"))
    unscoped = {h.passage.source for h in seed_retriever.search(QUESTION, 10)}
    assert len(unscoped) > 1  # without a scope several articles answer
    scope = Scope(("001_*",))
    for method in ("hybrid", "dense", "bm25"):
        hits = seed_retriever.search(QUESTION, 10, method=method, scope=scope)
        assert hits, method
        assert {h.passage.source for h in hits} == {chosen}, method
    # BM25 scores come from the scoped passages only; dense ranks too.
    hits = seed_retriever.search(QUESTION, 10, scope=scope)
    assert all(h.lexical_rank is None or h.lexical_rank <= len(files[chosen].passages) for h in hits)
    assert all(h.dense_rank is None or h.dense_rank <= len(files[chosen].passages) for h in hits)


def test_several_patterns_pick_every_document_any_of_them_picks(seed_retriever):
    files = seed_retriever.index.manifest.files
    scoped = resolve_scope(Scope(("000_*", "003_*")), files)
    assert sorted(Path(s).name[:4] for s in scoped.sources) == ["000_", "003_"]
    assert scoped.passage_ids == {pid for s in scoped.sources for pid in files[s].passages}
    hits = seed_retriever.search(QUESTION, 20, scope=Scope(("000_*", "003_*")))
    assert {h.passage.source for h in hits} <= set(scoped.sources)


def test_a_pattern_that_picks_nothing_names_it_and_some_titles(seed_retriever):
    with pytest.raises(ScopeError) as caught:
        seed_retriever.search(QUESTION, scope=Scope(("budget-2027*",)))
    error = caught.value
    assert error.pattern == "budget-2027*" and error.documents == 5 and len(error.some_titles) == 5
    assert "'budget-2027*' matches no document" in str(error) and "Starmer" in str(error)
    assert "\n" not in str(error)


def test_only_on_search_and_ask_from_the_command_line(seed_index, tmp_path):
    shutil.copytree(seed_index.index_dir, tmp_path / ".rag")
    found = run(["search", "--only", "001_*", "--json", "-k", "8", QUESTION], tmp_path)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert hits and {Path(h["source"]).name[:4] for h in hits} == {"001_"}

    asked = run(["ask", "--only", "001_*", "--only", "004_*", "--extractive", "--json", QUESTION], tmp_path)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert {Path(h["source"]).name[:4] for h in answer["retrieved"]} <= {"001_", "004_"}
    assert {Path(s["source"]).name[:4] for s in answer["cited_sources"]} <= {"001_", "004_"}

    for command in (["search", "--only", "no-such-file*", QUESTION],
                    ["ask", "--only", "no-such-file*", "--extractive", QUESTION]):
        refused = run(command, tmp_path)
        assert refused.returncode == 2 and refused.stdout == ""
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "'no-such-file*' matches no document" in lines[0] and "“" in lines[0], lines


def test_the_library_does_not_import_its_front_end(tmp_path):
    """`rag` sits below `tui`: the command-line package loads no Textual."""
    probe = "import rag, sys; import rag.cli; print('tui' in sys.modules, 'textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"], result.stderr
