"""Progress of a long job: a bar with rate and ETA on a terminal, plain lines otherwise.

On a terminal, tqdm draws the bar on stderr. When stderr is a file or a pipe (a log, a cron
job), one line is written at most every ``every`` seconds and at the end, so logs stay short.

Example:
    >>> import io
    >>> progress = Progress(total=200, unit="rows", stream=io.StringIO(), every=0)
    >>> progress.update(done=100, rows=100)
    >>> progress.stream.getvalue().startswith("scan: 100 rows")
    True
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["Progress"]


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Reports ``done`` out of ``total`` (bytes or rows) and the posts handled so far.

    Args:
        total: The job's size in ``unit``, or None when unknown.
        unit: ``bytes`` or ``rows``.
        stream: Where to write (default stderr).
        every: Seconds between plain lines (no effect on a terminal's bar).
        enabled: False for no output at all.
        initial: Work already done (a resumed job), in ``unit``.
        label: Prefix of the plain lines.
    """

    def __init__(self, total: int | None, unit: str = "rows", stream: TextIO | None = None,
                 every: float = 10.0, enabled: bool = True, initial: int = 0,
                 label: str = "scan") -> None:
        self.total, self.unit, self.every, self.enabled = total, unit, every, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self._start = time.monotonic()
        self._initial = initial
        self._last_line = float("-inf")
        self._bar: Any = None
        self._done = initial
        self._rows = 0
        if enabled and _is_terminal(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, unit="B" if unit == "bytes" else
                             " rows", unit_scale=unit == "bytes", file=self.stream,
                             desc=label, dynamic_ncols=True)

    def update(self, done: int, rows: int) -> None:
        """``done`` units of the input read so far, ``rows`` posts handled in this run."""
        self._rows = rows
        if self._bar is not None:
            rate = rows / max(time.monotonic() - self._start, 1e-9)
            self._bar.set_postfix_str(f"{rows:,} rows, {rate:,.1f} rows/s", refresh=False)
            self._bar.update(max(done - self._done, 0))
        self._done = done
        if self._bar is None and self.enabled:
            now = time.monotonic()
            if now - self._last_line >= self.every:
                self._last_line = now
                self.stream.write(self._line(now) + "\n")
                self.stream.flush()

    def _line(self, now: float) -> str:
        elapsed = max(now - self._start, 1e-9)
        rate = self._rows / elapsed
        parts = [f"{self.label}: {self._rows:,} rows"]
        if self.total:
            fraction = min(self._done / self.total, 1.0)
            parts.append(f"{fraction:.0%}")
            speed = (self._done - self._initial) / elapsed
            if speed > 0 and fraction < 1:
                parts.append(f"about {_duration((self.total - self._done) / speed)} left")
        parts.append(f"{rate:,.1f} rows/s")
        return ", ".join(parts)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            self.stream.write(self._line(time.monotonic()) + " (done)\n")
            self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
