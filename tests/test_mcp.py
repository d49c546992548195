"""`rag mcp` as an assistant or an editor meets it: the official MCP SDK's client
starts the real server in a subprocess (over stdio, or over HTTP) on a real index,
with the real default model answering."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from rag.types.citations import Verdict

from helpers import RAG, rag_env


QUESTIONS = ("How many countries voted for the UN resolution drafted by Ukraine and its European allies?",
             "How did David Lammy describe sending British troops to Ukraine when he spoke to MPs?")


def stdio_server(seed_index, *args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable,
                                 args=["-m", "launcher", "mcp", "--index-dir", str(seed_index.index_dir), *args],
                                 env=rag_env(), cwd=str(seed_index.index_dir.parent))


def test_a_client_lists_searches_asks_twice_at_once_and_checks(seed_index, default_gguf):
    async def session():
        async with Client(stdio_server(seed_index, "--model", str(default_gguf)), read_timeout_seconds=600) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"question": "UN resolution vote", "k": 3})
            results: dict[str, object] = {}

            async def ask(question: str) -> None:
                results[question] = await client.call_tool("ask", {"question": question})

            async with anyio.create_task_group() as both:  # one model, two questions: answered in turn
                for question in QUESTIONS:
                    both.start_soon(ask, question)
            draft = ("The UN General Assembly adopted the resolution with 93 votes in favour [1]. "
                     "The vote was unanimous [1].\n\n[1]: " + Path(found.structured_content["hits"][0]["source"]).name)
            checked = await client.call_tool("check", {"text": draft})
            status = await client.call_tool("status", {"files": True})
            missing = await client.call_tool("show", {"file": "no-such-file.txt"})
            return tools, found, results, checked, status, missing

    tools, found, results, checked, status, missing = anyio.run(session)
    assert tools == {"search", "ask", "check", "show", "status"}  # no ingest without --allow-ingest

    assert not found.is_error
    hits = found.structured_content["hits"]
    assert len(hits) == 3 and all(h["label"] and h["source"] and h["text"] for h in hits)

    verdicts = {str(v) for v in Verdict}
    for question in QUESTIONS:
        answer = results[question]
        assert not answer.is_error, answer.content
        body = answer.structured_content
        assert body["mode"] == "local" and body["model"] == default_gguf.name
        sentences = body["citations"]["sentences"]
        assert sentences and all(s["verdict"] in verdicts for s in sentences)
    assert "93" in results[QUESTIONS[0]].structured_content["answer"]

    assert not checked.is_error
    by_sentence = {s["sentence"].rstrip("."): s["verdict"] for s in checked.structured_content["sentences"]}
    assert by_sentence["The UN General Assembly adopted the resolution with 93 votes in favour"] == "supported", \
        checked.structured_content
    assert by_sentence["The vote was unanimous"] != "supported"

    assert {f["state"] for f in status.structured_content["files"]} == {"indexed"}
    assert missing.is_error and "no-such-file.txt: not in the index" in missing.content[0].text
    assert "\n" not in missing.content[0].text.strip()


def test_a_model_crash_costs_one_answer_and_the_server_answers_on(seed_index, smollm2_gguf):
    """Three questions through the SDK client while the model's process segfaults on the
    second: the server stays up, the second answer says the model stopped and carries
    the extractive answer, the third is the model's again. The crash is staged
    (RAG_STAGED_MODEL_CRASH=2: the runner reads address 0 on its second answer, a real
    SIGSEGV in native code) since no input is known that makes llama.cpp crash on a CPU
    without AMX; SmolLM2 keeps it quick."""
    from rag.answer.model_process import STAGED_CRASH

    from conftest import CRASH_ANSWER_TOKENS, CRASH_QUESTIONS

    args = ["-m", "launcher", "mcp", "--index-dir", str(seed_index.index_dir), "--model", str(smollm2_gguf),
            *CRASH_ANSWER_TOKENS]
    server = StdioServerParameters(command=sys.executable, args=args, env=rag_env(**{STAGED_CRASH: "2"}),
                                   cwd=str(seed_index.index_dir.parent))

    async def session():
        async with Client(server, read_timeout_seconds=600) as client:
            return [await client.call_tool("ask", {"question": q}) for q in CRASH_QUESTIONS]

    results = anyio.run(session)
    assert not any(r.is_error for r in results), [r.content for r in results]
    first, stopped, third = (r.structured_content for r in results)
    for answer in (first, third):
        assert answer["mode"] == "local" and answer["model_stopped"] is None and answer["answer"]
    assert stopped["model_stopped"] == "signal 11, SIGSEGV"
    assert stopped["warning"].startswith("the model stopped unexpectedly")
    assert stopped["alternative"]["mode"] == "extractive" and "2.5" in stopped["alternative"]["answer"]


def test_nothing_but_the_protocol_reaches_stdout(seed_index):
    """Raw JSON-RPC over the pipes: every line the server writes is a protocol message,
    though the search loads the embedding model (whose libraries may print)."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "search", "arguments": {"question": "troops to Ukraine", "k": 1}}},
    ]
    process = subprocess.Popen([*RAG, "mcp", "--index-dir", str(seed_index.index_dir), "--extractive"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=rag_env())
    assert process.stdin is not None and process.stdout is not None
    lines = []
    for message in messages:
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        if "id" in message:
            lines.append(process.stdout.readline())
    process.stdin.close()  # the end of the conversation: the server stops
    lines += process.stdout.read().splitlines()
    assert process.wait(timeout=120) == 0
    replies = [json.loads(line) for line in lines if line.strip()]
    assert [r.get("id") for r in replies] == [1, 2]
    assert replies[1]["result"]["structuredContent"]["hits"][0]["text"]


class HttpServer:
    def __init__(self, seed_index, address: str, *args: str, env: dict[str, str] | None = None):
        self.process = subprocess.Popen([*RAG, "mcp", "--index-dir", str(seed_index.index_dir), "--extractive",
                                         "--http", address, *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or rag_env())
        self.said: list[str] = []
        assert self.process.stderr is not None
        while (line := self.process.stderr.readline()):
            self.said.append(line)
            if (found := re.search(r"at (http://\S+/mcp)", line)):
                self.url = found.group(1)
                break
        else:
            raise AssertionError(f"the server did not start: {self.said}")
        if "--allow-remote" in args and "RAG_MCP_TOKEN" not in (env or {}):
            self.said.append(self.process.stderr.readline())

    def post(self, headers: dict[str, str]) -> tuple[int, str]:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
        request = urllib.request.Request(self.url, data=body.encode(), method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def test_http_refuses_a_foreign_origin_and_serves_a_client(seed_index):
    server = HttpServer(seed_index, "127.0.0.1:0")
    try:
        status, text = server.post({"Origin": "http://evil.example"})
        assert status == 403 and "Origin" in text
        status, _ = server.post({"Origin": "http://localhost:5173"})  # a page served from this machine
        assert status == 200

        async def listing():
            async with Client(server.url) as client:
                return {t.name for t in (await client.list_tools()).tools}

        assert anyio.run(listing) == {"search", "ask", "check", "show", "status"}
    finally:
        server.stop()


def test_http_beyond_loopback_needs_allow_remote_and_then_a_token(seed_index):
    refused = subprocess.run([*RAG, "mcp", "--index-dir", str(seed_index.index_dir), "--http", "0.0.0.0:0"],
                             capture_output=True, text=True, env=rag_env(), timeout=120)
    assert refused.returncode == 2 and "--allow-remote" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr

    server = HttpServer(seed_index, "0.0.0.0:0", "--allow-remote")
    try:
        token = re.search(r"bearer token .*: (\S+)$", "".join(server.said), re.M)
        assert token, server.said
        assert server.post({})[0] == 401
        assert server.post({"Authorization": "Bearer wrong"})[0] == 401
        assert server.post({"Authorization": f"Bearer {token.group(1)}"})[0] == 200
    finally:
        server.stop()


def test_ingest_is_offered_only_when_allowed_and_only_below_its_folders(seed_index, tmp_path):
    index_dir = tmp_path / "idx"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "tides.txt").write_text("High tide at Brest is at 06:12 on Monday.\n", encoding="utf-8")
    outside = tmp_path / "private.txt"
    outside.write_text("The safe code is 4711.\n", encoding="utf-8")
    subprocess.run([*RAG, "ingest", str(inbox), "--index-dir", str(index_dir)], env=rag_env(), check=True,
                   capture_output=True, timeout=300)

    async def session():
        params = StdioServerParameters(command=sys.executable, env=rag_env(), args=[
            "-m", "launcher", "mcp", "--index-dir", str(index_dir), "--extractive", "--allow-ingest", str(inbox)])
        async with Client(params, read_timeout_seconds=300) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            denied = await client.call_tool("ingest", {"path": str(outside)})
            (inbox / "ferry.txt").write_text("The ferry to Ushant leaves at nine.\n", encoding="utf-8")
            added = await client.call_tool("ingest", {"path": str(inbox)})
            found = await client.call_tool("search", {"question": "ferry to Ushant", "k": 1})
            return tools, denied, added, found

    tools, denied, added, found = anyio.run(session)
    assert "ingest" in tools
    assert denied.is_error and "outside the folders this server may ingest" in denied.content[0].text
    assert not added.is_error and [Path(p).name for p in added.structured_content["added"]] == ["ferry.txt"]
    assert Path(found.structured_content["hits"][0]["source"]).name == "ferry.txt"


def test_a_request_that_waits_past_the_limit_is_told_so(seed_index):
    """The queue in front of the one model: a request that cannot have its turn within
    the wait limit fails with a message saying so, instead of hanging its client."""
    import threading

    from rag.cli.advice import explain
    from rag.cli.mcp_tools import McpTools, ServerBusyError
    from rag.library import Library

    library = McpTools(Library(seed_index), wait_s=0.2)
    held, release = threading.Event(), threading.Event()

    def long_request() -> None:
        with library._turn():
            held.set()
            release.wait(30)

    worker = threading.Thread(target=long_request)
    worker.start()
    held.wait(30)
    try:
        with pytest.raises(ServerBusyError) as info:
            library.search("troops to Ukraine")
        assert "busy with other requests for 0.2 s" in explain(info.value) and "--wait-limit" in explain(info.value)
    finally:
        release.set()
        worker.join()
    assert library.search("troops to Ukraine", k=1)["hits"]  # its turn, once the other is done
