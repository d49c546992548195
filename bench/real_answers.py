"""Real answers from real local models, judged as a reader would: is it right, is
it cited, is the citation true; and does the assistant decline what the documents
do not answer.

    .venv/bin/python bench/real_answers.py [--models qwen2.5-1.5b,qwen2.5-0.5b,smollm2]
        [--sets seeds,web,squad-tune,squad-report,squad-fresh] [--configs extractive,shipped,grammar,plain]
        [--limit N] [--timing] [--prompt-lookup] [--probe] [--confirm-signals]

Question sets (none written for this project except the seeds):
- seeds: eval/seed_questions.jsonl over the five demo articles: 35 answerable, with
  expected answers written before any tuning, and 5 off-corpus.
- squad-tune / squad-report: SQuAD 2.0 dev, `../shared/benchdata/squad-half/`. The first
  six of its eight articles are ingested as one corpus (one file each: title line,
  then the paragraphs). Their questions are split by article: Normans, 1973 oil
  crisis and Yuan dynasty to tune on; Huguenot, Packet switching and Scottish
  Parliament to report on. Each part draws answerable questions and SQuAD's
  impossible ones (written by people to look answerable from the paragraph, which
  does not hold the answer), seeded so that the draw is the same on every run; the
  two articles left out give off-corpus questions.
- squad-fresh: questions of all six articles that neither part draws (at the sizes
  asked for), drawn with another seed: where a rule chosen on the two parts is
  checked on questions it was not chosen on; squad-fresh2: none of those either.
- web: eval/web_questions.jsonl over the 20 saved news pages of `../shared/benchdata/html/`
  (articles of the seeds' kind that no rule was chosen on): 28 answerable and 9 that
  look answerable but are not (a neighbouring actor, place or count), written before
  any answer to them was read (issue 39, sixth session).

Configurations: extractive (no model); `shipped` = the defaults; `grammar` = the
same with the answer held to its form by a llama.cpp grammar instead of the
token-by-token check (rag/answer/shape.py); `plain` = no form at all and no
fallback.

Columns: correct = answerable questions whose answer holds the expected answer's
numbers, names and most of its words (rag.evaluation.retrieval.holds_key_tokens: paraphrase
passes); literal = the expected answer's text appears (SQuAD normalisation);
declined = answerable questions declined; impossible declined, off-corpus declined;
cited = claim sentences with a marker naming a given source; supported = claim
sentences the checker marks supported; TTFT, generation tokens/s and seconds per
answer are medians on this machine. `--timing` adds the seed questions three times
with plain llama.cpp generation of the same prompts beside them; `--prompt-lookup`
measures llama-cpp-python's prompt-lookup decoding on the same prompts.
"""
from __future__ import annotations
import json
import random
import gc
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from common import CACHE, ROOT, SMOKE_HELP, bench_parser

from rag.answer.generate import LlamaCppGenerator
from rag.answer.model_catalog import install, lookup
from rag.answer.prompt import CONFIRM_IN_PROMPT, after_question
from rag.config import Settings
from rag.evaluation.retrieval import contains_answer, holds_key_tokens, load_questions
from rag.ingest.pipeline import ingest_paths
from rag.types.answers import Answer
from rag.types.citations import CONTRADICTED, NO_CLAIM, SUPPORTED, UNSURE
from rag.wiring import embedder_for, open_assistant, open_retriever

SQUAD = ROOT.parent / "shared" / "benchdata" / "squad-half" / "dev-v2.0-half.json"
INGESTED_ARTICLES = 6
TUNE_ARTICLES = (0, 2, 4)  # Normans, 1973 oil crisis, Yuan dynasty
REPORT_ARTICLES = (1, 3, 5)  # Huguenot, Packet switching, Scottish Parliament
SEED = 20261203


@dataclass(frozen=True)
class Question:
    set: str
    id: str
    text: str
    answers: tuple[str, ...]  # empty: not answerable from the corpus
    kind: str  # "answerable", "impossible" (SQuAD: about the corpus, not answered by it), "off" (off-corpus)


