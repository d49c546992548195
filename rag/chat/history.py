"""Saved conversations: one SQLite file in the index folder, `history.sqlite3`.

SQLite rather than JSON lines because each turn is saved as it is answered, by
possibly two chat windows at once, and a crash or a full disk mid-write must
never cost the turns already saved: a transaction gives that, where appending to
a text file leaves a torn last line to repair. It also lists conversations
without reading every answer, and it is in Python's standard library.

    meta(key, value)                     "format": the file's format version
    conversations(id, started, updated, scope)
    turns(conversation, position, asked, question, record)   record: rag/chat/record.py

A file that is not a database, or was written by a newer version, is reported as
a `HistoryError` and never written to. Every operation opens its own connection,
so the store can be used from any thread.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

from rag.chat.record import answer_from_record, answer_to_record
from rag.types.answers import Answer

Written = TypeVar("Written")
from rag.types.errors import HistoryError

HISTORY_FILE = "history.sqlite3"
FORMAT = 1
# How long a write waits for another chat window's write to finish.
BUSY_TIMEOUT_S = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    updated REAL NOT NULL,
    scope TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS turns (
    conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    asked REAL NOT NULL,
    question TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (conversation, position)
);
"""


@dataclass(frozen=True)
class ConversationSummary:
    """One saved conversation, as `rag history` and `/history` list it."""

    id: int
    started: float  # seconds since the epoch
    updated: float
    turns: int
    first_question: str
    scope: tuple[str, ...]

    def to_json(self) -> dict:
        return {"id": self.id, "started": _iso(self.started), "updated": _iso(self.updated), "turns": self.turns,
                "first_question": self.first_question, "scope": list(self.scope)}


@dataclass(frozen=True)
class Conversation:
    """A saved conversation's turns, oldest first, and the scope it was left with."""

    id: int
    answers: tuple[Answer, ...]
    scope: tuple[str, ...]


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(seconds))


