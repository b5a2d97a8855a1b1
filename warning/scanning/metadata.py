"""Reading back what a scan recorded about itself: its ``.summary.json`` and the column mapping
stored in a scored Parquet file.

``warning alerts`` and ``warning report`` read these files, which a person may have edited,
truncated or replaced. A file that is there but cannot be used (not UTF-8, not JSON, nested too
deep, an integer of over 4,300 digits, not a JSON object, or a field of the wrong type) raises
:class:`ScanMetadataError` naming the file and the problem, never a traceback; the commands
then go on without it, as when there is no summary at all, and say so.

Example:
    >>> read_scan_summary("runs/demo/scored.parquet")["rows_scored"]  # doctest: +SKIP
    600
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from warning.safe_io import JsonNumberTooLong, JsonTooDeep, json_loads, json_problem
from warning.scanning.scoring import _SUFFIXES, METADATA_KEY

__all__ = ["MAX_SUMMARY_BYTES", "ScanMetadataError", "read_scan_metadata", "read_scan_summary",
           "scan_paths"]

#: Largest summary read (a scan writes a few kilobytes).
MAX_SUMMARY_BYTES = 16 << 20
#: The roles of a column mapping whose value is one column name (or null).
_ROLES = ("text", "time", "id", "channel")


class ScanMetadataError(ValueError):
    """A scan's summary (or its metadata) is there but cannot be used; the message names the
    file and the problem."""


def scan_paths(output: Path | str) -> dict[str, Path]:
    """The files a scan writes beside ``output``: ``rejects``, ``summary`` and the ``partial``
    folder of an unfinished scan.

    Example:
        >>> scan_paths("out/scored.parquet")["rejects"].as_posix()
        'out/scored.rejects.csv'
    """
    output = Path(output)
    stem = output.stem if output.suffix.lower() in _SUFFIXES else output.name
    return {"output": output, "rejects": output.with_name(f"{stem}.rejects.csv"),
            "summary": output.with_name(f"{stem}.summary.json"),
            "partial": output.with_name(f"{stem}.partial")}


def _decode(raw: bytes, where: str) -> Any:
    """``raw`` as JSON, or :class:`ScanMetadataError` saying why not."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScanMetadataError(f"{where}: not valid UTF-8 (byte {exc.start})") from None
    try:
        return json_loads(text)
    except json.JSONDecodeError as exc:  # also JsonTooDeep and JsonNumberTooLong
        if isinstance(exc, JsonTooDeep):  # found after decoding: no place to give
            raise ScanMetadataError(f"{where}: not usable JSON ({exc.msg})") from None
        kind = "not usable JSON" if isinstance(exc, JsonNumberTooLong) else "not valid JSON"
        place = json_problem(exc.msg, f"line {exc.lineno} column {exc.colno}")
        raise ScanMetadataError(f"{where}: {kind} ({place})") from None


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), "null")


def _check_mapping(mapping: Any, where: str) -> dict[str, Any]:
    """``mapping`` when it is a column mapping (each role a column name or null, ``authors``
    a list of names), else :class:`ScanMetadataError`."""
    if not isinstance(mapping, dict):
        raise ScanMetadataError(f"{where}: 'columns' is {_type(mapping)}, not an object naming "
                                f"the columns")
    for role in _ROLES:
        if mapping.get(role) is not None and not isinstance(mapping[role], str):
            raise ScanMetadataError(f"{where}: the {role} column is {_type(mapping[role])}, "
                                    f"not a column name")
    authors = mapping.get("authors")
    if authors is not None and not (isinstance(authors, list)
                                    and all(isinstance(a, str) for a in authors)):
        raise ScanMetadataError(f"{where}: the author columns are not a list of column names")
    return mapping


def read_scan_summary(output: Path | str) -> dict[str, Any] | None:
    """The ``.summary.json`` a scan wrote beside ``output``; None when there is none.

    Raises:
        ScanMetadataError: The summary is there but cannot be used: unreadable, over
            :data:`MAX_SUMMARY_BYTES`, not UTF-8, not JSON (or nested too deep, or holding an
            integer of over 4,300 digits), not a JSON object, or with ``columns``, ``model``
            or ``rows_rejected`` of the wrong type.
    """
    path = scan_paths(output)["summary"]
    if not path.exists():
        return None
    where = f"scan summary {path}"
    if not path.is_file():
        raise ScanMetadataError(f"{where}: not a file")
    try:
        size = path.stat().st_size
        if size > MAX_SUMMARY_BYTES:
            raise ScanMetadataError(f"{where}: {size:,} bytes, over the {MAX_SUMMARY_BYTES:,} "
                                    f"a scan summary can have")
        raw = path.read_bytes()
    except OSError as exc:
        raise ScanMetadataError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    data = _decode(raw, where)
    if not isinstance(data, dict):
        raise ScanMetadataError(f"{where}: holds {_type(data)}, not a JSON object")
    _check_mapping(data.get("columns", {}), where)
    if data.get("model") is not None and not isinstance(data["model"], str):
        raise ScanMetadataError(f"{where}: 'model' is {_type(data['model'])}, not a name")
    rejected = data.get("rows_rejected")
    if rejected is not None and (isinstance(rejected, bool) or not isinstance(rejected, int)
                                 or rejected < 0):
        raise ScanMetadataError(f"{where}: 'rows_rejected' is not a count")
    return data


def read_scan_metadata(path: Path | str) -> dict[str, Any] | None:
    """The scan's description (column ``mapping``, ``model``) stored with a scored file: in its
    Parquet metadata, else in the ``.summary.json`` beside it; None when neither is there.
    Parquet metadata that is not a usable description is passed over for the summary.

    Raises:
        ScanMetadataError: The summary is there but cannot be used (see
            :func:`read_scan_summary`).
    """
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            meta = pq.read_schema(path).metadata or {}
            if METADATA_KEY in meta:
                found = _decode(meta[METADATA_KEY], f"{path}")
                if isinstance(found, dict):
                    _check_mapping(found.get("mapping", {}), f"{path}")
                    return found
        except (OSError, ValueError):  # not Parquet, or metadata not ours: the summary decides
            pass
    summary = read_scan_summary(path)
    if summary is None:
        return None
    return {"mapping": summary.get("columns", {}), "model": summary.get("model")}
