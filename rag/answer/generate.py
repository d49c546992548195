"""Answer backends behind one small protocol: a local GGUF through llama-cpp-python,
or any OpenAI-compatible server. (Extractive answers need no model: see extractive.py.)

A backend renders chat messages, counts their tokens, and streams text deltas.
llama_cpp is imported when a model is loaded, never at import time.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence, cast

from rag.answer.shape import AnswerShape, cited_answer_grammar
from rag.answer.model_files import ModelError, check_gguf, read_info
from rag.answer.prompt import Message
from rag.types.answers import Mode
from rag.types.errors import Fix, RagError, Remedy
from rag.types.runtime import ModelRuntime

# Used when a GGUF carries no chat template (rare in current models): ChatML.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class RemoteModelError(RagError):
    """The OpenAI-compatible server failed or could not be reached."""


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    reused_prompt_tokens: int = 0  # served from the key/value cache
    answer_tokens: int = 0
    time_to_first_token_s: float | None = None
    tokens_per_second: float | None = None
    stopped_by: str = ""  # "stop", "length", "cancelled"


class Generator(Protocol):
    """What the assistant reads of a model backend."""

    mode: Mode  # LOCAL or REMOTE
    name: str
    n_ctx: int
    last_stats: GenerationStats  # of the last `stream`
    # Parameters, when the model file says (a small model gets fewer sources); None: unknown
    # (a server's model), taken as large.
    parameters: int | None
    can_judge: bool  # whether `judge` can read the model's probabilities (a local model can)
    runtime: ModelRuntime | None  # the CPU features and buffers a local model runs with; None: a server's

    def count(self, messages: Sequence[Message]) -> int: ...

    def judge(self, messages: Sequence[Message]) -> float:
        """P(yes) as the model's answer to the last message (only where `can_judge`)."""
        ...

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float,
               grammar: str | None = None, should_stop: Callable[[], bool] | None = None,
               shape: AnswerShape | None = None) -> Iterator[str]:
        """Text pieces as the model writes them. `should_stop` is asked before every
        token: a UI's cancel stops the model at once, even while it is producing
        tokens that decode to no text yet. `shape` (a local model) or `grammar` (GBNF,
        for a server) holds the answer to the cited form (rag/answer/shape.py)."""


