"""Who may talk to `rag mcp --http`.

- It listens on a loopback address unless `--allow-remote` is given: the index is
  the user's private documents, and a server on 0.0.0.0 by mistake would serve
  them to the whole network.
- Beyond loopback a bearer token is required (RAG_MCP_TOKEN, or one generated and
  printed at start); on loopback too when RAG_MCP_TOKEN is set.
- The `Origin` header of a browser's request must be this machine's (or the bound
  host's), and `Host` must name it, as the MCP specification asks against DNS
  rebinding: a web page the user visits cannot make their browser query the server.
  The SDK checks Host and Origin on its endpoint (`transport_security`); the guard
  checks Origin and the token before any request reaches it.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from typing import TYPE_CHECKING, Any

from rag.types.errors import QueryError

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

TOKEN_VARIABLE = "RAG_MCP_TOKEN"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_address(text: str) -> tuple[str, int]:
    """"127.0.0.1:8765" -> ("127.0.0.1", 8765); "[::1]:8765" and ":8765" (loopback) too."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise QueryError(f"--http {text}: give HOST:PORT, e.g. 127.0.0.1:8765")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def token_for(host: str, allow_remote: bool) -> tuple[str | None, bool]:
    """(the bearer token the server requires, or None; whether it was generated now).
    Refuses a non-loopback address without `--allow-remote`."""
    if not is_loopback(host) and not allow_remote:
        raise QueryError(f"--http {host}: this address is reachable from other machines; serving your documents "
                         "there needs --allow-remote (a bearer token is then required)")
    given = os.environ.get(TOKEN_VARIABLE, "").strip()
    if given:
        return given, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(32), True


def _origins(host: str) -> list[str]:
    names = list(LOOPBACK_NAMES)
    if not is_loopback(host):
        names.append(f"[{host}]" if ":" in host else host)
    return names


def transport_security(host: str, port: int) -> TransportSecuritySettings:
    from mcp.server.transport_security import TransportSecuritySettings

    names = _origins(host)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in names] + names,
        allowed_origins=[f"{scheme}://{name}:*" for name in names for scheme in ("http", "https")]
        + [f"{scheme}://{name}" for name in names for scheme in ("http", "https")])


def origin_allowed(origin: str, host: str) -> bool:
    """A request without an Origin is not from a browser page; one with it must come
    from this machine (or the bound host), on any port."""
    if not origin:
        return True
    scheme, _, rest = origin.partition("://")
    name = rest.rsplit(":", 1)[0] if not rest.endswith("]") else rest
    return scheme in ("http", "https") and name in _origins(host)


class Guard:
    """ASGI middleware: a foreign Origin gets 403, a missing or wrong token 401."""

    def __init__(self, app: Any, token: str | None, host: str = "127.0.0.1"):
        self.app = app
        self.token = token
        self.host = host

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            if not origin_allowed(headers.get("origin", ""), self.host):
                await _refuse(send, 403, "this Origin may not use the server (a web page cannot query your documents)")
                return
            if self.token is not None:
                offered = headers.get("authorization", "")
                if not hmac.compare_digest(offered.encode(), f"Bearer {self.token}".encode()):
                    await _refuse(send, 401, "a bearer token is required (Authorization: Bearer …)",
                                  [(b"www-authenticate", b"Bearer")])
                    return
        await self.app(scope, receive, send)


async def _refuse(send: Any, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = message.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
