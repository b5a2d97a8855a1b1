"""API keys and their roles: keys kept only as SHA-256 hashes in memory, compared in constant
time.

A key's id, which logs and rate limits use instead of the key, is the first 8 hex digits of an
HMAC-SHA-256 of the key under a random salt made when the process starts: a leaked log line
cannot be used to test guesses of a key, and the same key has another id in another worker
process and after a restart. Keys must be at least :data:`MIN_KEY_CHARS` characters long.

**Roles.** Each key has one of :data:`ROLES`, each allowed what the one before it is, and more:

- ``submit``: score, and send feedback (and read its own items, and withdraw them while
  they are not confirmed);
- ``review``: also read the review queue and every item with its text, review others' items,
  and delete any item, confirmed ones included;
- ``admin``: also read ``/metrics`` (unless ``WARNING_METRICS_PUBLIC=1``).

A key gets its role from its entry, ``ROLE:KEY`` (in ``WARNING_API_KEYS`` or one per line of
``WARNING_API_KEYS_FILE``); a key written without one gets ``WARNING_DEFAULT_KEY_ROLE``
(``submit`` unless set).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

__all__ = ["MIN_KEY_CHARS", "ROLES", "KeyStore", "has_role", "key_id", "split_role"]

#: The shortest key accepted at start-up.
MIN_KEY_CHARS = 16
#: Roles, from the least allowed to the most.
ROLES = ("submit", "review", "admin")
#: Made once per process; never logged, never stored.
_SALT = secrets.token_bytes(32)


def split_role(entry: str) -> tuple[str | None, str]:
    """(role, key) of a key entry: ``review:KEY`` names its role, a bare ``KEY`` none.

    Only the three role names count as a prefix, so a key that holds a colon elsewhere stays
    whole.

    Example:
        >>> split_role("review:k1-long-enough-key"), split_role("k1-long-enough-key")
        (('review', 'k1-long-enough-key'), (None, 'k1-long-enough-key'))
    """
    role, sep, key = entry.partition(":")
    if sep and role.strip().lower() in ROLES:
        return role.strip().lower(), key.strip()
    return None, entry.strip()


def has_role(role: str | None, needed: str) -> bool:
    """True when ``role`` allows what ``needed`` allows.

    Example:
        >>> has_role("admin", "review"), has_role("submit", "review")
        (True, False)
    """
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


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

    Args:
        keys: The keys; each a bare key or a ``(key, role)`` pair (role None: ``default_role``).
        default_role: The role of a key given without one.

    Example:
        >>> store = KeyStore(["k1-long-enough-key", ("k2-long-enough-key", "review")])
        >>> store.check("k1-long-enough-key") == key_id("k1-long-enough-key"), store.check("nope")
        (True, None)
        >>> store.role(store.check("k2-long-enough-key")), store.role(key_id("k1-long-enough-key"))
        ('review', 'submit')
    """

    def __init__(self, keys: Iterable[str | tuple[str, str | None]],
                 default_role: str = "submit") -> None:
        if default_role not in ROLES:
            raise ValueError(f"unknown role {default_role!r}; the roles are {', '.join(ROLES)}")
        roles: dict[str, str] = {}
        for entry in keys:
            key, role = (entry, None) if isinstance(entry, str) else entry
            if key:
                # a key listed twice keeps the higher of its roles
                role = role or default_role
                roles[key] = max(roles.get(key, role), role, key=ROLES.index)
        self._digests = [_digest(k) for k in roles]
        self._ids = [key_id(k) for k in roles]
        self._roles = {key_id(k): role for k, role in roles.items()}

    def __len__(self) -> int:
        return len(self._digests)

    def role(self, kid: str) -> str | None:
        """The role of the key with id ``kid`` (None: no such key)."""
        return self._roles.get(kid)

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
