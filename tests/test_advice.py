"""The words of remedies: the library's errors name settings, and each front end
words them as its user can act on them (rag/cli/advice.py)."""
from rag.cli.advice import Audience, advise, explain, explain_problem, word
from rag.types.corpus import FileProblem
from rag.types.errors import DocumentError, Fix, IndexNotFoundError, ModelMismatchError, Remedy


def test_every_fix_is_worded_for_both_audiences():
    for fix in Fix:
        remedy = Remedy(fix, "max_file_mb", "8", settings=(("embed_precision", "float32"),))
        for audience in Audience:
            words = word(remedy, audience)
            assert words and words != str(fix) and "Fix." not in words and "\n" not in words


def test_the_command_line_gets_flags_and_the_app_gets_config_keys():
    problem = FileProblem("big.pdf", "80.0 MB, over the limit of 64 MB", (Remedy(Fix.RAISE, "max_file_mb"),))
    assert explain_problem(problem) == ("big.pdf: 80.0 MB, over the limit of 64 MB "
                                        "(raise it with --max-file-mb or max_file_mb in rag.toml)")
    assert explain_problem(problem, Audience.APP) == "big.pdf: 80.0 MB, over the limit of 64 MB (raise max_file_mb in rag.toml)"
    off = DocumentError("scan.png", "an image is read only by OCR, which is turned off", Remedy(Fix.TURN_ON, "ocr"))
    assert explain(off).endswith("turned off; leave out --no-ocr")
    assert explain(off, Audience.APP).endswith("turned off; set ocr = true in rag.toml")
    assert "--" not in str(off)


def test_a_rebuild_names_the_flags_it_needs_and_remedies_join_with_or():
    error = ModelMismatchError("the index holds int8 vectors, not float32",
                               Remedy(Fix.LEAVE_OUT, "embed_precision", note="to use it"),
                               Remedy(Fix.REBUILD, settings=(("embed_precision", "float32"),)))
    assert explain(error) == ("the index holds int8 vectors, not float32; leave out --embed-precision to use it, "
                              "or rebuild it with `rag ingest --rebuild --embed-precision float32 PATH …`")
    assert advise(()) == "" and explain(ModelMismatchError("plain")) == "plain"


def test_the_old_wording_of_a_missing_index_is_kept_at_the_edge():
    assert explain(IndexNotFoundError(".rag")) == "no index in .rag; build one with `rag ingest PATH …` (e.g. `rag ingest seeds/`)"
    assert explain(IndexNotFoundError("x.txt", is_file=True)) == \
        "x.txt is a file, not an index folder; point --index-dir (or RAG_INDEX_DIR) at a writable folder"