class ConversationStore:
    """The conversations saved in one index folder."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def in_index(cls, index_dir: Path) -> "ConversationStore":
        return cls(index_dir / HISTORY_FILE)

    # ------------------------------------------------------------------ connections

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """A connection, the file checked; None when there is no file and `create` is False."""
        if not self.path.exists():
            if not create:
                return None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._error(exc) from None
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            self._check_format(connection, create)
        except sqlite3.Error as exc:
            connection.close()
            raise self._error(exc) from None
        except HistoryError:
            connection.close()
            raise
        return connection

    def _check_format(self, connection: sqlite3.Connection, create: bool) -> None:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            if tables:
                raise HistoryError(str(self.path), "not a conversation history (other tables)",
                                   "move it away to start a new history")
            if create:
                with connection:
                    connection.executescript(_SCHEMA)
                    connection.execute("INSERT INTO meta VALUES ('format', ?)", (str(FORMAT),))
            return
        row = connection.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        found = row[0] if row else None
        if found != str(FORMAT):
            newer = found is not None and found.isdigit() and int(found) > FORMAT
            raise HistoryError(str(self.path),
                               f"written by a newer version of rag (format {found})" if newer
                               else f"unknown format {found!r}",
                               "it is left as it is; this chat is not saved")

    def _error(self, exc: BaseException) -> HistoryError:
        message = str(exc)
        if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in message or "malformed" in message):
            return HistoryError(str(self.path), "unreadable (not an intact SQLite file)",
                                "it is left as it is; move it away to start a new history")
        if "disk is full" in message or getattr(exc, "errno", None) == 28:
            return HistoryError(str(self.path), "the disk is full",
                                "this chat is not saved from here on; the turns before are kept")
        if "readonly" in message.replace(" ", "").lower() or isinstance(exc, PermissionError):
            return HistoryError(str(self.path), "cannot be written (read-only)", "this chat is not saved")
        return HistoryError(str(self.path), message)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A connection to read with; None when nothing has been saved yet."""
        connection = self._connect(create=False)
        try:
            yield connection
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        finally:
            if connection is not None:
                connection.close()

    # ------------------------------------------------------------------ reading

    def check(self) -> None:
        """Raise `HistoryError` now when the file cannot be used."""
        with self._reading():
            pass

    def conversations(self) -> list[ConversationSummary]:
        """Every saved conversation, the most recently used first."""
        with self._reading() as db:
            if db is None:
                return []
            rows = db.execute("""
                SELECT c.id, c.started, c.updated, c.scope, COUNT(t.position),
                       (SELECT question FROM turns WHERE conversation = c.id ORDER BY position LIMIT 1)
                FROM conversations c LEFT JOIN turns t ON t.conversation = c.id
                GROUP BY c.id ORDER BY c.updated DESC, c.id DESC""").fetchall()
            return [ConversationSummary(r[0], r[1], r[2], r[4], r[5] or "", tuple(json.loads(r[3])))
                    for r in rows]

    def latest(self) -> int | None:
        with self._reading() as db:
            if db is None:
                return None
            row = db.execute("SELECT id FROM conversations ORDER BY updated DESC, id DESC LIMIT 1").fetchone()
            return row[0] if row else None

    def load(self, conversation_id: int) -> Conversation:
        """A conversation's answers; a `HistoryError` when there is no such one or a
        turn cannot be read."""
        with self._reading() as db:
            row = db.execute("SELECT scope FROM conversations WHERE id = ?", (conversation_id,)).fetchone() \
                if db is not None else None
            if db is None or row is None:
                raise HistoryError(str(self.path), f"no conversation {conversation_id}", "`rag history` lists them")
            records = db.execute("SELECT position, record FROM turns WHERE conversation = ? ORDER BY position",
                                 (conversation_id,)).fetchall()
            answers = []
            for position, record in records:
                try:
                    answers.append(answer_from_record(json.loads(record)))
                except (KeyError, TypeError, ValueError) as exc:
                    raise HistoryError(str(self.path), f"turn {position + 1} of conversation {conversation_id} "
                                       f"is unreadable ({type(exc).__name__}: {exc})") from None
            return Conversation(conversation_id, tuple(answers), tuple(json.loads(row[0])))

    # ------------------------------------------------------------------ writing

    def _write(self, statements: Callable[[sqlite3.Connection], Written]) -> Written:
        connection = self._connect(create=True)
        assert connection is not None  # made when missing
        try:
            with connection:
                return statements(connection)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        finally:
            connection.close()

    def start(self, scope: Sequence[str] = ()) -> int:
        now = time.time()
        row = self._write(lambda db: db.execute(
            "INSERT INTO conversations (started, updated, scope) VALUES (?, ?, ?)",
            (now, now, json.dumps(list(scope)))).lastrowid)
        assert row is not None  # an INSERT always has one
        return row

    def add(self, conversation_id: int, position: int, answer: Answer, scope: Sequence[str] = ()) -> None:
        """Save one answered turn (the turn at `position` is replaced if present) and
        the scope it was answered in, which the conversation keeps."""
        record = json.dumps(answer_to_record(answer), ensure_ascii=False)
        now = time.time()

        def save(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO turns VALUES (?, ?, ?, ?, ?)",
                       (conversation_id, position, now, answer.question, record))
            db.execute("UPDATE conversations SET updated = ?, scope = ? WHERE id = ?",
                       (now, json.dumps(list(scope)), conversation_id))

        self._write(save)

    def set_scope(self, conversation_id: int, scope: Sequence[str]) -> None:
        self._write(lambda db: db.execute("UPDATE conversations SET scope = ?, updated = ? WHERE id = ?",
                                          (json.dumps(list(scope)), time.time(), conversation_id)))

    def delete(self, conversation_id: int) -> bool:
        """Forget a conversation; False when there was none with that number."""
        if not self.path.exists():
            return False
        return bool(self._write(lambda db: db.execute(
            "DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount))