def physical_cores() -> int:
    """Physical cores available to this process: llama.cpp runs slower on hyperthreads."""
    try:
        cores = set()
        current: dict[str, str] = {}
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    if "core id" in current:
                        cores.add((current.get("physical id"), current["core id"]))
                    current = {}
                elif ":" in line:
                    key, value = line.split(":", 1)
                    current[key.strip()] = value.strip()
        available = len(os.sched_getaffinity(0))
        return max(1, min(len(cores) or available, available))
    except (OSError, AttributeError):
        return max(1, (os.cpu_count() or 2) // 2)


_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def _model_params(**fields):
    """llama.cpp's model parameters with `fields` changed, for the `Llama` made inside.
    `Llama` takes no argument for some of them (`use_extra_bufts`) and builds its
    parameters from `llama_model_default_params()`, so that function answers with the
    fields changed while the model loads (a lock keeps two loads apart)."""
    import llama_cpp.llama_cpp as native

    defaults = native.llama_model_default_params

    def changed():
        params = defaults()
        for name, value in fields.items():
            setattr(params, name, value)
        return params

    with _PARAMS_LOCK:
        native.llama_model_default_params = changed
        try:
            yield
        finally:
            native.llama_model_default_params = defaults


class LlamaCppGenerator:
    """A GGUF model held in memory for the whole session.

    The prompt is rendered with the model's own chat template and given to
    llama.cpp as tokens; llama-cpp-python keeps the previous call's tokens in its
    key/value cache and evaluates only what follows the common prefix, so the
    fixed system prompt (and, in a conversation, the earlier turns) is read once.
    """

    mode = Mode.LOCAL
    can_judge = True

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int | None = None, seed: int = 0,
                 extra_buffers: str = "auto", cpu: frozenset[str] | None = None):
        """`extra_buffers`: "auto" (off on a CPU with AMX, rag/answer/cpu_features.py),
        "on" or "off"; `cpu`: the CPU's flags the decision reads (None: this machine's)."""
        from rag.answer.cpu_features import planned_runtime

        check_gguf(model_path)
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:  # pragma: no cover - an install problem
            raise ModelError(f"llama-cpp-python is not installed ({exc}); run `make install`") from None
        self.path = model_path
        self.name = model_path.name
        # Deliberately sized: llama-cpp-python's default is 512, far too small for
        # sources, and more than the model was trained on would only degrade it.
        info = read_info(model_path)
        self.parameters = info.parameters  # a small model gets fewer sources (assistant.py)
        trained = info.context_length
        self.n_ctx = min(n_ctx, trained) if trained > 0 else n_ctx
        self.runtime = planned_runtime(extra_buffers, cpu, isolated=False)
        try:
            with _model_params(use_extra_bufts=self.runtime.extra_buffers.on):
                self._llm = Llama(str(model_path), n_ctx=self.n_ctx, n_threads=n_threads or physical_cores(),
                                  n_batch=512, seed=seed, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"{model_path}: llama.cpp cannot load it ({exc}); "
                             "the file may be truncated or of an unsupported architecture") from None
        template = self._llm.metadata.get("tokenizer.chat_template")
        self.template_source = "gguf" if template else "chatml (the GGUF has no chat template)"
        eos = self._token_text(self._llm.token_eos())
        bos = self._bos_text = self._token_text(self._llm.token_bos())
        self._formatter = Jinja2ChatFormatter(template or CHATML_TEMPLATE, eos_token=eos, bos_token=bos,
                                              stop_token_ids=[self._llm.token_eos()])
        self.last_stats = GenerationStats()
        self._ends: frozenset[int] | None = None
        self._pieces: dict[int, bytes] = {}

    def judge(self, messages: Sequence[Message], yes: Sequence[str] = ("yes", "Yes", "YES"),
              no: Sequence[str] = ("no", "No", "NO")) -> float:
        """The model's probability of answering yes rather than no to the last
        message, read from its next-token distribution (nothing is generated). The
        prompt usually extends the answer just written, so only the new turn is
        read: llama.cpp keeps the shared prefix in its key/value cache."""
        import numpy as np

        tokens, _ = self.render(messages)
        if len(tokens) + 1 > self.n_ctx:
            raise ModelError(f"a check of {len(tokens)} tokens exceeds the context of {self.n_ctx}")
        llm = self._llm
        with self._cache_kept():
            logits = self._logits_after(tokens)
        first = lambda words: {llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words}  # noqa: E731
        probabilities = np.exp(logits - logits.max())
        p_yes = float(sum(probabilities[t] for t in first(yes)))
        p_no = float(sum(probabilities[t] for t in first(no)))
        return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5

    def _logits_after(self, tokens: Sequence[int]):
        """The next-token logits after `tokens`, reading only what the key/value cache
        does not already hold (at least one token, for its logits). Call it inside
        `_cache_kept` when the cache must be put back."""
        import numpy as np

        llm = self._llm
        llm.n_tokens = min(self._cached_prefix(tokens), len(tokens) - 1)
        llm.eval(list(tokens[llm.n_tokens:]))
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)

    def _cached_prefix(self, tokens: Sequence[int]) -> int:
        """How many of `tokens`, from the first, the key/value cache already holds."""
        shared = 0
        for a, b in zip(self._llm._input_ids.tolist(), tokens):
            if a != b:
                break
            shared += 1
        return shared

    @contextlib.contextmanager
    def _cache_kept(self):
        """The key/value cache as it was before a side question, put back after it:
        the next answer (a follow-up above all) then reuses the prefix it shares
        with the last one instead of reading it again. A copy of the cache's used
        cells (about 28 KB a token for the default model), not of the logits."""
        import llama_cpp

        llm = self._llm
        context = llm._ctx.ctx
        size = llama_cpp.llama_state_get_size(context)
        saved = (ctypes.c_uint8 * int(size))()
        written = llama_cpp.llama_state_get_data(context, saved, size)
        input_ids, n_tokens = llm.input_ids.copy(), llm.n_tokens
        try:
            yield
        finally:
            if llama_cpp.llama_state_set_data(context, saved, written) == written:
                llm.input_ids, llm.n_tokens = input_ids, n_tokens
            else:  # could not be put back: the next prompt is read whole, which is only slower
                llm.n_tokens = 0

    def _end_tokens(self) -> frozenset[int]:
        """Every token that ends a turn (end-of-generation), read once from the vocabulary."""
        if self._ends is None:
            ends = {self._llm.token_eos()}
            try:
                import llama_cpp

                vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
                ends |= {t for t in range(self._llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)}
            except (AttributeError, TypeError):  # an older llama-cpp-python: the EOS token alone
                pass
            self._ends = frozenset(ends)
        return self._ends

    def _token_text(self, token: int) -> str:
        try:
            return self._llm.detokenize([token], special=True).decode("utf-8", errors="ignore")
        except Exception:
            return ""

    def render(self, messages: Sequence[Message]) -> tuple[list[int], list[str]]:
        formatted = self._formatter(messages=cast(Any, list(messages)))  # our dicts are its typed messages
        stops = formatted.stop if isinstance(formatted.stop, list) else ([formatted.stop] if formatted.stop else [])
        # Templates that write the BOS token themselves must not get a second one.
        writes_bos = bool(self._bos_text) and formatted.prompt.startswith(self._bos_text)
        tokens = self._llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=not writes_bos, special=True)
        return tokens, stops

    def count(self, messages: Sequence[Message]) -> int:
        return len(self.render(messages)[0])

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float,
               grammar: str | None = None, should_stop: Callable[[], bool] | None = None,
               shape: AnswerShape | None = None) -> Iterator[str]:
        tokens, stops = self.render(messages)
        if len(tokens) + max_tokens > self.n_ctx:  # the budget in prompt.py makes this unreachable
            raise ModelError(f"prompt of {len(tokens)} tokens + {max_tokens} answer tokens exceeds the "
                             f"context of {self.n_ctx}")
        stats = GenerationStats(prompt_tokens=len(tokens), reused_prompt_tokens=self._cached_prefix(tokens))
        self.last_stats = stats
        sampled = [0]
        kwargs = self._completion_options(len(tokens), max_tokens, grammar, should_stop, shape, sampled)
        started = time.perf_counter()
        first = None
        try:
            chunks = cast(Iterator[dict[str, Any]], self._llm.create_completion(  # stream=True: chunks
                tokens, max_tokens=max_tokens, temperature=temperature, stop=stops or None, stream=True, **kwargs))
            for chunk in chunks:
                choice = chunk["choices"][0]
                text = choice.get("text") or ""
                if text:
                    if first is None:
                        first = time.perf_counter()
                        stats.time_to_first_token_s = first - started
                    yield text
                if choice.get("finish_reason"):
                    stats.stopped_by = choice["finish_reason"]
            if should_stop is not None and should_stop():
                stats.stopped_by = "cancelled"
            elif sampled[0] > max_tokens:  # stopped by the count of tokens sampled (`_completion_options`)
                stats.stopped_by = "length"
        except GeneratorExit:
            stats.stopped_by = "cancelled"
            raise
        finally:
            # Count sampled tokens, not text pieces: some tokens decode to nothing alone.
            # (llama-cpp-python may sample a token past the limit before it stops.)
            stats.answer_tokens = min(max_tokens, max(stats.answer_tokens, sampled[0]))
            if first is not None and stats.answer_tokens > 1:
                stats.tokens_per_second = (stats.answer_tokens - 1) / max(1e-9, time.perf_counter() - first)

    def _completion_options(self, prompt_tokens: int, max_tokens: int, grammar: str | None,
                            should_stop: Callable[[], bool] | None, shape: AnswerShape | None,
                            sampled: list[int]) -> dict[str, Any]:
        """llama.cpp's options for one answer: the grammar or the form check, the
        cancel, and a counter of the tokens sampled (`sampled[0]`)."""
        from llama_cpp import LogitsProcessorList, StoppingCriteriaList

        kwargs: dict[str, Any] = {}
        if grammar:
            from llama_cpp import LlamaGrammar

            kwargs["grammar"] = LlamaGrammar.from_string(grammar, verbose=False)
        # llama-cpp-python counts `max_tokens` only on tokens that complete a character:
        # tokens that each hold part of one (a model writing stray bytes) would run on
        # until the context is full, so the tokens sampled are counted here too.
        stops = [lambda _ids, _logits: sampled[0] > max_tokens]
        if should_stop is not None:
            stops.append(lambda _ids, _logits: should_stop())
        kwargs["stopping_criteria"] = StoppingCriteriaList(stops)

        def count_sampled(_ids, scores):  # called once per sampled token
            sampled[0] += 1
            return scores

        processors = [count_sampled]
        if shape is not None and not grammar:
            processors.append(ShapeProcessor(self._llm, shape, prompt_tokens, self._end_tokens(), self._pieces))
            kwargs["top_k"] = SHAPE_TOP_K
        kwargs["logits_processor"] = LogitsProcessorList(processors)
        return kwargs


