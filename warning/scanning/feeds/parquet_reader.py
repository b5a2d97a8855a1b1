"""Parquet feeds, read one row group at a time in batches (memory holds one batch).

Column types are kept as the file has them. A row group that cannot be decoded (a damaged
file) is reported as one rejected record for its rows, and reading goes on with the next group.
A file whose footer is missing (cut short while copying) cannot be read at all.

Example:
    >>> feed = ParquetFeed("posts.parquet")      # doctest: +SKIP
    >>> feed.position()                           # doctest: +SKIP
    (0, 120000)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from warning.scanning.feeds.base import Feed, FeedError, FeedRow
from warning.scanning.feeds.columns import ColumnOverrides, pick_columns

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ParquetFeed"]

_BATCH_ROWS = 4096


class ParquetFeed(Feed):
    """A Parquet file (see the module docstring).

    Raises:
        FeedError: The file is not Parquet or is damaged beyond its footer, or no text column
            can be decided.
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
                    records = batch.to_pylist()
                    for offset, record in enumerate(records):
                        yield FeedRow(line + offset, record)
                    line += len(records)
                    self._done += len(records)
            except (pa.ArrowException, OSError) as exc:
                missing = first + size - line
                yield FeedRow(line, None, f"row group {group + 1} unreadable from row {line} "
                                          f"({missing:,} rows lost): {exc}", count=missing)
                self._done += missing
            first += size

    @property
    def progress_unit(self) -> str:
        return "rows"

    def position(self) -> tuple[int, int | None]:
        return self._done, self._file.metadata.num_rows
