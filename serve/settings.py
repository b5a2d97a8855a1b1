"""Settings of the HTTP API: ``WARNING_*`` environment variables, and an optional env file.

Read by :func:`get_settings` when the app is built, never at import time (STYLE.md item 13).
The env file named by ``WARNING_SETTINGS_FILE`` holds ``NAME=value`` lines; the environment wins
over it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServeSettings", "SettingsError", "get_settings"]


class SettingsError(ValueError):
    """The settings do not allow the server to start (no keys, unreadable key file, ...)."""


class ServeSettings(BaseSettings):
    """What the API server reads from ``WARNING_*`` variables.

    Attributes:
        api_keys: Comma-separated API keys (``WARNING_API_KEYS``), each ``KEY`` or
            ``ROLE:KEY`` (role ``submit``, ``review`` or ``admin``: see :mod:`serve.auth`).
            Kept only as SHA-256 hashes once the app is built.
        api_keys_file: A file with one key (``KEY`` or ``ROLE:KEY``) per line (``#`` comments
            allowed).
        default_key_role: The role of a key given without one (``submit``).
        open_access: ``WARNING_OPEN_ACCESS=1`` runs an explicitly open server, without keys.
        model: Model folder (``WARNING_MODEL``; default: the shipped default model).
        max_texts: Most texts in one request.
        max_text_chars: Longest text, in characters.
        max_body_bytes: Largest request body; larger ones are refused with 413 before parsing.
        rate_per_minute: Requests a key may make per minute (sustained rate).
        rate_burst: Requests a key may make at once, before the rate applies.
        work_per_minute: Work a key may ask of the model per minute, in units: a text costs
            one unit per 1,000 characters, at least 0.1 (with ``explain``, once more per word
            explained; see :mod:`serve.limits`).
        work_burst: Units a key may spend at once; a request is let in while the key's
            allowance is positive, and its whole cost is then charged (a larger request than
            the burst waits until the allowance is full).
        header_timeout_seconds: Longest time a client may take to send a request's headers
            (slow clients are cut off; answered 408 when it sent part of them).
        body_timeout_seconds: Longest time a client may take to send a request's body
            (answered 408).
        batching: Coalesce concurrent requests into one model call (micro-batching); off:
            one model call per request, one at a time in a worker thread.
        batch_max_posts: Most posts in one batched model call.
        batch_max_units: Most work units (see ``work_per_minute``) in one batched model call:
            a large request is scored in several calls, each shared fairly between keys.
        batch_max_wait_ms: How long the first post of a batch waits for others to join it.
        model_processes: Model processes beside the server's own thread (each loads its own
            copy of the model, on the first heavy request): heavy work (a key with a backlog,
            or a text longer than ``batch_max_units``) is scored there, so that it shares
            neither the CPU time of the server's event loop nor its GIL, and the thread keeps
            for light requests. 0: every call in the thread. Only for a model the server loads
            itself (``WARNING_MODEL``), with batching on.
        model_process_max_units: Most work units in one call of a model process: its calls
            never delay a light request, so they are larger than ``batch_max_units`` (less
            work for the server per unit scored); the heavy keys still take turns, piece by
            piece, within a call.
        model_process_nice: How much lower the model processes' CPU priority is than the
            server's (``nice`` steps, 0-19): on a busy machine the handling of requests, light
            ones included, runs first and heavy work takes the CPU time left; 0: the same.
        queue_max_posts: Most posts waiting for the model; past it a request is answered 503
            with ``Retry-After`` instead of queueing (back-pressure). Keep it at least
            ``max_texts``: a larger request is let in only when the queue is empty.
        load_in_background: Load the model after the server starts listening (``/healthz``
            answers at once, ``/readyz`` and scoring answer 503 until the model is loaded);
            off: the server listens only once the model is loaded.
        metrics_public: ``/metrics`` needs no key (for a Prometheus on a private network).
        feedback_db: Database of reviewed feedback (``WARNING_FEEDBACK_DB``): a SQLite file
            (one machine) or a ``postgresql+psycopg://`` URL (replicas sharing it); unset turns
            ``/v1/feedback`` off (404 ``feedback-disabled``).
        feedback_retention_days: Days a feedback item is kept (``WARNING_FEEDBACK_RETENTION_DAYS``).
        feedback_extremism: Accept corrections of the experimental ``extremism`` label.
        response_memory: Recent scoring responses kept in the feedback database, so that
            feedback can name one by its ``id`` on any replica (only while feedback is on; 0
            keeps none).
        response_memory_seconds: How long such a response is kept.
        console: Serve the moderators' console at ``/console`` (``WARNING_CONSOLE=0`` turns
            it off; the API routes it uses stay).

    Example:
        >>> ServeSettings(open_access=True).max_texts
        100
    """

    model_config = SettingsConfigDict(env_prefix="WARNING_", extra="ignore")

    api_keys: SecretStr = SecretStr("")
    api_keys_file: Path | None = None
    default_key_role: Literal["submit", "review", "admin"] = "submit"
    open_access: bool = False
    model: Path | None = None
    max_texts: int = Field(100, ge=1)
    max_text_chars: int = Field(20_000, ge=1)
    max_body_bytes: int = Field(2_000_000, ge=1024)
    rate_per_minute: float = Field(120.0, gt=0)
    rate_burst: int = Field(30, ge=1)
    work_per_minute: float = Field(1200.0, gt=0, allow_inf_nan=False)
    work_burst: float = Field(2000.0, ge=1, allow_inf_nan=False)
    header_timeout_seconds: float = Field(10.0, gt=0, allow_inf_nan=False)
    body_timeout_seconds: float = Field(30.0, gt=0, allow_inf_nan=False)
    batching: bool = True
    batch_max_posts: int = Field(32, ge=1)
    batch_max_units: float = Field(2.0, gt=0, allow_inf_nan=False)
    batch_max_wait_ms: float = Field(2.0, ge=0, allow_inf_nan=False)
    model_processes: int = Field(1, ge=0, le=64)
    model_process_max_units: float = Field(16.0, gt=0, allow_inf_nan=False)
    model_process_nice: int = Field(10, ge=0, le=19)
    queue_max_posts: int = Field(256, ge=1)
    load_in_background: bool = False
    metrics_public: bool = False
    feedback_db: str | None = None
    feedback_retention_days: int = Field(180, ge=1)
    feedback_extremism: bool = False
    response_memory: int = Field(1000, ge=0)
    response_memory_seconds: float = Field(3600.0, gt=0, allow_inf_nan=False)
    console: bool = True

    @field_validator("api_keys_file", "model", "feedback_db", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("feedback_db", mode="before")
    @classmethod
    def _same_file_as_the_cli(cls, value: object) -> object:
        """Read ``WARNING_FEEDBACK_DB`` as ``warning feedback`` does (spaces stripped, ``~``
        expanded in a path, a URL kept), so that the server and the CLI open the same
        database."""
        from warning.settings import feedback_location

        if isinstance(value, str | Path):
            return feedback_location(str(value))
        return value

    def keys(self) -> list[str]:
        """Every key from ``WARNING_API_KEYS`` and ``WARNING_API_KEYS_FILE`` (without the
        role prefix).

        Raises:
            SettingsError: The key file cannot be read.
        """
        return [key for key, _role in self.key_entries()]

    def key_entries(self) -> list[tuple[str, str | None]]:
        """(key, role or None) for every key from ``WARNING_API_KEYS`` and
        ``WARNING_API_KEYS_FILE``.

        Raises:
            SettingsError: The key file cannot be read.
        """
        from .auth import split_role

        keys = [k.strip() for k in self.api_keys.get_secret_value().split(",") if k.strip()]
        if self.api_keys_file is not None:
            try:
                text = self.api_keys_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(f"WARNING_API_KEYS_FILE {self.api_keys_file} cannot be "
                                    f"read: {exc.strerror}") from None
            keys += [line.strip() for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith("#")]
        return [(key, role) for role, key in map(split_role, keys) if key]


def get_settings() -> ServeSettings:
    """The settings from the environment and ``WARNING_SETTINGS_FILE`` (when set)."""
    env_file = os.environ.get("WARNING_SETTINGS_FILE") or None
    if env_file is not None and not Path(env_file).is_file():
        raise SettingsError(f"WARNING_SETTINGS_FILE {env_file} not found")
    return ServeSettings(_env_file=env_file)  # type: ignore[call-arg]
