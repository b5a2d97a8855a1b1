"""uvicorn's HTTP/1.1 protocol (h11) with a deadline on each request's line and headers.

uvicorn bounds how long an idle keep-alive connection stays open, but not how long a client may
take to send a request's headers: a client that sends one header line every few seconds, or
connects and sends nothing, holds a connection (and a file descriptor) for as long as it likes,
without a key, since keys are read from the headers. :class:`GuardedH11Protocol` closes such a
connection once ``WARNING_HEADER_TIMEOUT_SECONDS`` have passed since the connection was made or
since the first byte of the request arrived, answering ``408 Request Timeout`` when part of a
request was received. The body's own deadline is the middleware's (``body_timeout``), which
answers in the API's error format.

``warning serve`` passes this class to uvicorn as its ``http`` protocol. Behind a reverse proxy
(nginx), set the proxy's own timeouts too (README, "Operations").
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["GuardedH11Protocol"]

_TIMEOUT_BODY = b"the request's headers did not arrive in time\n"
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8"
                     b"\r\nconnection: close\r\ncontent-length: "
                     + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY)


class GuardedH11Protocol(H11Protocol):
    """:class:`H11Protocol` with a deadline on the request line and headers.

    Attributes:
        header_timeout: Seconds; None reads ``WARNING_HEADER_TIMEOUT_SECONDS`` (through
            :func:`serve.settings.get_settings`) once per process, so that every worker process
            of ``warning serve --workers N`` applies the server's setting.
    """

    header_timeout: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if GuardedH11Protocol.header_timeout is None:
            from .settings import get_settings

            GuardedH11Protocol.header_timeout = get_settings().header_timeout_seconds
        self._header_timer: asyncio.TimerHandle | None = None
        self._request_started = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is cut off too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self.conn.their_state is h11.IDLE
        if waiting and not self._request_started:
            # the first byte of a new request (after a keep-alive pause): its deadline starts
            self._request_started = True
            if self._header_timer is None:
                self._arm()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the request line and headers are in
            self._request_started = False

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._request_started = False

    def _arm(self) -> None:
        timeout = self.header_timeout or 10.0
        self._header_timer = self.loop.call_later(timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._request_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()
