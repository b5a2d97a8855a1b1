"""Encodings of text feeds: detection, and decoding that marks bad bytes instead of failing.

Spreadsheet programs in the region export CSV as UTF-8 (with or without a byte-order mark),
Windows-1251 (Cyrillic Windows) or UTF-16 ("Unicode text", usually with a BOM and tabs). The
detector looks at the first 64 KiB:

1. a BOM decides (UTF-8, UTF-16 LE or BE);
2. text with many NUL bytes that decodes as UTF-16 into Latin, Cyrillic and punctuation is
   UTF-16 without a BOM;
3. text that is valid UTF-8, or mostly so (more well-formed non-ASCII characters than bad
   bytes), is UTF-8; its few bad rows are rejected later, row by row;
4. text that is not UTF-8 but decodes as UTF-16 into such characters is UTF-16;
5. anything else is read as Windows-1251, and the notes say it was a guess.

Bytes that do not decode are not an error for the whole file: :func:`open_text` turns each into
a lone surrogate (U+DC00 + byte), which :func:`bad_bytes` finds, so that the row holding them is
rejected with its line number and every other row is kept.

Example:
    >>> detect_encoding("привет".encode("cp1251") * 10)[0]
    'cp1251'
    >>> detect_encoding(b"\\xef\\xbb\\xbfid,text\\n")[0]
    'utf-8-sig'
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import Any

import regex

__all__ = ["SAMPLE_BYTES", "bad_bytes", "detect_encoding", "fix_surrogates", "open_text",
           "read_sample"]

SAMPLE_BYTES = 1 << 16
_ERRORS = "warning-mark-bad-bytes"
_MARK = regex.compile(r"[\udc00-\udcff]")
_SURROGATE = regex.compile(r"[\ud800-\udfff]")


def _mark_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + b) for b in bad), error.end


codecs.register_error(_ERRORS, _mark_bad_bytes)


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _looks_like_text(text: str) -> bool:
    """Mostly Latin, Cyrillic, digits, punctuation and spaces (what UTF-16 misread is not)."""
    if not text:
        return False
    ok = sum(1 for c in text if c < "\u0250" or "\u0400" <= c < "\u0530"
             or "\u2000" <= c < "\u2070")
    return ok >= 0.95 * len(text)


def detect_encoding(sample: bytes) -> tuple[str, str]:
    """(Python codec name, a note in plain words) for a file that starts with ``sample``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with a byte-order mark"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16 with a byte-order mark"
    even = sample[: len(sample) - len(sample) % 2]
    if even.count(0) >= len(even) // 10:  # NUL bytes: UTF-16 (text files have none)
        for codec in ("utf-16-le", "utf-16-be"):
            try:
                if _looks_like_text(even.decode(codec)):
                    return codec, f"UTF-16 ({codec[-2:].upper()}) without a byte-order mark"
            except UnicodeDecodeError:
                continue
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(sample, final=False)  # a character cut at the sample's end is fine
    bad = text.count("\ufffd")
    good = sum(1 for c in text if c > "\x7f") - bad
    if bad == 0:
        return "utf-8", "UTF-8"
    if good >= bad:
        return "utf-8", (f"UTF-8 with {bad} invalid byte sequence(s) in its first "
                         f"{len(sample) // 1024 or 1} KiB: rows holding them are rejected")
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            candidate = even.decode(codec)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(candidate):
            return codec, f"UTF-16 ({codec[-2:].upper()}) without a byte-order mark"
    return "cp1251", ("not UTF-8: read as Windows-1251 (Cyrillic); pass --encoding if the "
                      "text looks wrong")


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    """The file as text in ``encoding``; undecodable bytes become marks (:func:`bad_bytes`).

    Newlines are left as they are (``newline=""``), as the csv module needs.

    Raises:
        LookupError: ``encoding`` is not a known codec.
    """
    codecs.lookup(encoding)
    return open(path, encoding=encoding, errors=_ERRORS, newline="")


def bad_bytes(text: str) -> str | None:
    """How many undecodable bytes are marked in ``text``, in words, or None when clean. Never
    the bytes themselves: they are part of a post (a Windows-1251 letter read as UTF-8), and
    rejects and messages never hold a post.

    Example:
        >>> bad_bytes("ok \udcff\udcfe"), bad_bytes("ok")
        ('2 bytes that cannot be decoded', None)
    """
    found = len(_MARK.findall(text))
    if not found:
        return None
    return f"{found} byte{'s' if found > 1 else ''} that cannot be decoded"


def fix_surrogates(value: Any) -> Any:
    """``value`` with every lone UTF-16 surrogate in its strings replaced by U+FFFD.

    JSON exports often hold half an emoji (``"\\ud83d"``), which decodes to a character no
    UTF-8 file can hold; the post is kept with a replacement character instead. Run
    :func:`bad_bytes` first: the marks of undecodable bytes are surrogates too.

    Example:
        >>> fix_surrogates({"text": "ok \\ud83d"})
        {'text': 'ok \\ufffd'}
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, list):
        return [fix_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {fix_surrogates(k): fix_surrogates(v) for k, v in value.items()}
    return value
