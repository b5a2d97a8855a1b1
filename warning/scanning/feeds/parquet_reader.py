"""Parquet feeds, read one row group at a time in batches (memory holds one batch).

Column types are kept as the file has them. A row group that cannot be decoded (a damaged
file) is reported as one rejected record for its rows, and reading goes on with the next group.
A row holding a value Python cannot hold (a string that is not valid UTF-8, a time after the
year 9999) is rejected alone.
A file whose footer is missing (cut short while copying) cannot be read at all, nor can a
file with two columns of the same name (a row read as a record would keep only one of them).

Example:
    >>> feed = ParquetFeed("posts.parquet")      # doctest: +SKIP
    >>> feed.position()                           # doctest: +SKIP
    (0, 120000)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warning.scanning.feeds.base import Feed, FeedError, FeedRow
from warning.scanning.feeds.columns import ColumnOverrides, pick_columns, show_names

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ParquetFeed"]

_BATCH_ROWS = 4096


class ParquetFeed(Feed):
    """A Parquet file (see the module docstring).

    Raises:
        FeedError: The file is not Parquet or is damaged beyond its footer, two columns have
            the same name, or no text column can be decided.
    """

    format = "parquet"

    def __init__(self, path: Path | str, overrides: ColumnOverrides | None = None) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(Path(path))
        try:
            self._file = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise FeedError(f"{self.path}: cannot read as Parquet ({exc}); is the file cut "
                            f"short, or not Parquet?") from None
        self._schema = self._file.schema_arrow
        self.columns = list(self._schema.names)
        repeated = list(dict.fromkeys(n for n in self.columns if self.columns.count(n) > 1))
        if repeated:  # a row would keep only one of them: refused, never read half
            raise FeedError(f"{self.path}: more than one column is named "
                            f"{show_names(repeated)}; give each column a name of its own")
        self._done = 0
        self.mapping, picked = pick_columns(self.columns, overrides, str(self.path))
        self.notes.append(f"Parquet: {self._file.metadata.num_rows:,} rows in "
                          f"{self._file.num_row_groups} row group(s)")
        self.notes.extend(picked)

    def schema(self) -> pa.Schema:
        return self._schema.remove_metadata()

    def rows(self) -> Iterator[FeedRow]:
        import pyarrow as pa

        meta = self._file.metadata
        first = 1
        self._done = 0
        for group in range(self._file.num_row_groups):
            size = meta.row_group(group).num_rows
            line = first
            try:
                for batch in self._file.iter_batches(batch_size=_BATCH_ROWS,
                                                     row_groups=[group]):
                    try:
                        rows = [FeedRow(line + offset, record)
                                for offset, record in enumerate(batch.to_pylist())]
                    except (ValueError, OverflowError):  # a value Python cannot hold
                        rows = list(self._one_by_one(batch, line))
                    yield from rows
                    line += batch.num_rows
                    self._done += batch.num_rows
            except (pa.ArrowException, OSError) as exc:
                missing = first + size - line
                yield FeedRow(line, None, f"row group {group + 1} unreadable from row {line} "
                                          f"({missing:,} rows lost): {exc}", count=missing)
                self._done += missing
            first += size

    def _one_by_one(self, batch: pa.RecordBatch, line: int) -> Iterator[FeedRow]:
        """The batch's rows one at a time: a row holding a value Python cannot hold (a string
        that is not valid UTF-8, a time after the year 9999) is rejected, named by its
        columns and its id when that can be read; the other rows are kept."""
        for offset in range(batch.num_rows):
            row = batch.slice(offset, 1)
            try:
                record = row.to_pylist()[0]
            except (ValueError, OverflowError):
                record = None
            if record is not None:
                yield FeedRow(line + offset, record)
                continue
            bad: list[tuple[str, str]] = []
            values: dict[str, Any] = {}
            for name, column in zip(row.schema.names, row.columns, strict=True):
                try:
                    values[name] = column.to_pylist()[0]
                except UnicodeDecodeError:
                    bad.append((name, "text that is not valid UTF-8"))
                except (ValueError, OverflowError):
                    bad.append((name, "a value out of range"))
            what = "; ".join(f"{show_names([name])}: {kind}" for name, kind in bad)
            ident = values.get(self.mapping.id) if self.mapping.id else None
            yield FeedRow(line + offset, None, f"row {line + offset} cannot be read ({what})",
                          id=str(ident) if ident is not None else None)

    @property
    def progress_unit(self) -> str:
        return "rows"

    def position(self) -> tuple[int, int | None]:
        return self._done, self._file.metadata.num_rows
