"""What every feed reader returns: rows with their line numbers, the columns picked, and errors.

A reader never raises for one bad row: the row comes back with ``error`` set (and the reason),
so the scan can put it in its rejects file and go on. Only a file that cannot be read at all
raises :class:`FeedError`, with a message naming the file and what to pass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ColumnMap", "Feed", "FeedError", "FeedRow"]


class FeedError(ValueError):
    """A feed cannot be read at all (unknown format, no text column, unreadable file)."""


@dataclass
class FeedRow:
    """One input record.

    Attributes:
        line: Where the record starts: the line number in a CSV, JSONL or JSON file (the CSV
            header is line 1), the row number (from 1) in a Parquet file.
        values: The record's fields by column name (None for a record that could not be read).
        error: Why the record could not be read, or None.
        count: Input records this stands for: more than one only for a block lost at once (a
            damaged Parquet row group).
        reason: The kind of problem, for counting: ``unreadable``, ``repeated header`` (a CSV
            row repeating the header) or ``not a post`` (a Telegram service message).
        lost_lines: Lines of the file that could not be read into any record (a Telegram
            export broken beyond repair from this point on); counted apart in the summary.
        private: Fields of this row that name a person although their column is not an
            author column (the chat name and id of a Telegram personal chat): the scan treats
            them as it treats the author columns.
        id: The record's id when ``values`` is None but the id could still be read intact
            (a broken row whose id field lies before the break), so the rejects file names it.
    """

    line: int
    values: dict[str, Any] | None
    error: str | None = None
    count: int = 1
    reason: str = "unreadable"
    lost_lines: int = 0
    private: tuple[str, ...] = ()
    id: str | None = None


@dataclass
class ColumnMap:
    """Which input columns hold the text, time, id, author(s) and channel.

    Example:
        >>> ColumnMap(text="message", authors=["user"]).describe()
        'text=message, time=(none), id=(none), authors=user, channel=(none)'
    """

    text: str
    time: str | None = None
    id: str | None = None
    authors: list[str] = field(default_factory=list)
    channel: str | None = None

    def describe(self) -> str:
        return (f"text={self.text}, time={self.time or '(none)'}, id={self.id or '(none)'}, "
                f"authors={','.join(self.authors) or '(none)'}, "
                f"channel={self.channel or '(none)'}")

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "time": self.time, "id": self.id,
                "authors": list(self.authors), "channel": self.channel}


class Feed(ABC):
    """An opened input file: its columns, the columns picked, and its rows in order.

    Attributes:
        path: The input file.
        format: ``csv``, ``crowdtangle``, ``jsonl``, ``parquet`` or ``telegram``.
        columns: Input column names, in order.
        mapping: The columns picked for text, time, id, authors and channel.
        notes: What was detected and picked, in plain words (printed by the scan).
    """

    format: str = ""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.columns: list[str] = []
        self.mapping = ColumnMap(text="")
        self.notes: list[str] = []
        self._handle: Any = None  # the open text file while rows() runs
        self._finished = False

    @abstractmethod
    def rows(self) -> Iterator[FeedRow]:
        """Every record, in file order (bad ones with ``error`` set)."""

    def chunks(self, size: int) -> Iterator[list[FeedRow]]:
        """Records in lists of ``size`` (the last may be shorter); memory holds one chunk."""
        chunk: list[FeedRow] = []
        for row in self.rows():
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def schema(self) -> pa.Schema:
        """Arrow types of the input columns (strings for text formats)."""
        import pyarrow as pa

        return pa.schema([(name, pa.string()) for name in self.columns])

    @property
    def progress_unit(self) -> str:
        """``bytes`` (text formats) or ``rows`` (Parquet): the unit of :meth:`position`."""
        return "bytes"

    def position(self) -> tuple[int, int | None]:
        """(done, total) in :attr:`progress_unit`, for progress bars: for text files, bytes
        read so far (approximately: reading is buffered)."""
        total = self.path.stat().st_size
        if self._finished:
            return total, total
        if self._handle is None:
            return 0, total
        try:
            return min(self._handle.buffer.tell(), total), total
        except (AttributeError, OSError, ValueError):
            return 0, total
