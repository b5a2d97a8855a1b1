"""Which columns hold the text, time, id, authors and channel: flags first, then names.

Column names are compared after lower-casing and turning spaces, dashes and dots into ``_``
(``Post Created`` -> ``post_created``). The text column must be unambiguous: two candidate
names (``text`` and ``message``), or none, stop the scan with a message naming the candidates and
``--text-col``. Time, id and channel take the first candidate in the order of the lists below.

**Authors.** Every column whose name looks like it names a person is an author column and is
pseudonymised, not just one (a safer mistake than the reverse). Names are split into words
(``Имя пользователя``, ``author_handle``, ``fromUser``, ``Username (@)``) and a column is an
author column when one of its words is, or starts with, a person word: ``user``, ``author``,
``sender``, ``nick``, ``login``, ``member``, ``signer``, ``commenter``, ``screen_name``, and in
Russian, Kyrgyz, Kazakh and Uzbek ``пользовател-``, ``автор``, ``отправител-``, ``ник``,
``логин``, ``колдонуучу``, ``жөнөтүүчү``, ``пайдаланушы``, ``қолданушы``, ``жіберуші``,
``foydalanuvchi``, ``muallif``, ``yuboruvchi``, ``taxallus``/``лакап`` ...; or a weaker word
(``from``, ``profile``, ``owner``, ``account``, ``handle``, ``by``, ``name``, ``имя``, ``ФИО``,
``аты``, ``ism``, ``профиль``, ``владелец``...) that no channel or object word qualifies
(``channel_name``, ``page_owner``, ``file_name`` are not authors). A word of time or of counting
(``from_date``, ``user_followers_count``) rules a column out. The text, time, id and channel
columns are never authors. ``--author-col`` adds columns to the ones detected (it never
replaces them); ``--not-author-col`` leaves a detected one in clear. The notes always list the
author columns, warn when none was found, and name columns kept in clear that look like they
could name people (``page_owner``).

Messages never quote a row: column names are shortened and cleaned, and a header that looks
like data (a headerless file) is reported as such without its values.

Example:
    >>> mapping, notes = pick_columns(["Date", "Message", "User Name"], source="posts.csv")
    >>> mapping.describe()
    'text=Message, time=Date, id=(none), authors=User Name, channel=(none)'
    >>> pick_columns(["text", "author", "user_id", "Отправитель", "from_date"])[0].authors
    ['author', 'user_id', 'Отправитель']
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

from warning.scanning.feeds.base import ColumnMap, FeedError

__all__ = ["CANDIDATES", "ColumnOverrides", "author_like", "header_looks_like_data",
           "normalise_name", "pick_columns", "show_names"]

#: Candidate names per role, most specific first (authors: see :func:`author_like` too).
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

# Words of a column name (after splitting) that mark a person. A word matches when it equals
# or starts with one of these (stems: ``пользовател`` matches ``пользователя``).
_PERSON_STRONG = (
    "user", "author", "sender", "nick", "login", "member", "signer", "commenter", "poster",
    "screenname", "uploader", "writer", "creator", "recipient", "receiver", "addressee",
    "пользовател", "юзер", "автор", "отправител", "ник", "никнейм", "логин", "участник",
    "комментатор", "получател", "адресат",
    "колдонуучу", "жөнөтүүчү", "лакап", "катышуучу",                          # Kyrgyz
    "пайдаланушы", "қолданушы", "жіберуші", "лақап", "қатысушы",               # Kazakh
    "foydalanuvchi", "muallif", "yuboruvchi", "taxallus", "ishtirokchi",        # Uzbek (Latin)
    "фойдаланувчи", "муаллиф", "юборувчи", "тахаллус",                         # Uzbek (Cyrillic)
)
# Weaker words: a person unless a channel or object word qualifies them.
_PERSON_WEAK = (
    "from", "profile", "owner", "account", "handle", "by", "uid", "sent", "email", "mail",
    "phone", "ip", "профил", "владел", "аккаунт", "ээси", "иесі", "egasi", "profil", "akkaunt",
    "телефон", "почт",
)
# Words meaning a name (a person's, unless qualified: ``channel_name``, ``file_name``).
_NAME_WORDS = (
    "name", "fullname", "displayname", "firstname", "lastname", "surname", "realname",
    "имя", "имени", "фио", "фамилия", "отчество", "аты", "ысым", "есім", "тегі", "ism", "ismi",
    "nomi", "familiya", "исм", "фамилияси",
)
# Words that make a weak person word or a name not a person's.
_NOT_PERSON = (
    "channel", "chat", "group", "page", "forum", "subreddit", "community", "room", "thread",
    "file", "image", "photo", "media", "attachment", "document", "product", "item", "city",
    "country", "region", "place", "event", "tag", "hashtag", "domain", "site", "host",
    "source", "app", "device", "topic", "category", "label", "field", "sheet", "brand",
    "company", "organization", "organisation", "title", "link", "sticker",
    "канал", "чат", "групп", "страниц", "сообществ", "паблик", "файл", "город", "стран",
    "тем", "kanal", "guruh", "sahifa", "топ", "барак",
)
# Words of time or counting: a column holding them is never an author.
_NEVER_AUTHOR = (
    "date", "time", "timestamp", "datetime", "created", "updated", "published", "edited",
    "modified", "day", "count", "counts", "total", "followers", "following", "friends",
    "likes", "favourites", "favorites", "statuses", "listed", "verified", "lang", "language",
    "views", "shares", "reactions", "replies", "retweets", "type", "kind",
    "дата", "дату", "даты", "время", "времени", "количеств", "кол", "число", "подписчиков",
    "күн", "убакыт", "саны", "уақыт", "sana", "vaqt", "soni",
)
# A person word this short must be a whole word (``by`` is not ``bytes``, ``ник`` not ``никак``).
_WHOLE = {"by", "uid", "sent", "ip", "ник", "тем", "кол", "day", "ism", "room", "tag", "app",
          "site", "host", "item", "file", "type", "kind", "name", "имя", "аты", "from", "page",
          "chat", "date", "time", "фио", "ысым", "есім", "тегі", "исм", "mail", "топ", "nomi",
          "ismi"}

_SEPARATORS = regex.compile(r"[\s\-.]+")
_CAMEL = regex.compile(r"(?<=\p{Ll}|\d)(?=\p{Lu})")
_WORDS = regex.compile(r"[^\p{L}\p{N}]+")


def normalise_name(name: str) -> str:
    """``'Post Created'`` -> ``'post_created'``."""
    return _SEPARATORS.sub("_", str(name).strip().lower()).strip("_")


def _words(name: str) -> list[str]:
    """``'fromUser'`` -> ``['from', 'user']``; ``'Username (@)'`` -> ``['username']``."""
    spaced = _CAMEL.sub("_", str(name))
    return [w for w in _WORDS.split(spaced.lower()) if w]


def _has(words: Sequence[str], vocabulary: Sequence[str]) -> bool:
    for word in words:
        for stem in vocabulary:
            if word == stem or (stem not in _WHOLE and word.startswith(stem)):
                return True
    return False


def author_like(name: str) -> str | None:
    """``'author'`` when the column ``name`` looks like it names a person, ``'maybe'`` when it
    holds a person word qualified by a channel or object word (``page_owner``: kept in clear,
    but worth a look), None otherwise (see the module docstring).

    Example:
        >>> [author_like(n) for n in ("Имя пользователя", "from_date", "channel_name",
        ...                           "page_owner", "owner_id", "Username (@)")]
        ['author', None, None, 'maybe', 'author', 'author']
    """
    words = _words(name)
    if len(words) > 1 and words[-1] == "by":  # posted_by, created_by
        return "author"
    if not words or _has(words, _NEVER_AUTHOR):
        return None
    if _has(words, _PERSON_STRONG):
        return "author"
    weak, named = _has(words, _PERSON_WEAK), _has(words, _NAME_WORDS)
    if not (weak or named):
        return None
    if _has(words, _NOT_PERSON):
        return "maybe" if weak else None
    return "author"


_DATA_LIKE = regex.compile(
    r"^\s*[-+]?\d[\d\s.,:/+-]*$"                          # a number, a date, a time
    r"|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"                   # a date inside
    r"|\d{1,2}:\d{2}"                                     # a time inside
    r"|https?://|www\.|@\w")                              # a link, a handle


def header_looks_like_data(columns: Sequence[str]) -> bool:
    """True when a header row looks like a row of data: a field that is a number, a date or
    a link, or reads like a sentence (over 40 characters, or five words or more).

    Example:
        >>> header_looks_like_data(["1", "Айбек Иванов", "Салам баарына", "01.05.2024 14:30"])
        True
        >>> header_looks_like_data(["Post Created Date", "Ссылка на профиль", "text"])
        False
    """
    for name in columns:
        name = str(name).strip()
        if not name:
            continue
        if _DATA_LIKE.search(name) or len(name) > 40 or len(name.split()) >= 5:
            return True
    return False


def _clean(name: str, width: int = 40) -> str:
    text = regex.sub(r"[\p{C}]+", " ", str(name)).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def show_names(columns: Sequence[str], limit: int = 15) -> str:
    """Column names for a message: each cleaned of control characters and cut to 40
    characters, at most ``limit`` of them; a name holding a comma or a semicolon is quoted, so
    that one column never reads as several (a file whose lines the reader could not split).

    Example:
        >>> show_names(["id", "a\\nb", "x" * 50], limit=2)
        'id, a b (and 1 more)'
        >>> show_names(["id,date,text"])
        '"id,date,text"'
    """
    shown = ", ".join(_quoted(_clean(c)) for c in list(columns)[:limit])
    more = len(columns) - limit
    return shown + (f" (and {more} more)" if more > 0 else "")


def _quoted(name: str) -> str:
    return f'"{name}"' if ("," in name or ";" in name) else name


class ColumnOverrides:
    """The column flags a user passed (``--text-col`` and the others); None = detect.

    Attributes:
        text, time, id, channel: One column each.
        authors: Author columns added to the detected ones (``--author-col``, repeatable).
        not_authors: Detected author columns to keep in clear (``--not-author-col``).
        keep: Other columns the caller reads (the label columns of ``warning train corpus
            --user``): a JSON Lines reader keeps them as it keeps the columns named above,
            past its column limit.
    """

    def __init__(self, text: str | None = None, time: str | None = None,
                 id: str | None = None, authors: Sequence[str] | None = None,
                 channel: str | None = None, not_authors: Sequence[str] | None = None,
                 keep: Sequence[str] | None = None) -> None:
        self.text, self.time, self.id, self.channel = text, time, id, channel
        self.authors = list(authors) if authors else None
        self.not_authors = list(not_authors) if not_authors else None
        self.keep = list(keep) if keep else None

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "time": self.time, "id": self.id, "authors": self.authors,
                "not_authors": self.not_authors, "channel": self.channel}


def _check(name: str, columns: Sequence[str], flag: str, source: str) -> str:
    if name not in columns:
        raise FeedError(f"{source}: {flag} {_clean(name)!r} is not a column; its columns are: "
                        f"{show_names(columns)}")
    return name


def pick_columns(columns: Sequence[str], overrides: ColumnOverrides | None = None,
                 source: str = "input", preset: ColumnMap | None = None,
                 ) -> tuple[ColumnMap, list[str]]:
    """The :class:`ColumnMap` for a file with ``columns``, and notes saying what was picked.

    Args:
        columns: The file's column names.
        overrides: Columns the user named; they win over detection and ``preset``.
        source: The file, for messages.
        preset: The mapping a known export format implies (Telegram, CrowdTangle); columns
            that look like authors are added to its authors.

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
                                f"{show_names(candidates)}; pass --text-col")
            if header_looks_like_data(columns):
                raise FeedError(f"{source}: the first row looks like data, not column names "
                                f"({len(columns)} fields); the file needs a header row naming "
                                f"its columns (or pass --text-col etc.)")
            raise FeedError(f"{source}: no text column found among {show_names(columns)}; "
                            f"pass --text-col")
        text = candidates[0]
        notes.append(f"text column: {_clean(text)} (detected)")

    def single(role: str, given: str | None, flag: str) -> str | None:
        if given is not None:
            return _check(given, columns, flag, source)
        if preset is not None:
            return getattr(preset, role)
        candidates = [c for c in found(role) if c != text]
        if candidates:
            notes.append(f"{role} column: {_clean(candidates[0])} (detected"
                         + (f"; also seen: {show_names(candidates[1:])}; pass {flag} to "
                            f"choose" if len(candidates) > 1 else "") + ")")
            return candidates[0]
        return None

    time = single("time", overrides.time, "--time-col")
    id_ = single("id", overrides.id, "--id-col")
    channel = single("channel", overrides.channel, "--channel-col")
    authors, author_notes = _authors(columns, overrides, source, preset, text,
                                     taken={text, time, id_, channel}, found=found("authors"))
    notes.extend(author_notes)
    if time is None:
        notes.append("no time column found: alerts need one (pass --time-col)")
    return ColumnMap(text=text, time=time, id=id_, authors=authors, channel=channel), notes


