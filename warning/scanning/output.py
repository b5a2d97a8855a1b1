"""How a scan writes its output: the columns, the part files of each chunk, the merge, the
state file that makes ``--resume`` possible.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


from warning.safe_io import csv_writer, json_line, private_open
from warning.scanning.scoring import (
    _STATE,
    _STATE_VERSION,
    REJECT_COLUMNS,
    _Chunk,
)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` under a temporary name, then rename: owner-only (outputs hold posts)."""
    tmp = path.with_name(path.name + ".tmp")
    with private_open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _write_part(folder: Path, index: int, chunk: _Chunk, schema: pa.Schema, fmt: str) -> None:
    """The chunk's output and rejects, each written whole under a temporary name first."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        columns = chunk.columns or {name: [] for name in schema.names}
        table = pa.Table.from_arrays([pa.array(columns[f.name], type=f.type) for f in schema],
                                     schema=schema)
        pq.write_table(table, sink)
        data = sink.getvalue().to_pybytes()
    elif fmt == "csv":
        text = io.StringIO()
        writer = csv_writer(text)  # formulas guarded, a CR or LF in a cell quoted
        columns = [chunk.columns[name] for name in schema.names] if chunk.n_rows else []
        for row in zip(*columns, strict=True):
            writer.writerow([_csv_cell(value) for value in row])
        data = text.getvalue().encode("utf-8")
    else:
        # default=str: a value JSON has no type for (a Parquet decimal, time of day or
        # duration) is written as the CSV output writes it, never stopping the scan
        data = "".join(json_line({k: _json_value(v) for k, v in row.items()}, default=str)
                       + "\n" for row in chunk.records()).encode("utf-8")
    _atomic_write_bytes(folder / f"part-{index:05d}.{fmt}", data)
    text = io.StringIO()
    csv_writer(text).writerows(chunk.rejects)
    _atomic_write_bytes(folder / f"rejects-{index:05d}.csv", text.getvalue().encode("utf-8"))


def _merge(folder: Path, chunks: int, paths: dict[str, Path], fmt: str, schema: pa.Schema,
           ) -> None:
    """The parts, in order, into the output and the rejects file (one part in memory)."""
    output = paths["output"]
    tmp = output.with_name(output.name + ".tmp")
    try:
        with private_open(tmp, "wb") as out:  # owner-only: the output holds posts
            if fmt == "parquet":
                import pyarrow.parquet as pq

                with pq.ParquetWriter(out, schema) as writer:
                    for i in range(chunks):
                        table = pq.read_table(folder / f"part-{i:05d}.parquet", schema=schema)
                        if table.num_rows:
                            writer.write_table(table)
            else:
                if fmt == "csv":
                    out.write(_csv_line(schema.names))
                for i in range(chunks):
                    with open(folder / f"part-{i:05d}.{fmt}", "rb") as part:
                        shutil.copyfileobj(part, out)
        os.replace(tmp, output)
        rejects = paths["rejects"]
        tmp = rejects.with_name(rejects.name + ".tmp")
        with private_open(tmp, "wb") as out:
            out.write(_csv_line(REJECT_COLUMNS))
            for i in range(chunks):
                with open(folder / f"rejects-{i:05d}.csv", "rb") as part:
                    shutil.copyfileobj(part, out)
        os.replace(tmp, rejects)
    finally:
        tmp.unlink(missing_ok=True)  # never leave a copy of the posts behind a failure


def _csv_line(cells: Any) -> bytes:
    text = io.StringIO()
    csv_writer(text).writerow(list(cells))
    return text.getvalue().encode("utf-8")


# ---- state and resume -----------------------------------------------------------------------


def _read_state(folder: Path) -> dict[str, Any] | None:
    path = folder / _STATE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return state if state.get("version") == _STATE_VERSION else None


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    _atomic_write_bytes(folder / _STATE, json.dumps(state, indent=1).encode("utf-8"))


_WHAT = {"input": "the input file", "input_size": "the input's size",
         "input_mtime_ns": "the input's modification time", "key": "WARNING_PSEUDONYM_KEY",
         "model": "the model", "chunk_rows": "WARNING_SCAN_CHUNK_ROWS",
         "max_chars": "WARNING_SCAN_MAX_CHARS", "timezone": "WARNING_TIMEZONE",
         "precision": "WARNING_PRECISION (as resolved)", "batch_size": "WARNING_SCAN_BATCH"}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            what = _WHAT.get(name, f"the option {name}")
            if name == "key":
                out.append(f"{what} is not the one the interrupted scan used")
            else:
                out.append(f"{what} was {old.get(name)!r}, now {new.get(name)!r}")
    return out