def squad_corpus(corpus_dir: Path) -> list[dict]:
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for article in data[:INGESTED_ARTICLES]:
        title = article["title"].replace("_", " ")
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        (corpus_dir / f"{article['title']}.txt").write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n",
                                                             encoding="utf-8")
    return data


def squad_questions(data: list[dict], part: str, n_answerable: int, n_impossible: int, n_off: int) -> list[Question]:
    if part in ("fresh", "fresh2"):
        return fresh_questions(data, n_answerable, n_impossible, n_off, second=part == "fresh2")
    articles = TUNE_ARTICLES if part == "tune" else REPORT_ARTICLES
    answerable, impossible, off = [], [], []
    for i, article in enumerate(data):
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                text = qa["question"].strip()
                if i >= INGESTED_ARTICLES:
                    off.append(Question(f"squad-{part}", qa["id"], text, (), "off"))
                elif i in articles and qa.get("is_impossible"):
                    impossible.append(Question(f"squad-{part}", qa["id"], text, (), "impossible"))
                elif i in articles:
                    answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                    answerable.append(Question(f"squad-{part}", qa["id"], text, answers, "answerable"))
    rng = random.Random(SEED)
    # The off-corpus pool is shared: each part takes its own half of one shuffled draw.
    off_draw = random.Random(SEED).sample(off, 2 * n_off)
    off_part = off_draw[:n_off] if part == "tune" else off_draw[n_off:]
    return rng.sample(answerable, n_answerable) + rng.sample(impossible, n_impossible) + off_part


def fresh_questions(data: list[dict], n_answerable: int, n_impossible: int, n_off: int,
                    second: bool = False) -> list[Question]:
    """squad-fresh: questions of all six ingested articles that neither the tuning nor
    the report part draws (at the same sizes), drawn with another seed: for a rule
    chosen on those two parts, questions it was not chosen on. squad-fresh2: none that
    squad-fresh draws either, for a rule chosen after squad-fresh was read."""
    parts = ("tune", "report", "fresh") if second else ("tune", "report")
    drawn = {q.id for part in parts for q in squad_questions(data, part, n_answerable, n_impossible, n_off)}
    pools: dict[str, list[Question]] = {"answerable": [], "impossible": [], "off": []}
    for part in ("tune", "report"):
        # Every question of the part's articles (and the off pool), none drawn yet.
        for q in _all_questions(data, part):
            if q.id not in drawn and q.id not in {x.id for x in pools[q.kind]}:
                pools[q.kind].append(Question("squad-fresh2" if second else "squad-fresh", q.id, q.text,
                                              q.answers, q.kind))
    rng = random.Random(SEED + (2 if second else 1))
    return (rng.sample(pools["answerable"], n_answerable) + rng.sample(pools["impossible"], n_impossible)
            + rng.sample(pools["off"], n_off))


def _all_questions(data: list[dict], part: str) -> list[Question]:
    articles = TUNE_ARTICLES if part == "tune" else REPORT_ARTICLES
    found = []
    for i, article in enumerate(data):
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                kind = "off" if i >= INGESTED_ARTICLES else ("impossible" if qa.get("is_impossible") else "answerable")
                if kind == "off" or i in articles:
                    answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"])) if kind == "answerable" else ()
                    found.append(Question(part, qa["id"], qa["question"].strip(), answers, kind))
    return found


def seed_questions() -> list[Question]:
    return [Question("seeds", q.id, q.question, q.expected, "answerable" if q.answerable else "off")
            for q in load_questions(ROOT / "eval" / "seed_questions.jsonl")]


def web_questions() -> list[Question]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "web_questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [Question("web", r["id"], r["question"], tuple(r["answers"]), r["kind"]) for r in rows]


def web_pages(folder: Path) -> Path:
    """The saved pages, unpacked once (the readers take .html, not .html.gz)."""
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    for packed in sorted((ROOT.parent / "shared" / "benchdata" / "html" / "pages").glob("*.html.gz")):
        page = folder / packed.name[:-3]
        if not page.exists():
            page.write_bytes(gzip.decompress(packed.read_bytes()))
    return folder


