"""API keys: kept only as SHA-256 hashes in memory, compared in constant time.

A key's id is the first 8 hex digits of its hash: logs and rate limits name a key by its id,
never by the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

__all__ = ["KeyStore", "key_id"]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def key_id(key: str) -> str:
    """The short, loggable id of a key (a prefix of its SHA-256 hash).

    Example:
        >>> key_id("secret")
        '2bb80d53'
    """
    return _digest(key).hex()[:8]


class KeyStore:
    """The accepted keys, as hashes.

    Example:
        >>> store = KeyStore(["k1-long-enough"])
        >>> store.check("k1-long-enough") == key_id("k1-long-enough"), store.check("nope")
        (True, None)
    """

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = [_digest(k) for k in dict.fromkeys(keys) if k]

    def __len__(self) -> int:
        return len(self._digests)

    def check(self, key: str | None) -> str | None:
        """The key's id when it is accepted, else None. Every stored hash is compared, so the
        time taken does not depend on which key matched."""
        if not key:
            return None
        digest = _digest(key)
        matched = False
        for stored in self._digests:
            matched |= hmac.compare_digest(stored, digest)
        return digest.hex()[:8] if matched else None
