"""API keys: kept only as SHA-256 hashes in memory, compared in constant time.

A key's id, which logs and rate limits use instead of the key, is the first 8 hex digits of an
HMAC-SHA-256 of the key under a random salt made when the process starts: a leaked log line
cannot be used to test guesses of a key, and the same key has another id in another worker
process and after a restart. Keys must be at least :data:`MIN_KEY_CHARS` characters long.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

__all__ = ["MIN_KEY_CHARS", "KeyStore", "key_id"]

#: The shortest key accepted at start-up.
MIN_KEY_CHARS = 16
#: Made once per process; never logged, never stored.
_SALT = secrets.token_bytes(32)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def key_id(key: str) -> str:
    """The short, loggable id of a key (a prefix of its HMAC under this process's salt).

    Example:
        >>> len(key_id("a-long-enough-secret")), key_id("a-long-enough-secret") == key_id(
        ...     "a-long-enough-secret")
        (8, True)
    """
    return hmac.new(_SALT, key.encode("utf-8"), hashlib.sha256).hexdigest()[:8]


class KeyStore:
    """The accepted keys, as hashes.

    Example:
        >>> store = KeyStore(["k1-long-enough-key"])
        >>> store.check("k1-long-enough-key") == key_id("k1-long-enough-key"), store.check("nope")
        (True, None)
    """

    def __init__(self, keys: Iterable[str]) -> None:
        unique = [k for k in dict.fromkeys(keys) if k]
        self._digests = [_digest(k) for k in unique]
        self._ids = [key_id(k) for k in unique]

    def __len__(self) -> int:
        return len(self._digests)

    def check(self, key: str | None) -> str | None:
        """The key's id when it is accepted, else None. Every stored hash is compared, so the
        time taken does not depend on which key matched."""
        if not key:
            return None
        digest = _digest(key)
        matched: str | None = None
        for stored, kid in zip(self._digests, self._ids, strict=True):
            if hmac.compare_digest(stored, digest):
                matched = kid
        return matched