def build_index(name: str, paths, settings: Settings, embedder) -> Settings:
    settings = settings.replace(index_dir=CACHE / f"{name}-index")
    ingest_paths(paths, settings, lambda *_: embedder)
    return settings


def ask(assistant, question: str, extractive: bool) -> Answer:
    return [x for x in assistant.ask(question, extractive=extractive) if isinstance(x, Answer)][-1]


def declined(a: Answer) -> bool:
    return (not a.covered) or a.declined


def all_checked(a: Answer, reviewed: bool = True) -> bool:
    """Shown with every sentence ✓: an answer (not declined) whose claims are all supported.
    With `reviewed` False, as the checker alone would show it: the review only turns a
    supported sentence unsure or contradicted, so those count as ✓ here."""
    ticks = (SUPPORTED,) if reviewed else (SUPPORTED, UNSURE, CONTRADICTED)
    claims = [c for c in (a.citations.checks if a.citations else ()) if c.verdict != NO_CLAIM]
    return not declined(a) and bool(claims) and all(c.verdict in ticks for c in claims)


def is_right(q: Question, a: Answer) -> bool:
    """A reader's verdict, automated: an answerable question answered with its expected
    answer; an impossible or off-corpus one answered at all is wrong."""
    return q.kind == "answerable" and not declined(a) and holds_key_tokens(a.text, q.answers)


def trust_figures(rows: list[tuple[Question, Answer, float]]) -> dict:
    """Of the answers shown with every sentence ✓, the share that are right; of the right
    answers, the share not shown fully ✓ (issue 39's two columns)."""
    right = [(q, a) for q, a, _ in rows if is_right(q, a)]
    share = lambda n, d: n / d if d else float("nan")  # noqa: E731
    figures = {"right": len(right)}
    for suffix, reviewed in (("", True), ("_unreviewed", False)):
        checked = [(q, a) for q, a, _ in rows if all_checked(a, reviewed)]
        figures |= {f"all_checked{suffix}": len(checked),
                    f"all_checked_right{suffix}": share(sum(is_right(q, a) for q, a in checked), len(checked)),
                    f"right_losing_check{suffix}": share(sum(not all_checked(a, reviewed) for _, a in right),
                                                         len(right))}
    return figures


PROBE_SYSTEM = "You copy answers out of a passage, word for word."


def probe(generator, q: Question, a: Answer) -> dict:
    """Issue 39's first probe of a reviewer: the question answered again by the model from
    the passages the answer cites, alone (a fresh prompt, greedy), as the shortest phrase
    copied from them or "none"; the answer's ✓ would stand only where that phrase is in it."""
    cited = {n for c in (a.citations.checks if a.citations else ()) for n in c.sentence.cited}
    passages = "\n\n".join(s.text for s in a.sources if s.number in cited) or (a.sources[0].text if a.sources else "")
    messages = [{"role": "system", "content": PROBE_SYSTEM},
                {"role": "user", "content": f"Passage:\n{passages}\n\nQuestion: {q.text}\n"
                 "Copy the shortest phrase of the passage that answers the question. "
                 "If the passage does not answer it, write: none"}]
    started = time.perf_counter()
    phrase = "".join(generator.stream(messages, 24, 0.0)).strip().split("\n")[0].strip().strip(".").strip('"')
    seconds = time.perf_counter() - started
    unanswered = not phrase or phrase.lower().startswith("none")
    agrees = not unanswered and holds_key_tokens(a.text, [phrase])
    return {"phrase": phrase, "agrees": agrees, "unanswered": unanswered, "seconds": seconds,
            "prompt_tokens": generator.last_stats.prompt_tokens}