# The sampler picks among this many of the likeliest tokens (llama.cpp's own default
# top-k), so the answer's shape need only judge these: everything else is excluded.
SHAPE_TOP_K = 40


# Characters of more than one byte that the shape treats differently: any letter
# inside a sentence, and the quotes that may also open one.
_SOME_CHARACTERS = ("é", "“", "‘")


def _starts_a_character(tail: bytes) -> bool:
    """Are these bytes the start of one UTF-8 character, cut before its end (a lead
    byte and fewer continuation bytes than it announces)? A token may end there; the
    next one completes it. Stray continuation bytes are not: a model that wrote them
    one token after another once filled its whole context with text that never
    decoded (tests/test_answer_format.py)."""
    lead = tail[0]
    length = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0
    return len(tail) < length and all(0x80 <= b <= 0xBF for b in tail[1:])


class ShapeProcessor:
    """Keeps a local model's answer to an `AnswerShape` at the cost of a few string
    checks per token. Before each token is sampled, the likeliest `SHAPE_TOP_K`
    tokens are judged against the shape; the model's choice stands whenever it
    fits (nearly always), and only tokens that break the shape are excluded, with
    everything outside the top k. The end token is allowed only where the answer
    may end, and is the only choice once it must."""

    def __init__(self, llm, shape: AnswerShape, prompt_length: int, ends: frozenset[int],
                 pieces: dict[int, bytes]):
        import numpy as np

        self._np = np
        self.llm = llm
        self.shape = shape
        self.prompt_length = prompt_length
        self.states = shape.start()
        self.consumed = 0
        self.pending = b""  # bytes of a character split across tokens
        self.pieces = pieces  # token -> its bytes, kept by the generator across answers
        self.ends = ends

    def _piece(self, token: int) -> bytes:
        piece = self.pieces.get(token)
        if piece is None:
            piece = self.pieces[token] = self.llm.detokenize([token], special=True)
        return piece

    def _after(self, raw: bytes):
        """(states, bytes still pending) after the pending bytes and `raw`."""
        data = self.pending + raw
        for cut in range(0, 4):  # a token may end inside a UTF-8 character
            tail = data[len(data) - cut:]
            if cut and not _starts_a_character(tail):
                continue  # stray bytes that no later byte can make a character of
            try:
                text = data[:len(data) - cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            return self.shape.feed(self.states, text), tail
        return frozenset(), b""

    def __call__(self, input_ids, scores):
        np = self._np
        written = input_ids[self.prompt_length + self.consumed:]
        for token in written.tolist():
            if token not in self.ends:
                self.states, self.pending = self._after(self._piece(token))
        self.consumed += len(written)
        masked = np.full_like(scores, -np.inf)
        may_end = self.shape.accepts(self.states) and not self.pending
        if self.shape.finished(self.states) and not self.pending:
            for token in self.ends:
                masked[token] = scores[token]
            return masked
        top = np.argpartition(-scores, SHAPE_TOP_K)[:SHAPE_TOP_K]
        allowed = [t for t in top.tolist() if self._allows(t, may_end)]
        if not allowed:  # the model's likeliest tokens all break the shape: look further
            order = np.argsort(-scores)
            # None at all cannot happen from a state the shape reached; if it did, the
            # answer ends here (llama.cpp samples an arbitrary token from all -inf).
            allowed = next(([t] for t in order.tolist() if self._allows(t, may_end)), list(self.ends))
        for token in allowed:
            masked[token] = scores[token]
        return masked

    def _allows(self, token: int, may_end: bool) -> bool:
        if token in self.ends:
            return may_end
        piece = self._piece(token)
        if not piece:  # a control token that writes nothing: allowed, the model may write it forever
            return False
        states, pending = self._after(piece)
        if pending:  # it ends inside a character: one the shape takes must be able to follow
            return any(self.shape.feed(states, ch) for ch in _SOME_CHARACTERS)
        return bool(states)


class OpenAIGenerator:
    """Any OpenAI-compatible chat server (llama.cpp's server, Ollama, vLLM), streaming.

    Prompt size is counted with the server's own tokenizer when it offers one
    (llama-cpp-python's /extras/tokenize, llama.cpp's /tokenize); otherwise it is
    estimated conservatively at 3 characters a token, against the context given
    in settings."""

    mode = Mode.REMOTE
    can_judge = False  # a server gives text, not the model's probabilities
    parameters: int | None = None  # unknown: taken as a large model
    runtime: ModelRuntime | None = None  # the server's machine is not ours to report
    PER_MESSAGE_OVERHEAD = 8  # role markers and separators of a chat template

    # A tokenizer endpoint answers at once or not at all: a server that is slow here
    # is not asked again (it would cost every question this much).
    TOKENIZE_TIMEOUT_S = 5.0

    def __init__(self, base_url: str, model: str | None = None, n_ctx: int = 4096, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.model = model or "default"
        self.name = f"{self.model} at {self.base_url}"
        self.n_ctx = n_ctx
        self.timeout = timeout
        self.last_stats = GenerationStats()
        self._tokenize_url: str | None = None
        self._tokenize_probed = False  # None after probing: the server offers none

    def _post(self, url: str, body: dict, timeout: float):
        request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        return urllib.request.urlopen(request, timeout=timeout)

    def _silent(self) -> str:
        return (f"the model server at {self.base_url} sent nothing for {self.timeout:.0f} s, so the answer was "
                "given up; is it overloaded? (the wait is the setting llm_timeout_s)")

    def _server_tokens(self, text: str) -> int | None:
        root = self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url
        candidates = ([self._tokenize_url] if self._tokenize_url else []) if self._tokenize_probed \
            else [f"{root}/extras/tokenize", f"{root}/tokenize"]
        for url in candidates:
            try:
                key = "input" if url.endswith("/extras/tokenize") else "content"
                with self._post(url, {key: text}, timeout=min(self.TOKENIZE_TIMEOUT_S, self.timeout)) as response:
                    tokens = json.loads(response.read())["tokens"]
                self._tokenize_url, self._tokenize_probed = url, True
                return len(tokens)
            except TimeoutError:
                break  # a silent server: count by characters, and let the answer's own timeout speak
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError):
                    break
                continue
            except (OSError, ValueError, KeyError, TypeError):
                continue
        self._tokenize_url, self._tokenize_probed = None, True
        return None

    def judge(self, messages: Sequence[Message]) -> float:
        raise ModelError("a model server gives no probabilities to judge with (can_judge is False)")

    def count(self, messages: Sequence[Message]) -> int:
        overhead = self.PER_MESSAGE_OVERHEAD * (len(messages) + 1)
        if self._tokenize_url is not None or not self._tokenize_probed:
            counted = self._server_tokens("\n".join(m["content"] for m in messages))
            if counted is not None:
                return counted + overhead
        return sum(len(m["content"]) // 3 for m in messages) + overhead

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float,
               grammar: str | None = None, should_stop: Callable[[], bool] | None = None,
               shape: AnswerShape | None = None) -> Iterator[str]:
        if shape is not None and not grammar:  # a server applies a grammar on its side
            grammar = cited_answer_grammar(sorted(shape.source_numbers), shape.max_sentences, shape.refusal)
        body = {"model": self.model, "messages": list(messages), "max_tokens": max_tokens,
                "temperature": temperature, "stream": True}
        if grammar:
            body["grammar"] = grammar  # llama.cpp's servers honour it; others ignore it
        stats = GenerationStats(prompt_tokens=self.count(messages))
        self.last_stats = stats
        started = time.perf_counter()
        first = None
        finished = False
        response = self._open_stream(body)
        try:
            with response:
                for raw in response:
                    if should_stop is not None and should_stop():
                        stats.stopped_by = "cancelled"
                        return  # closing the response tells the server to stop
                    line = raw.decode("utf-8", errors="replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        finished = True
                        break
                    try:
                        choice = json.loads(data)["choices"][0]
                    except (ValueError, KeyError, IndexError):
                        raise RemoteModelError(f"the model server at {self.base_url} sent a malformed "
                                               f"event: {data[:120]}") from None
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        if first is None:
                            first = time.perf_counter()
                            stats.time_to_first_token_s = first - started
                        stats.answer_tokens += 1
                        yield text
                    if choice.get("finish_reason"):
                        stats.stopped_by = choice["finish_reason"]
                        finished = True
        except TimeoutError:
            raise RemoteModelError(self._silent()) from None
        except OSError as exc:
            raise RemoteModelError(f"the model server at {self.base_url} broke off: {exc}") from None
        if not finished:
            raise RemoteModelError(
                f"the model server at {self.base_url} ended the answer without finishing it; the prompt may "
                "exceed its context", Remedy(Fix.LOWER, "n_ctx", str(self.n_ctx), note="to the server's context size"))
        if first is not None and stats.answer_tokens > 1:
            stats.tokens_per_second = (stats.answer_tokens - 1) / max(1e-9, time.perf_counter() - first)

    def _open_stream(self, body: dict[str, Any]):
        """The server's streamed response; its failures as `RemoteModelError`s."""
        try:
            return self._post(f"{self.base_url}/chat/completions", body, self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", errors="replace").strip().replace("\n", " ")
            raise RemoteModelError(f"the model server at {self.base_url} answered {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
                raise RemoteModelError(self._silent()) from None
            raise RemoteModelError(f"cannot reach the model server at {self.base_url}: {reason}") from None


def configured_model(settings) -> Path | str | None:
    """What `open_generator` would load, without loading it: the server URL, the
    GGUF path, or None (extractive mode). Raises ModelError for a named model
    that is missing or not a GGUF."""
    from rag.answer.model_catalog import default_model
    from rag.answer.model_files import find_models, resolve_model_path

    if settings.llm_url:
        return settings.llm_url
    if settings.model is None and not find_models(settings.models_dir):
        return None
    return resolve_model_path(settings.models_dir, settings.model, default_model().filename)
