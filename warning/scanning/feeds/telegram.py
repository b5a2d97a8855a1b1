"""Telegram Desktop exports (``result.json``), streamed message by message.

Telegram Desktop's "Export chat history" (JSON) writes one object with the chat's ``name``,
``type`` and ``id`` and a ``messages`` array; "Export Telegram data" writes every chat under
``chats.list`` (and ``left_chats.list``). Either can run to gigabytes, so this reader never loads
the file: it walks the top-level structure with a small buffered scanner and decodes one message
at a time with ``json.JSONDecoder.raw_decode``.

A message's ``text`` is a string or a list of pieces (strings and entities such as
``{"type": "bold", "text": "..."}``); the pieces are joined. Each message becomes a row with the
columns :data:`COLUMNS`: the chat's name is the ``channel``, ``date_unixtime`` (UTC; ``date``
in older exports, local time) the time, and ``from``, ``from_id`` and ``forwarded_from`` are
author columns. Service messages (joins, pins, calls) are rejected as not posts.

In a **personal chat** (``personal_chat``, ``saved_messages``) the chat's name and id are the
other person's name and user id, so in those rows ``channel`` and ``channel_id`` are marked
private (:attr:`FeedRow.private`) and the scan pseudonymises (or drops, or keeps) them as it
does the authors; channels and groups keep their names.

**Broken JSON.** A message that cannot be decoded is rejected with the lines it spans, and
reading goes on at the next message (the next ``{"id": ..., "type": ...`` object; when that
lies in another chat of a full export, the chat's name, type and id are taken from the lines
skipped). Broken JSON outside the messages (in a chat's name, type or id, or elsewhere in the
export) is rejected the same way, and reading goes on at the next message: the chat's own
first message when the break lies before its messages, else the first of a later chat. A field
of the chat that cannot be decoded is left unknown (empty ``channel`` or ``channel_id``), and
a chat whose type cannot be read, or is no text (a list, an object), has its name and id
treated as a person's, as in a personal chat. When no message follows (a file cut short, or
broken beyond repair), the rejected record says how many lines could not be read
(:attr:`FeedRow.lost_lines`); every message before it is kept.

Example:
    >>> feed = TelegramFeed("ChatExport/result.json")   # doctest: +SKIP
    >>> feed.mapping.describe()                          # doctest: +SKIP
    'text=text, time=date_unixtime, id=id, authors=from,from_id,forwarded_from, channel=channel'
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import regex

from warning.safe_io import (
    MAX_JSON_DEPTH,
    JsonTooDeep,
    check_json_depth,
    json_decode_error,
    json_loads,
    json_problem,
    shown_name,
)
from warning.scanning.feeds.base import ColumnMap, Feed, FeedError, FeedRow
from warning.scanning.feeds.columns import ColumnOverrides, pick_columns
from warning.scanning.feeds.encoding import bad_bytes, fix_surrogates, read_sample

__all__ = ["COLUMNS", "TelegramFeed", "flatten_text", "looks_like_telegram"]

COLUMNS = ["id", "type", "date", "date_unixtime", "edited", "from", "from_id",
           "forwarded_from", "reply_to_message_id", "media_type", "text", "channel",
           "channel_id"]
_WS = regex.compile(r"[ \t\r\n]*")
#: Where a message object starts (Telegram Desktop writes ``id`` then ``type`` first).
_MESSAGE_START = regex.compile(r'\{\s*"id"\s*:\s*(-?\d+)\s*,\s*"type"\s*:')
_MESSAGES_KEY = regex.compile(r'"messages"\s*:\s*\[')
_CHAT_BOUNDARY = regex.compile(r'\]\s*\}\s*,\s*\{|"list"\s*:\s*\[\s*\{')
_CHAT_FIELDS = {
    "name": regex.compile(r'"name"\s*:\s*("(?:[^"\\]|\\.)*"|null)'),
    "type": regex.compile(r'"type"\s*:\s*("(?:[^"\\]|\\.)*")'),
    "id": regex.compile(r'"id"\s*:\s*(-?\d+)'),
}
#: A chat's type that could not be read: its name and id may be a person's.
_UNREAD = object()
#: Text kept of a skipped span, to find a new chat's name in it.
_TAIL = 1 << 16
#: Chat types whose name and id are a person's.
PERSONAL_CHATS = frozenset({"personal_chat", "private", "saved_messages"})
_DECODER = json.JSONDecoder()
_BLOCK = 1 << 16
#: Largest single JSON value held in memory (characters).
MAX_VALUE = 1 << 26


class _JsonError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class _Stop(Exception):
    """Nothing more can be read (the rejected record saying so was returned)."""


class _JsonStream:
    """A JSON text read in blocks; values are decoded one at a time from the buffer."""

    def __init__(self, handle: io.TextIOBase) -> None:
        self.handle = handle
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self.handle.read(_BLOCK)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def _advance(self, end: int) -> None:
        self.line += self.buf.count("\n", self.pos, end)
        self.pos = end

    def peek(self) -> str:
        while True:
            match = _WS.match(self.buf, self.pos)
            self._advance(match.end() if match else self.pos)
            if self.pos < len(self.buf) or not self._fill():
                break
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def take(self, char: str) -> None:
        found = self.peek()
        if found != char:
            what = repr(found) if found else "the end of the file (cut short?)"
            raise _JsonError(f"expected {char!r} at line {self.line}, found {what}", self.line)
        self._advance(self.pos + 1)

    def value(self) -> Any:
        if not self.peek():
            raise _JsonError(f"the file ends at line {self.line} (cut short?)", self.line)
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise _JsonError(f"a value nested deeper than {MAX_JSON_DEPTH} levels at line "
                                 f"{self.line}", self.line) from None
            except json.JSONDecodeError as exc:
                incomplete = exc.pos >= len(self.buf) - 6 or exc.msg.startswith("Unterminated")
                if not incomplete or self.eof:
                    at = self.line - self.buf.count("\n", 0, self.pos) + exc.lineno - 1
                    where = "the file ends inside it (cut short?)" if self.eof and incomplete \
                        else json_problem(exc.msg, f"line {at}")
                    raise _JsonError(f"broken JSON in the value starting at line {self.line}: "
                                     f"{where}", self.line) from None
                if len(self.buf) - self.pos > MAX_VALUE:
                    raise _JsonError(f"a value over {MAX_VALUE:,} characters at line "
                                     f"{self.line}", self.line) from None
                self._fill()
                continue
            except ValueError as exc:  # int() refused a number of over 4,300 digits (a part
                # of it at the end of the block is already too long: no need to read on)
                error = json_decode_error(exc, self.buf, self.pos)
                at = self.line - self.buf.count("\n", 0, self.pos) + error.lineno - 1
                raise _JsonError(f"broken JSON in the value starting at line {self.line}: "
                                 f"{json_problem(error.msg, f'line {at}')}", self.line) from None
            if end >= len(self.buf) and not self.eof and self._fill():
                continue  # a number may go on in the next block
            try:
                check_json_depth(value, self.buf[self.pos : end])
            except JsonTooDeep:
                raise _JsonError(f"a value nested deeper than {MAX_JSON_DEPTH} levels at line "
                                 f"{self.line}", self.line) from None
            self._advance(end)
            return value

    def resync(self) -> tuple[bool, str]:
        """Move past the broken value at the current position to the start of the next
        message object: (True, the end of the text skipped), or (False, ...) at the end of the
        file. Holds one block at a time, whatever the length skipped."""
        tail, start = "", self.pos + 1
        while True:
            match = _MESSAGE_START.search(self.buf, min(start, len(self.buf)))
            if match:
                tail = (tail + self.buf[self.pos : match.start()])[-_TAIL:]
                self._advance(match.start())
                return True, tail
            keep = min(max(start, len(self.buf) - 256), len(self.buf))  # a start may straddle
            tail = (tail + self.buf[self.pos : keep])[-_TAIL:]
            self._advance(keep)
            if not self._fill():
                tail = (tail + self.buf[self.pos :])[-_TAIL:]
                self._advance(len(self.buf))
                return False, tail
            start = self.pos

    def skip_to_end(self) -> None:
        """Count the lines left, reading to the end of the file."""
        while True:
            self._advance(len(self.buf))
            if not self._fill():
                return


def flatten_text(text: Any) -> str | None:
    """A message's text as one string: strings and entity pieces joined; None when it is
    neither a string nor a list of them.

    Example:
        >>> flatten_text(["Салам ", {"type": "bold", "text": "баарына"}, "!"])
        'Салам баарына!'
    """
    if isinstance(text, str):
        return text
    if not isinstance(text, list):
        return None
    parts = []
    for piece in text:
        if isinstance(piece, str):
            parts.append(piece)
        elif isinstance(piece, dict) and isinstance(piece.get("text"), str):
            parts.append(piece["text"])
        else:
            return None
    return "".join(parts)


def looks_like_telegram(sample: bytes) -> bool:
    """True when a JSON file's start looks like a Telegram Desktop export."""
    head = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and (b'"messages"' in sample or b'"chats"' in sample)