def probe_figures(generator, rows: list[tuple[Question, Answer, float]]) -> dict:
    """The probe over the answers shown fully ✓: how many of the wrong ones it would catch,
    how many right ones would lose their ✓, and its cost."""
    checked = [(q, a) for q, a, _ in rows if all_checked(a)]
    results = [(q, a, probe(generator, q, a)) for q, a in checked]
    wrong = [r for r in results if not is_right(r[0], r[1])]
    right = [r for r in results if is_right(r[0], r[1])]
    return {"checked": len(results), "wrong": len(wrong), "wrong_caught": sum(not p["agrees"] for *_, p in wrong),
            "right": len(right), "right_lost": sum(not p["agrees"] for *_, p in right),
            "seconds_p50": statistics.median([p["seconds"] for *_, p in results]) if results else None,
            "prompt_tokens_p50": statistics.median([p["prompt_tokens"] for *_, p in results]) if results else None,
            "rows": [{"question": q.text, "kind": q.kind, "expected": list(q.answers), "answer": a.text,
                      "right": is_right(q, a), **p} for q, a, p in results]}


CONFIRM_WORDINGS = {
    # Asked after the answer's own question, in its own prompt: only these words are read.
    "prefix_any": CONFIRM_IN_PROMPT,  # the one shipped, as the first of two confirmations
    "prefix_cited": "Do not answer the question. Instead: does source {cited} state the answer to exactly "
                    "this question? Reply yes or no.",
}


def refusal_probability(generator, messages: list[dict]) -> float:
    """The probability that the model, given the answer's prompt, writes the refusal
    as its answer (token by token, its own distribution): read from the answer's
    prefix, so only the refusal's few tokens are evaluated."""
    import numpy as np

    from rag.answer.prompt import NOT_COVERED

    tokens, _ = generator.render(messages)
    refusal = generator._llm.tokenize(NOT_COVERED.encode(), add_bos=False, special=False)
    log_p = 0.0
    with generator._cache_kept():
        for i, token in enumerate(refusal):
            logits = generator._logits_after(tokens + refusal[:i])  # one new token read each time
            logits -= logits.max()
            log_p += float(logits[token] - np.log(np.exp(logits).sum()))
    return float(np.exp(log_p))


