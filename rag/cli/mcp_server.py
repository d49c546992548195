"""`rag mcp`: the index served over the Model Context Protocol, with the official
SDK (`mcp`), so an assistant or an editor can search it and get answers whose
citations were checked.

Tools: search, ask, check, show, status; ingest only with `--allow-ingest DIR`
(and only below those folders). Each returns the JSON the command line's `--json`
prints, with every string passed through the terminal-safe filter; a library
error comes back as a tool error holding the one-line message the command line
would print. Over stdio the SDK diverts file descriptor 1 to stderr while it
serves, so nothing but the protocol reaches stdout (a library or llama.cpp that
prints goes to stderr). Over HTTP, rag/cli/http_guard.py decides who may ask.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from rag.cli.mcp_tools import McpTools

if TYPE_CHECKING:
    from mcp.server import MCPServer

INSTRUCTIONS = (
    "Search and answer from the user's own documents, offline. `ask` answers a question with numbered "
    "citations; each sentence carries a verdict (supported, unsupported, wrong source, uncited) that the "
    "server checked against the cited passage: quote only supported sentences as fact. `search` returns "
    "passages with labels and pages; `check` verifies a draft's citations; `show` prints one file's "
    "passages; `status` describes the index and, with files=true, every file's state.")


def _clean(value: Any) -> Any:
    """Every string inert (no control or bidi-override characters), recursively."""
    from rag.text.safe_text import inert

    if isinstance(value, str):
        return inert(value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


async def _run(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The tool's work in a worker thread (the event loop keeps serving, and a second
    request queues on the library's lock); a library error as a tool error."""
    import anyio
    from mcp.server.mcpserver.exceptions import ToolError

    from rag.cli.advice import explain
    from rag.types.errors import RagError

    try:
        return _clean(await anyio.to_thread.run_sync(work))
    except RagError as exc:
        raise ToolError(_clean(explain(exc))) from None


def build_server(library: McpTools) -> MCPServer:
    from mcp.server import MCPServer
    from mcp.types import ToolAnnotations

    from rag import __version__

    server = MCPServer("rag", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    reading = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=reading)
    async def search(question: str, k: int = 0, only: list[str] | None = None) -> dict[str, Any]:
        """The passages that best match a question (hybrid search), each with its label
        (file or title, paragraph, page), text and score. `k`: how many (default 5);
        `only`: search only documents whose path matches a glob or holds these words."""
        return await _run(lambda: library.search(question, k, only or ()))

    @server.tool(annotations=reading)
    async def ask(question: str, only: list[str] | None = None, strict: bool = False) -> dict[str, Any]:
        """Answer a question from the documents with numbered citations [n]. The result
        holds the answer, the mode and model, the cited sources, and `citations`: each
        sentence with its verdict (supported / unsupported / wrong_source / uncited /
        no_claim) checked against the passage it cites. `strict` drops unsupported
        sentences. Questions are answered one at a time by one local model."""
        return await _run(lambda: library.ask(question, only or (), strict))

    @server.tool(annotations=reading)
    async def check(text: str) -> dict[str, Any]:
        """Check a draft's citations: Markdown or text whose sentences cite [1] or [^1],
        with a sources list ("[1]: report.pdf, p. 3" or "[^1]: file ¶4"). Each sentence
        gets a verdict and, when it is not supported, a passage that supports it."""
        return await _run(lambda: library.check(text))

    @server.tool(annotations=reading)
    async def show(file: str) -> dict[str, Any]:
        """Everything read from one ingested file: its title, byline and every passage
        with its label, page and paragraph (a path, or a file name unique in the index)."""
        return await _run(lambda: library.show(file))

    @server.tool(annotations=reading)
    async def status(files: bool = False) -> dict[str, Any]:
        """The index: model, documents, passages and file counts. With `files`, every
        file it knows: indexed, skipped (and why), changed on disk since, or gone."""
        return await _run(lambda: library.status(files))

    if library.ingest_roots:
        roots = ", ".join(str(r) for r in library.ingest_roots)

        async def ingest(path: str) -> dict[str, Any]:
            return await _run(lambda: library.ingest(path))

        server.add_tool(ingest, name="ingest", description=(
            f"Add or update a file or folder in the index (only below: {roots}); unchanged files are "
            "skipped and files deleted from a folder removed. Returns what was added, updated and removed."),
            annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
    return server


def serve_stdio(library: McpTools) -> None:
    build_server(library).run("stdio")


def serve_http(library: McpTools, host: str, port: int, token: str | None,
               on_ready: Callable[[str], None]) -> None:
    """Streamable HTTP at http://HOST:PORT/mcp, behind the guard (Host and Origin
    checked against DNS rebinding; a bearer token when one is set)."""
    import socket

    import anyio
    import uvicorn

    from rag.cli.http_guard import Guard, transport_security
    from rag.types.errors import QueryError

    try:  # a port in use is one line here, not uvicorn's log and exit
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise QueryError(f"--http {host}:{port}: cannot listen there ({exc.strerror or exc})") from None

    app = build_server(library).streamable_http_app(transport_security=transport_security(host, port), host=host)
    config = uvicorn.Config(Guard(app, token, host), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(server.serve)
            while not server.started:
                await anyio.sleep(0.05)
            on_ready(f"http://{_url_host(host)}:{_bound_port(server, port)}/mcp")

    anyio.run(main)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _bound_port(server: Any, asked: int) -> int:
    """The port listened on (asked 0: the one the system chose)."""
    for listener in getattr(server, "servers", []):
        for sock in getattr(listener, "sockets", []):
            return int(sock.getsockname()[1])
    return asked
