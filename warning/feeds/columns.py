"""Which columns hold the text, time, id, authors and channel: flags first, then names.

Column names are compared after lower-casing and turning spaces, dashes and dots into ``_``
(``Post Created`` -> ``post_created``). The text column must be unambiguous: two candidate
names (``text`` and ``message``), or none, stop the scan with a message naming the candidates and
``--text-col``. Time, id and channel take the first candidate in the order of the lists below.
Every author-like column is pseudonymised, not just one (a safer mistake than the reverse).

Example:
    >>> mapping, notes = pick_columns(["Date", "Message", "User Name"], source="posts.csv")
    >>> mapping.describe()
    'text=Message, time=Date, id=(none), authors=User Name, channel=(none)'
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

from .base import ColumnMap, FeedError

__all__ = ["CANDIDATES", "ColumnOverrides", "normalise_name", "pick_columns"]

#: Candidate names per role, most specific first.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "text": ("text", "message", "full_text", "content", "body", "post_text", "post", "comment",
             "comment_text", "tweet", "caption", "текст", "сообщение", "текст_сообщения",
             "комментарий"),
    "time": ("posted_at", "post_created", "created_at", "created_time", "creation_time",
             "date_unixtime", "timestamp", "datetime", "date", "time", "published_at",
             "published", "date_published", "pubdate", "created", "дата", "время"),
    "id": ("id", "post_id", "message_id", "msg_id", "tweet_id", "comment_id", "status_id",
           "uuid", "post_url", "url", "link"),
    "authors": ("author", "author_id", "author_name", "username", "user_name", "user",
                "user_id", "screen_name", "from", "from_id", "sender", "sender_id",
                "sender_name", "name", "full_name", "display_name", "profile", "profile_id",
                "profile_name", "profile_url", "commenter", "post_owner_name", "post_owner_id",
                "post_owner_username", "forwarded_from", "автор", "пользователь", "имя"),
    "channel": ("channel", "channel_name", "chat", "chat_name", "group", "group_name", "page",
                "page_name", "forum", "subreddit", "канал", "группа"),
}

_SEPARATORS = regex.compile(r"[\s\-.]+")


def normalise_name(name: str) -> str:
    """``'Post Created'`` -> ``'post_created'``."""
    return _SEPARATORS.sub("_", str(name).strip().lower()).strip("_")


class ColumnOverrides:
    """The column flags a user passed (``--text-col`` and the others); None = detect.

    Attributes:
        text, time, id, channel: One column each.
        authors: Author columns (``--author-col`` may be given several times).
    """

    def __init__(self, text: str | None = None, time: str | None = None,
                 id: str | None = None, authors: Sequence[str] | None = None,
                 channel: str | None = None) -> None:
        self.text, self.time, self.id, self.channel = text, time, id, channel
        self.authors = list(authors) if authors else None

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "time": self.time, "id": self.id, "authors": self.authors,
                "channel": self.channel}


def _check(name: str, columns: Sequence[str], flag: str, source: str) -> str:
    if name not in columns:
        raise FeedError(f"{source}: {flag} {name!r} is not a column; its columns are: "
                        f"{', '.join(columns)}")
    return name


def pick_columns(columns: Sequence[str], overrides: ColumnOverrides | None = None,
                 source: str = "input", preset: ColumnMap | None = None,
                 ) -> tuple[ColumnMap, list[str]]:
    """The :class:`ColumnMap` for a file with ``columns``, and notes saying what was picked.

    Args:
        columns: The file's column names.
        overrides: Columns the user named; they win over detection and ``preset``.
        source: The file, for messages.
        preset: The mapping a known export format implies (Telegram, CrowdTangle).

    Raises:
        FeedError: A named column does not exist, or the text column cannot be decided.
    """
    overrides = overrides or ColumnOverrides()
    by_norm: dict[str, list[str]] = {}
    for name in columns:
        by_norm.setdefault(normalise_name(name), []).append(name)

    def found(role: str) -> list[str]:
        return [c for cand in CANDIDATES[role] for c in by_norm.get(cand, [])]

    notes: list[str] = []
    if overrides.text is not None:
        text = _check(overrides.text, columns, "--text-col", source)
    elif preset is not None:
        text = preset.text
    else:
        candidates = found("text")
        if len(candidates) != 1:
            if candidates:
                raise FeedError(f"{source}: could not decide the text column among "
                                f"{', '.join(candidates)}; pass --text-col")
            raise FeedError(f"{source}: no text column found among {', '.join(columns)}; "
                            f"pass --text-col")
        text = candidates[0]
        notes.append(f"text column: {text} (detected)")

    def single(role: str, given: str | None, flag: str) -> str | None:
        if given is not None:
            return _check(given, columns, flag, source)
        if preset is not None:
            return getattr(preset, role)
        candidates = [c for c in found(role) if c != text]
        if candidates:
            notes.append(f"{role} column: {candidates[0]} (detected"
                         + (f"; also seen: {', '.join(candidates[1:])}; pass {flag} to choose"
                            if len(candidates) > 1 else "") + ")")
            return candidates[0]
        return None

    time = single("time", overrides.time, "--time-col")
    id_ = single("id", overrides.id, "--id-col")
    channel = single("channel", overrides.channel, "--channel-col")
    if overrides.authors is not None:
        authors = [_check(a, columns, "--author-col", source) for a in overrides.authors]
    elif preset is not None:
        authors = list(preset.authors)
    else:
        taken = {text, time, id_, channel}
        authors = list(dict.fromkeys(c for c in found("authors") if c not in taken))
        if authors:
            notes.append(f"author column(s): {', '.join(authors)} (detected; pass --author-col "
                         f"to name others)")
    if time is None:
        notes.append("no time column found: alerts need one (pass --time-col)")
    return ColumnMap(text=text, time=time, id=id_, authors=authors, channel=channel), notes