def _authors(columns: Sequence[str], overrides: ColumnOverrides, source: str,
             preset: ColumnMap | None, text: str, taken: set[str | None], found: list[str],
             ) -> tuple[list[str], list[str]]:
    """The author columns (detected, the preset's and ``--author-col``, less
    ``--not-author-col``) in column order, and the notes about them."""
    named = [_check(a, columns, "--author-col", source) for a in overrides.authors or []]
    if text in named:
        raise FeedError(f"{source}: --author-col {_clean(text)!r} is the text column; name the "
                        f"text with --text-col")
    unnamed = [_check(a, columns, "--not-author-col", source)
               for a in overrides.not_authors or []]
    both = set(named) & set(unnamed)
    if both:
        raise FeedError(f"{source}: {show_names(sorted(both))} given both to --author-col and "
                        f"to --not-author-col")
    detected = {c for c in found if c not in taken}
    detected |= {c for c in columns if c not in taken and author_like(c) == "author"}
    detected |= set(preset.authors if preset is not None else [])
    chosen = (detected | set(named)) - set(unnamed)
    authors = [c for c in columns if c in chosen]
    notes = []
    if authors:
        auto = [c for c in authors if c in detected]
        extra = [c for c in authors if c not in detected]
        how = "detected" if not extra else "; ".join(
            ([f"detected: {show_names(auto, limit=30)}"] if auto else [])
            + [f"named with --author-col: {show_names(extra, limit=30)}"])
        notes.append(f"author column(s): {show_names(authors, limit=30)} ({how}); "
                     f"check that no other column names people: add one with --author-col, "
                     f"leave one in clear with --not-author-col")
    else:
        notes.append("warning: no author column found by name; if a column names the people "
                     "who wrote the posts, pass --author-col NAME (it is then pseudonymised, "
                     "or left out with --drop-authors)")
    clear = [c for c in columns if c in unnamed and c in detected]
    if clear:
        notes.append(f"warning: kept in clear as asked (--not-author-col), though they look "
                     f"like author columns: {show_names(clear)}")
    maybe = [c for c in columns if c not in chosen and c not in taken
             and author_like(c) == "maybe"]
    if maybe:
        notes.append(f"warning: kept in clear, though their names could mean people: "
                     f"{show_names(maybe)}; pass --author-col to pseudonymise them")
    return authors, notes
