"""Batch scans of exported feeds.

- :mod:`warning.scanning.feeds`: the feed readers (CSV, JSONL, Parquet, Telegram, CrowdTangle);
- :mod:`warning.scanning.scanner`: the chunked scan with rejects and resume;
- :mod:`warning.scanning.scoring`: the scoring path every engine shares;
- :mod:`warning.scanning.output`: the output's part files, merge and state;
- :mod:`warning.scanning.metadata`: reading back a scan's summary and column mapping;
- :mod:`warning.scanning.ray_engine`: the same scoring inside Ray Data;
- :mod:`warning.scanning.progress`: the progress bar.

The package is ``scanning`` so that ``warning.scan`` stays the function users call.

Example:
    >>> from warning.scan import ScanOptions, scan
    >>> ScanOptions().authors
    'pseudonymise'
"""

from __future__ import annotations

from warning.scanning.metadata import ScanMetadataError, read_scan_metadata, scan_paths
from warning.scanning.scanner import ScanSummary, scan
from warning.scanning.scoring import ScanError, ScanOptions, pseudonymise

__all__ = ["ScanError", "ScanMetadataError", "ScanOptions", "ScanSummary", "pseudonymise",
           "read_scan_metadata", "scan", "scan_paths"]
