"""The evaluation metrics, the question-file reader, and the seed question set."""

import pytest

from rag.ingest.passages import load_document, word_count_tokens
from rag.evaluation.retrieval import evaluate, first_relevant_rank, is_relevant, load_questions, summarise
from rag.types.errors import EvalFileError

from conftest import QUESTIONS, SEEDS


def test_summarise_is_exact():
    figures = summarise([1, 3, None, 7])
    assert figures == {"recall@1": 0.25, "recall@5": 0.5, "recall@10": 0.75,
                       "mrr": round((1 + 1 / 3 + 1 / 7) / 4, 4)}


def test_relevance_ignores_case_spacing_and_curly_quotes():
    assert is_relevant("He said  “Not\nrealistic” today", ['said "not realistic"'])
    assert not is_relevant("nothing here", ["realistic"])
    assert first_relevant_rank(["a", "b target", "target"], ["target"]) == 2


@pytest.mark.parametrize("line, message", [
    ('{"id": "q1"}', "line 1: 'question'"),
    ('{"id": "q1", "question": "  "}', "non-empty string"),
    ('{"id": "q1", "question": "x", "evidence": "phrase"}', "list of non-empty strings"),
    ("not json", "line 1"),
])
def test_bad_question_files_name_the_line(tmp_path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(EvalFileError, match=message):
        load_questions(path)


def test_the_seed_question_set_is_well_formed():
    questions = load_questions(QUESTIONS)
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 25 and len(questions) - len(answerable) >= 3
    passages = [p for f in sorted(SEEDS.iterdir()) for p in load_document(f, word_count_tokens, 10_000).passages]
    for q in answerable:  # each evidence phrase occurs verbatim in a seed passage
        assert any(is_relevant(p.text, q.evidence) for p in passages), q.id


def test_hybrid_recall_at_5_on_the_seed_questions(seed_retriever):
    result = evaluate(seed_retriever, load_questions(QUESTIONS))
    assert set(result.metrics) == {"dense", "bm25", "hybrid"}
    assert result.metrics["hybrid"]["recall@5"] >= 0.95, result.misses


def test_key_token_scoring_passes_a_paraphrase_and_fails_a_wrong_or_partial_answer():
    from rag.evaluation.retrieval import holds_key_tokens

    expected = ["89 votes in favor, eight against and 70 abstentions"]
    assert holds_key_tokens("It got 89 votes in favour, 8 against, with 70 abstaining. [1]", expected)
    assert not holds_key_tokens("It got 89 votes in favour. [1]", expected)  # a number is missing
    assert holds_key_tokens("Ukraine's deputy foreign minister is Mariana Betsa. [2]", ["Betsa Mariana"])
    assert not holds_key_tokens("Ukraine's deputy foreign minister is Andrii Sybiha. [2]", ["Betsa Mariana"])
    assert holds_key_tokens("Spending rises to 2.5 per cent of GDP by 2027. [1]", ["2.5% of GDP by 2027"])
    assert not holds_key_tokens("Spending rises to 2.5 per cent of GDP. [1]", ["2.5% of GDP by 2027"])
    # A dateline's abbreviated month is that month, and only that one.
    assert holds_key_tokens("Published: Feb, 26 2025 22:30 [1]", ["26 February 2025"])
    assert not holds_key_tokens("Published: Mar, 26 2025 22:30 [1]", ["26 February 2025"])