def _text_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class TelegramFeed(Feed):
    """A Telegram Desktop JSON export (see the module docstring).

    Raises:
        FeedError: The file does not look like a Telegram export.
    """

    format = "telegram"

    def __init__(self, path: Path | str, overrides: ColumnOverrides | None = None) -> None:
        super().__init__(Path(path))
        sample = read_sample(self.path)
        if not looks_like_telegram(sample):
            raise FeedError(f"{self.path}: not a Telegram Desktop export (no \"messages\" or "
                            f"\"chats\" near the start); pass --input-format")
        self.columns = list(COLUMNS)
        time = "date_unixtime" if b'"date_unixtime"' in sample or b'"messages"' not in \
            sample else "date"
        preset = ColumnMap(text="text", time=time, id="id", channel="channel",
                           authors=["from", "from_id", "forwarded_from"])
        self.mapping, picked = pick_columns(self.columns, overrides, str(self.path), preset)
        self.notes.append(f"Telegram Desktop export: {self.mapping.describe()}")
        if any(f'"type": "{kind}"'.encode() in sample for kind in PERSONAL_CHATS):
            self.notes.append("personal chats: their name and id (the other person's) are in "
                              "channel and channel_id, so in their rows those are "
                              "pseudonymised (or left out, or kept) like the author columns")
        if time == "date":
            self.notes.append("messages have no date_unixtime (an older export): their local "
                              "times are read in WARNING_TIMEZONE")
        self.notes.extend(picked)

    def rows(self) -> Iterator[FeedRow]:
        self._finished = False
        with open(self.path, encoding="utf-8-sig", errors="surrogateescape") as handle:
            self._handle = handle
            stream = _JsonStream(handle)
            try:
                stream.take("{")
                yield from self._object(stream, {}, "top")
            except _Stop:
                pass
            except _JsonError as exc:
                stream.skip_to_end()
                lost = max(stream.line - exc.line + 1, 1)
                yield FeedRow(exc.line, None, f"{exc}; nothing after it could be read: lines "
                                              f"{exc.line}-{stream.line} ({lost:,} lines) "
                                              f"unreadable", lost_lines=lost)
        self._handle, self._finished = None, True

    def _object(self, stream: _JsonStream, chat: dict[str, Any], level: str,
                first: bool = True) -> Iterator[FeedRow]:
        """The members of an object whose ``{`` was taken (and, when not ``first``, some of its
        members): messages are walked, the chat's name, type and id kept,
        ``chats``/``left_chats`` (at the top) and their ``list`` entered, other values decoded
        and dropped. Broken JSON in a member is rejected, and reading goes on at the next
        message (:meth:`_resume`)."""
        while stream.peek() != "}":
            key: Any = None
            try:
                if not first:
                    stream.take(",")
                first = False
                line = stream.line
                key = stream.value()
                if not isinstance(key, str):
                    raise _JsonError(f"expected a key at line {line}", line)
                stream.take(":")
                opening = stream.peek()
                if key == "messages" and opening == "[" and level in ("top", "chat"):
                    stream.take("[")
                elif key in ("chats", "left_chats") and opening == "{" and level == "top":
                    stream.take("{")
                elif key == "list" and opening == "[" and level == "chats":
                    stream.take("[")
                else:
                    value = stream.value()
                    if key in ("name", "id", "type"):
                        chat[key] = value
                    continue
            except _JsonError as exc:
                yield from self._resume(stream, chat, level, exc,
                                        key if isinstance(key, str) else None)
                continue
            if key == "messages":
                yield from self._messages(stream, chat)
            elif key == "list":
                yield from self._list(stream)
            else:
                yield from self._object(stream, {}, "chats")
        stream.take("}")

    def _list(self, stream: _JsonStream, first: bool = True) -> Iterator[FeedRow]:
        """The chats of a ``list`` whose ``[`` was taken (and, when not ``first``, some of
        them)."""
        while stream.peek() != "]":
            try:
                if not first:
                    stream.take(",")
                first = False
                stream.take("{")
            except _JsonError as exc:
                yield from self._resume(stream, {}, "list", exc, None)
                continue
            yield from self._object(stream, {}, "chat")
        stream.take("]")

    def _resume(self, stream: _JsonStream, chat: dict[str, Any], level: str,
                exc: _JsonError, key: str | None) -> Iterator[FeedRow]:
        """After broken JSON outside the messages (in an object at ``level``, in the member
        ``key`` when it was read): the rejected record, then the messages from the next one on
        and the rest of the objects they lie in, up to ``level``, whose walk then goes on.

        Raises:
            _Stop: No message follows.
        """
        row, found, crossed = self._recover(stream, chat, exc, level, key)
        yield row
        if not found:
            raise _Stop from None
        yield from self._messages(stream, chat)
        if level == "chat" or (level == "top" and not crossed):
            return  # messages of the chat being read, or of the next one in its list
        yield from self._object(stream, chat, "chat", first=False)
        if level != "list":
            yield from self._list(stream, first=False)
        if level == "top":
            yield from self._object(stream, {}, "chats", first=False)

    def _messages(self, stream: _JsonStream, chat: dict[str, Any]) -> Iterator[FeedRow]:
        after_message = False
        while True:
            try:
                char = stream.peek()
                if char == "]":
                    break
                if after_message and char == ",":
                    stream.take(",")
                elif after_message and char != "{":  # a missing comma costs nothing
                    found = repr(char) if char else "the end of the file (cut short?)"
                    raise _JsonError(f"expected ',' or ']' at line {stream.line}, found "
                                     f"{found}", stream.line)
                stream.peek()
                line = stream.line
                message = stream.value()
            except _JsonError as exc:
                row, found, _ = self._recover(stream, chat, exc)
                yield row
                if not found:
                    raise _Stop from None
                after_message = False
                continue
            after_message = True
            yield self._row(line, message, chat)
        stream.take("]")

    def _recover(self, stream: _JsonStream, chat: dict[str, Any], exc: _JsonError,
                 level: str = "message", key: str | None = None,
                 ) -> tuple[FeedRow, bool, bool]:
        """The rejected record for broken JSON (in a message, or outside the messages in an
        object at ``level``, in its member ``key``), whether another message follows (the
        stream is then moved to it, and ``chat`` to the chat it is in), and whether the lines
        skipped start another chat."""
        start = exc.line
        head = _MESSAGE_START.match(stream.buf, stream.pos)  # its id, read before the break
        ident = head.group(1) if head and level == "message" else None
        found, skipped = stream.resync()
        keys = list(_MESSAGES_KEY.finditer(skipped))
        header = skipped[: keys[-1].start()] if keys else ""
        bounds = list(_CHAT_BOUNDARY.finditer(header))
        crossed = bool(bounds) or level in ("chats", "list") or (level == "message" and
                                                                  bool(keys))
        place = "" if level == "message" else f" ({_place(level, key, crossed)})"
        if not found:
            lost = max(stream.line - start + 1, 1)
            return FeedRow(start, None, f"{exc}{place}; nothing after it could be read: lines "
                                        f"{start}-{stream.line} ({lost:,} lines) unreadable",
                           lost_lines=lost, id=ident), False, crossed
        end = max(stream.line - 1, start)
        others = len(_MESSAGE_START.findall(skipped[1:]))
        note = ""
        if crossed:
            chat.clear()
            header = header[bounds[-1].end() :] if bounds else header
            # a chat's name is quoted only when the chat is known not to be a person's: the
            # rejects file is not pseudonymised
            kind = _field(header, "type")
            name = f" ({chat_name!r})" if isinstance(chat_name := _field(header, "name"), str) \
                and isinstance(kind, str) and kind not in PERSONAL_CHATS else ""
            note = f"; the lines skipped end one chat and start another{name}"
        if crossed or level != "message":  # the chat's fields after the break, from the header
            for field in _CHAT_FIELDS:
                if field not in chat and (value := _field(header, field)) is not _UNREAD:
                    chat[field] = value
            chat.setdefault("type", _UNREAD)
            unknown = [f for f in _CHAT_FIELDS if chat.get(f, _UNREAD) is _UNREAD]
            if unknown:
                note += (f"; the chat's {' and '.join(unknown)} could not be read: left empty"
                         + (", its name and id treated as a person's" if "type" in unknown
                            else ""))
        span = f"lines {start}-{end}" if end > start else f"line {start}"
        lost = f" (and about {others} more message(s) in them)" if others else ""
        return FeedRow(start, None, f"{exc}{place}; {span} left out{lost}, reading went on at "
                                    f"the next message (line {stream.line}){note}",
                       count=1 + others, id=ident), True, crossed

    def _row(self, line: int, message: Any, chat: dict[str, Any]) -> FeedRow:
        if not isinstance(message, dict):
            return FeedRow(line, None, f"a message that is a JSON {type(message).__name__}")
        values = {name: _text_value(message.get(name)) for name in COLUMNS}
        values["channel"] = _text_value(chat.get("name"))
        values["channel_id"] = _text_value(chat.get("id"))
        # any JSON value: a list or an object is no chat type, and may hide a personal chat
        # (["personal_chat"]): its name and id are a person's, as when the type is unread
        kind = chat.get("type")
        private = ("channel", "channel_id") if kind is _UNREAD or (
            kind in PERSONAL_CHATS if isinstance(kind, str) else kind is not None) else ()
        text = flatten_text(message.get("text", ""))
        values["text"] = text
        if message.get("type", "message") != "message":
            action = message.get("action") or message.get("type")
            return FeedRow(line, values, f"a service message ({action})", reason="not a post",
                           private=private)
        if text is None:
            return FeedRow(line, values, "text is neither a string nor a list of pieces",
                           private=private)
        bad = next((b for b in map(bad_bytes, (v for v in values.values() if v)) if b), None)
        if bad:
            return FeedRow(line, values, f"not valid UTF-8 ({bad})", private=private)
        return FeedRow(line, fix_surrogates(values), private=private)


def _field(header: str, field: str) -> Any:
    """A chat's ``name``, ``type`` or ``id`` from the text of its header (the JSON value), or
    :data:`_UNREAD` when it is not there or broken too (a bad escape, a control character, a
    number of over 4,300 digits)."""
    match = _CHAT_FIELDS[field].search(header)
    if match is None:
        return _UNREAD
    try:
        return json_loads(match.group(1))
    except json.JSONDecodeError:
        return _UNREAD


def _place(level: str, key: str | None, crossed: bool) -> str:
    """Where broken JSON outside the messages lies, in words."""
    if level == "list":
        return "between two chats"
    if level == "chat" or (level == "top" and not crossed and key in (None, *_CHAT_FIELDS)):
        return f"in the chat's {shown_name(key)!r}, outside its messages" if key else \
            "in a chat's header, outside its messages"
    return f"in {shown_name(key)!r}, outside the messages" if key else "outside the messages"