def confirm_signals(generator, assistant, a: Answer) -> dict:
    """Ways to ask "does it answer?" on the answer's own prefix, beside the fresh prompt
    of the passages it cites (issue 39, point 4), for a model's answer. Run with
    `--set min_answer_confidence=0.0001` every answer is kept, so any threshold on any
    of them can be replayed from rows.jsonl (bench/RESULTS.md)."""
    if not a.user_message or a.timings.get("time_to_first_token_s") is None:
        return {}
    messages = [{"role": "system", "content": _system(assistant)}, {"role": "user", "content": a.user_message}]
    cited = sorted({n for c in (a.citations.checks if a.citations else ()) for n in c.sentence.cited}) or [1]
    signals = {}
    for name, wording in CONFIRM_WORDINGS.items():
        asked = after_question(messages, wording.format(cited=" and ".join(f"[{n}]" for n in cited)))
        started = time.perf_counter()
        signals[name] = round(generator.judge(asked), 4)
        signals[name + "_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    signals["refusal_p"] = refusal_probability(generator, messages)
    signals["refusal_p_s"] = round(time.perf_counter() - started, 3)
    return signals


def measure(rows: list[tuple[Question, Answer, float]]) -> dict:
    claims = supported = cited = 0
    for _, a, _ in rows:
        numbers = {s.number for s in a.sources}
        for check in (a.citations.checks if a.citations else ()):
            if check.verdict == NO_CLAIM:
                continue
            claims += 1
            supported += check.verdict == SUPPORTED
            cited += bool(check.sentence.cited) and all(n in numbers for n in check.sentence.cited)
    by_kind = {kind: [(q, a) for q, a, _ in rows if q.kind == kind] for kind in ("answerable", "impossible", "off")}
    answerable = by_kind["answerable"]
    stats = [a.timings for _, a, _ in rows if a.timings.get("time_to_first_token_s") is not None]
    share = lambda n, d: n / d if d else float("nan")  # noqa: E731
    model_answers = [s for q, a, s in rows if a.timings.get("time_to_first_token_s") is not None
                     and q.kind == "answerable"]
    return {
        "answers": len(rows),
        "correct": share(sum(holds_key_tokens(a.text, q.answers) for q, a in answerable), len(answerable)),
        "literal": share(sum(contains_answer(a.text, q.answers) for q, a in answerable), len(answerable)),
        "shown": share(sum(contains_answer(a.text + " " + (a.alternative.text if a.alternative else ""), q.answers)
                           for q, a in answerable), len(answerable)),
        "declined": share(sum(declined(a) for _, a in answerable), len(answerable)),
        "impossible_declined": share(sum(declined(a) for _, a in by_kind["impossible"]), len(by_kind["impossible"])),
        "off_declined": share(sum(declined(a) for _, a in by_kind["off"]), len(by_kind["off"])),
        "claims": claims,
        "cited": share(cited, claims),
        "supported": share(supported, claims),
        "warned": share(sum(a.warning is not None for _, a, _ in rows), len(rows)),
        "ttft_p50": statistics.median([t["time_to_first_token_s"] for t in stats]) if stats else None,
        "gen_tps": statistics.median([t["tokens_per_second"] for t in stats if t.get("tokens_per_second")])
        if stats else None,
        "answer_s_p50": statistics.median(model_answers) if model_answers else None,
        "prompt_tokens_p50": statistics.median([t["prompt_tokens"] for t in stats]) if stats else None,
        "stops": dict(Counter(t.get("stopped_by") or "?" for t in stats)),
        **trust_figures(rows),
    }


def fmt(value, digits=3) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def record(q: Question, a: Answer, seconds: float, label: str, signals: dict | None = None) -> dict:
    """One answer as data, for reading by hand and for fitting the decision offline."""
    checks = a.citations.checks if a.citations else ()
    return {"set": q.set, "config": label, "id": q.id, "kind": q.kind, "question": q.text,
            "expected": list(q.answers), "answer": a.text, "declined": declined(a), "covered": a.covered,
            "model_declined": a.declined, "warning": a.warning,
            "correct": holds_key_tokens(a.text, q.answers) if q.answers else None,
            "literal": contains_answer(a.text, q.answers) if q.answers else None,
            "verdicts": [c.verdict for c in checks],
            "support": [c.score for c in checks],
            "sentences": [{"text": c.sentence.text, "cited": list(c.sentence.cited), "verdict": c.verdict,
                           "reason": c.reason} for c in checks],
            "sources": {s.number: s.text for s in a.sources},
            "timings": a.timings.to_json(), "seconds": round(seconds, 3), "signals": signals or {},
            "all_checked": all_checked(a), "all_checked_unreviewed": all_checked(a, reviewed=False),
            "right": is_right(q, a)}


def timing_rounds(generator, assistant, questions: list[Question], rounds: int = 3) -> dict:
    """The shipped answer, then plain llama.cpp generation of the same prompts (no
    form check, the same token limit), each round over all questions in turn: as
    in use, only the constant system prompt is in the cache when a question comes.
    Medians of the per-round medians."""
    ours, plain = [], []
    for _ in range(rounds):
        ttft, total, prompts = [], [], []
        for q in questions:
            t0 = time.perf_counter()
            a = ask(assistant, q.text, extractive=False)
            if a.timings.get("time_to_first_token_s") is None:
                continue
            total.append(time.perf_counter() - t0)
            ttft.append(a.timings["time_to_first_token_s"])
            prompts.append([{"role": "system", "content": _system(assistant)},
                            {"role": "user", "content": a.user_message}])
        p_ttft, p_total = [], []
        for messages in prompts:
            t0 = time.perf_counter()
            first = None
            for _piece in generator.stream(messages, assistant.settings.max_tokens, assistant.settings.temperature):
                first = first or time.perf_counter()
            p_total.append(time.perf_counter() - t0)
            p_ttft.append((first or time.perf_counter()) - t0)
        ours.append((statistics.median(ttft), statistics.median(total)))
        plain.append((statistics.median(p_ttft), statistics.median(p_total)))
    return {"ttft": statistics.median(t for t, _ in ours), "answer": statistics.median(t for _, t in ours),
            "plain_ttft": statistics.median(t for t, _ in plain), "plain_answer": statistics.median(t for _, t in plain),
            "rounds": rounds, "questions": len(questions)}


def _system(assistant) -> str:
    from rag.answer.write import system_prompt

    return system_prompt(assistant.settings)


def prompt_lookup(path: Path, prompts: list[list[dict]], max_tokens: int) -> list[dict]:
    """Generation speed with and without llama-cpp-python's prompt-lookup decoding
    on the same prompts (greedy, no form check), with peak memory."""
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from rag.answer.generate import physical_cores

    out = []
    for label, draft in (("plain", None), ("prompt lookup, 3-token drafts", 3), ("prompt lookup, 10", 10)):
        # Resident memory now, not the process's peak: the peak would be the first
        # configuration's for all three, as each model is freed before the next.
        before = _resident_mb()
        llm = Llama(str(path), n_ctx=4096, n_threads=physical_cores(), n_batch=512, verbose=False,
                    logits_all=draft is not None,  # 0.3.36 crashes without it when drafting
                    draft_model=LlamaPromptLookupDecoding(num_pred_tokens=draft) if draft else None)
        speeds, texts = [], []
        for messages in prompts:
            first, tokens, text = None, 0, ""
            for chunk in llm.create_chat_completion(messages, max_tokens=max_tokens, temperature=0.0, stream=True):
                piece = chunk["choices"][0]["delta"].get("content") or ""
                if piece:
                    first = first or time.perf_counter()
                    tokens += 1
                    text += piece
            if first and tokens > 1:
                speeds.append((tokens - 1) / (time.perf_counter() - first))
            texts.append(text)
        out.append({"config": label, "chunks_per_s": statistics.median(speeds),
                    "rss_growth_mb": max(0.0, _resident_mb() - before), "texts": texts})
        del llm
        gc.collect()
    return out


def _resident_mb() -> float:
    """This process's resident memory (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = bench_parser(__doc__, smoke=SMOKE_HELP + "; the default model on one answerable and one off-corpus seed question")
    parser.add_argument("--models", default="qwen2.5-1.5b,qwen2.5-0.5b,smollm2")
    parser.add_argument("--sets", default="seeds,squad-report")
    parser.add_argument("--configs", default="extractive,shipped")
    parser.add_argument("--answerable", type=int, default=100, help="answerable SQuAD questions per part")
    parser.add_argument("--impossible", type=int, default=100, help="impossible SQuAD questions per part")
    parser.add_argument("--off", type=int, default=20, help="off-corpus SQuAD questions per part")
    parser.add_argument("--limit", type=int, default=0,
                        help="at most N questions of each kind per set (a quick run; the smoke test uses it)")
    parser.add_argument("--show", type=int, default=4, help="answers printed in full per model and set")
    parser.add_argument("--timing", type=int, default=0, metavar="N",
                        help="the first N answerable seed questions x3, plain llama.cpp generation beside")
    parser.add_argument("--prompt-lookup", action="store_true", help="generation with prompt-lookup decoding")
    parser.add_argument("--probe", action="store_true",
                        help="issue 39's reviewer probe on the answers shown fully ✓ (shipped configuration)")
    parser.add_argument("--confirm-signals", action="store_true",
                        help="other readings of \"does it answer?\" on each model answer, kept in rows.jsonl")
    parser.add_argument("--out", default=str(CACHE / "real_answers"), help="where rows and figures go")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting changed for this run (a variant: prompt_sentences=3)")
    args = parser.parse_args()
    if args.smoke:
        args.models, args.sets, args.configs, args.limit = "qwen2.5-1.5b", "seeds", "extractive,shipped", 1
        args.probe = args.confirm_signals = True

    from rag.config import _coerce

    base = Settings().replace(**{name: _coerce(name, value) for name, value in
                                 (item.split("=", 1) for item in args.set)})
    embedder = embedder_for(base)
    sets = {}
    if "seeds" in args.sets:
        sets["seeds"] = (build_index("seeds", [ROOT / "seeds"], base, embedder), seed_questions())
    if "web" in args.sets.split(","):
        sets["web"] = (build_index("web", [web_pages(CACHE / "web-pages")], base, embedder), web_questions())
    squad_parts = [s.split("-", 1)[1] for s in args.sets.split(",") if s.startswith("squad-")]
    if squad_parts:
        corpus = CACHE / "squad-corpus"
        data = squad_corpus(corpus)
        squad_settings = build_index("squad6", [corpus], base, embedder)
        for part in squad_parts:
            sets[f"squad-{part}"] = (squad_settings, squad_questions(data, part, args.answerable, args.impossible,
                                                                    args.off))
    if args.limit:
        for name, (settings, questions) in sets.items():
            kinds: dict[str, list[Question]] = {}
            for q in questions:
                kinds.setdefault(q.kind, []).append(q)
            sets[name] = (settings, [q for group in kinds.values() for q in group[:args.limit]])

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table, samples, rows_out, timings, probes = [], [], [], [], []
    model_keys = [m for m in args.models.split(",") if m]
    for key in model_keys:
        # The default model is where `make chat` and `make test` put it; the others here.
        installed = ROOT / "models" / lookup(key).filename
        path = installed if installed.is_file() else install(key, CACHE / "models", quiet=True)[0]
        started = time.perf_counter()
        generator = LlamaCppGenerator(path, n_ctx=base.n_ctx)
        print(f"{lookup(key).title}: loaded in {time.perf_counter() - started:.1f} s", flush=True)
        for set_name, (settings, questions) in sets.items():
            retriever = open_retriever(settings, embedder=embedder)
            for config in args.configs.split(","):
                if config == "extractive" and key != model_keys[0]:
                    continue  # the same for every model
                run_settings = {"plain": settings.replace(constrain_answers=False, min_supported_share=0.0),
                                }.get(config, settings)
                assistant = open_assistant(run_settings, retriever, generator)
                if config == "grammar":
                    from rag.answer.shape import cited_answer_grammar

                    original = assistant.ask

                    def with_grammar(question, original=original, **kw):
                        # The prompt's sources are numbered from 1; the grammar names at most k.
                        return original(question, grammar=cited_answer_grammar(
                            range(1, run_settings.k + 1), run_settings.answer_sentences), **kw)
                    assistant.ask = with_grammar
                rows, signals = [], []
                t0 = time.perf_counter()
                for q in questions:
                    t = time.perf_counter()
                    a = ask(assistant, q.text, extractive=config == "extractive")
                    rows.append((q, a, time.perf_counter() - t))
                    signals.append(confirm_signals(generator, assistant, a)
                                   if args.confirm_signals and config != "extractive" else {})
                figures = measure(rows)
                label = "extractive" if config == "extractive" else f"{key} {config}"
                table.append((set_name, label, figures))
                rows_out += [record(q, a, s, label, sig) for (q, a, s), sig in zip(rows, signals)]
                print(f"{set_name:<13} {label:<24} " + json.dumps(
                    {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()})
                      + f" ({time.perf_counter() - t0:.0f} s)", flush=True)
                if args.probe and config == "shipped":
                    probes.append((set_name, key, probe_figures(generator, rows)))
                if config != "extractive":
                    picked = [r for r in rows if r[0].kind == "answerable"][:args.show] \
                        + [r for r in rows if r[0].kind == "impossible"][:1] + [r for r in rows if r[0].kind == "off"][:1]
                    samples += [(set_name, label, q, a) for q, a, _ in picked]
            if args.timing and set_name == "seeds":
                assistant = open_assistant(settings, retriever, generator)
                answerable = [q for q in questions if q.kind == "answerable"][:args.timing]
                timings.append((key, timing_rounds(generator, assistant, answerable)))
                print(f"timing {key}: {timings[-1][1]}", flush=True)
        if args.prompt_lookup and key == model_keys[0] and "seeds" in sets:
            settings, questions = sets["seeds"]
            retriever = open_retriever(settings, embedder=embedder)
            assistant = open_assistant(settings, retriever, generator)
            prompts = []
            for q in [q for q in questions if q.kind == "answerable"][:8]:
                a = ask(assistant, q.text, extractive=False)
                if a.user_message:
                    prompts.append([{"role": "system", "content": _system(assistant)},
                                    {"role": "user", "content": a.user_message}])
            del generator
            lookup_rows = prompt_lookup(path, prompts, settings.max_tokens)
            print("\n| generation | chunks/s p50 | resident memory of the loaded model, MB | answers identical to plain |")
            print("|---|---|---|---|")
            for r in lookup_rows:
                same = sum(t == p for t, p in zip(r["texts"], lookup_rows[0]["texts"]))
                print(f"| {r['config']} | {r['chunks_per_s']:.1f} | {r['rss_growth_mb']:.0f} | {same}/{len(prompts)} |")

    print("\n| set | configuration | answers | correct | literal | answerable declined | impossible declined | "
          "off-corpus declined | cited | supported | warned | all-✓ answers right (of n) | "
          "right answers that lose their ✓ (of n) | the same two before the review | TTFT p50 s | gen tok/s | "
          "s per answer p50 | prompt tokens p50 |")
    print("|---" * 18 + "|")
    for set_name, label, f in table:
        print(f"| {set_name} | {label} | {f['answers']} | {fmt(f['correct'])} | {fmt(f['literal'])} | "
              f"{fmt(f['declined'])} | {fmt(f['impossible_declined'])} | {fmt(f['off_declined'])} | "
              f"{fmt(f['cited'])} | {fmt(f['supported'])} | {fmt(f['warned'])} | "
              f"{fmt(f['all_checked_right'])} ({f['all_checked']}) | {fmt(f['right_losing_check'])} ({f['right']}) | "
              f"{fmt(f['all_checked_right_unreviewed'])} ({f['all_checked_unreviewed']}), "
              f"{fmt(f['right_losing_check_unreviewed'])} | "
              f"{fmt(f['ttft_p50'], 2)} | "
              f"{fmt(f['gen_tps'], 1)} | {fmt(f['answer_s_p50'], 2)} | {fmt(f['prompt_tokens_p50'], 0)} |")
    if timings:
        print("\n| model | TTFT p50 s | answer p50 s | plain llama.cpp TTFT p50 s | plain answer p50 s |")
        print("|---|---|---|---|---|")
        for key, t in timings:
            print(f"| {key} | {t['ttft']:.2f} | {t['answer']:.2f} | {t['plain_ttft']:.2f} | {t['plain_answer']:.2f} |")
    if probes:
        print("\n| set | model | answers shown fully ✓ | of them wrong | wrong ones the probe catches | "
              "right ones that would lose their ✓ | probe s p50 | probe prompt tokens p50 |")
        print("|---" * 8 + "|")
        for set_name, key, p in probes:
            print(f"| {set_name} | {key} | {p['checked']} | {p['wrong']} | {p['wrong_caught']} | "
                  f"{p['right_lost']} of {p['right']} | {fmt(p['seconds_p50'], 2)} | {fmt(p['prompt_tokens_p50'], 0)} |")
        (out / "probe.json").write_text(json.dumps([{"set": s, "model": k, **p} for s, k, p in probes], indent=2,
                                                   ensure_ascii=False), encoding="utf-8")
    print("\nHow model answers ended:")
    for set_name, label, f in table:
        if f["stops"]:
            print(f"- {set_name}, {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(f["stops"].items())))
    print("\nAnswers in full:")
    for set_name, label, q, a in samples:
        print(f"\n**{set_name}, {label}** Q: {q.text}  (expected: {' / '.join(q.answers) or q.kind})")
        for check in (a.citations.checks if a.citations else ()):
            print(f"    {check.mark} {check.sentence.text} {list(check.sentence.cited) or ''}")
        if not a.citations or not a.citations.checks:
            print(f"    {a.text!r}")
        if a.alternative is not None:
            print(f"    ! {a.warning}")
    with open(out / "rows.jsonl", "w", encoding="utf-8") as handle:
        for row in rows_out:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "figures.json").write_text(json.dumps([{"set": s, "config": c, **f} for s, c, f in table], indent=2),
                                      encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
