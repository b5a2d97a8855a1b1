"""Inline SVG charts for the report: no plotting library, no network, nothing to load.

A chart is a string of SVG markup with every text escaped, so a channel or group name cannot
break out of it. Alerts are drawn as shaded bands over their window with a marker on top;
hovering a band or a point shows its figures (an SVG ``<title>``).

Example:
    >>> from datetime import date
    >>> svg = line_chart([date(2025, 9, 1), date(2025, 9, 2)],
    ...                  [Series("hate", [0.0, 0.25], "#c2410c")], title="hate")
    >>> svg.startswith("<svg") and "polyline" in svg
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

__all__ = ["Band", "Series", "bar_chart", "line_chart"]

WIDTH, HEIGHT = 760, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 30, 46


@dataclass
class Series:
    """One line: a name, a value per x (None: no data, the line breaks there) and a colour."""

    name: str
    values: Sequence[float | None]
    colour: str
    notes: Sequence[str] = field(default_factory=list)  # per point, shown on hover


@dataclass
class Band:
    """A shaded x-range (an alert's window) with a marker and a hover text."""

    start: date
    end: date  # the day after the last day
    colour: str
    text: str


def _ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _date_ticks(days: Sequence[date], max_ticks: int = 10) -> list[int]:
    """Indexes of the x positions to label: Mondays, thinned to at most ``max_ticks``."""
    mondays = [i for i, d in enumerate(days) if d.weekday() == 0] or [0]
    step = max(1, math.ceil(len(mondays) / max_ticks))
    return mondays[::step]


class _Frame:
    """Maps days and values onto the plot area."""

    def __init__(self, days: Sequence[date], top: float, step: int = 1) -> None:
        self.days = list(days)
        self.step = step
        self.first = self.days[0]
        self.span = max((self.days[-1] - self.first).days + step, 1)
        self.top = top
        self.width = WIDTH - LEFT - RIGHT
        self.height = HEIGHT - TOP - BOTTOM

    def x(self, day: date, middle: bool = True) -> float:
        offset = (day - self.first).days + (self.step / 2 if middle else 0.0)
        return LEFT + self.width * offset / self.span

    def y(self, value: float) -> float:
        return TOP + self.height * (1 - value / self.top if self.top else 1)


def _axes(frame: _Frame, ticks: list[float], percent: bool, title: str) -> list[str]:
    out = [f'<text class="chart-title" x="{LEFT}" y="18">{escape(title)}</text>']
    for value in ticks:
        y = frame.y(value)
        label = f"{value:.0%}" if percent and frame.top >= 0.05 else \
            f"{value:.1%}" if percent else f"{value:,.0f}"
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                   f'y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{label}</text>')
    base = frame.y(0)
    out.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base:.1f}" '
               f'y2="{base:.1f}"/>')
    for i in _date_ticks(frame.days):
        day = frame.days[i]
        x = frame.x(day, middle=False)
        out.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{base:.1f}" '
                   f'y2="{base + 4:.1f}"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{base + 16:.1f}" '
                   f'text-anchor="middle">{day.strftime("%d %b")}</text>')
    return out


def _bands(frame: _Frame, bands: Sequence[Band]) -> list[str]:
    out = []
    last = frame.days[-1] + timedelta(days=frame.step)
    for band in bands:
        start, end = max(band.start, frame.first), min(band.end, last)
        if end <= start:
            continue
        x0, x1 = frame.x(start, middle=False), frame.x(end, middle=False)
        mid = (x0 + x1) / 2
        out.append(
            f'<g class="alert-band"><title>{escape(band.text)}</title>'
            f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 2):.1f}" '
            f'height="{frame.height}" fill="{band.colour}" fill-opacity="0.12"/>'
            f'<path d="M{mid - 6:.1f},{TOP - 9} L{mid + 6:.1f},{TOP - 9} L{mid:.1f},{TOP - 1} Z" '
            f'fill="{band.colour}"/></g>')
    return out


def _legend(series: Sequence[Series], extra: str | None) -> list[str]:
    out, x = [], LEFT
    y = HEIGHT - 10
    for s in series:
        out.append(f'<rect x="{x}" y="{y - 8}" width="12" height="4" fill="{s.colour}"/>')
        out.append(f'<text class="legend" x="{x + 16}" y="{y}">{escape(s.name)}</text>')
        x += 26 + 7 * len(s.name)
    if extra:
        out.append(f'<path d="M{x},{y - 10} L{x + 10},{y - 10} L{x + 5},{y - 3} Z" '
                   f'fill="#555"/>')
        out.append(f'<text class="legend" x="{x + 14}" y="{y}">{escape(extra)}</text>')
    return out


def line_chart(days: Sequence[date], series: Sequence[Series], title: str,
               bands: Sequence[Band] = (), percent: bool = True,
               description: str = "", step: int = 1) -> str:
    """A line per series over the days, alert bands behind them.

    Args:
        days: The x positions: consecutive days, or week starts with ``step=7``.
        series: The lines; values are shares (0-1) when ``percent``.
        title: Shown above the chart.
        bands: Alert windows to shade.
        percent: Label the y axis in percent.
        description: Read by screen readers (``aria-label``).
        step: Days between two x positions.
    """
    if not days:
        return ""
    values = [v for s in series for v in s.values if v is not None]
    ticks = _ticks(max(values, default=0.0))
    frame = _Frame(days, ticks[-1], step)
    parts = _axes(frame, ticks, percent, title)
    parts += _bands(frame, bands)
    for s in series:
        runs: list[list[str]] = [[]]
        dots = []
        for i, (day, value) in enumerate(zip(days, s.values, strict=True)):
            if value is None:
                runs.append([])
                continue
            x, y = frame.x(day), frame.y(value)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            note = s.notes[i] if i < len(s.notes) else ""
            hover = f"{s.name}, {day.isoformat()}: {value:.1%}" if percent else \
                f"{s.name}, {day.isoformat()}: {value:,.0f}"
            dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{s.colour}">'
                        f'<title>{escape(hover + (" (" + note + ")" if note else ""))}</title>'
                        f'</circle>')
        for run in runs:
            if run:
                parts.append(f'<polyline fill="none" stroke="{s.colour}" stroke-width="1.8" '
                             f'points="{" ".join(run)}"/>')
        parts += dots
    parts += _legend(series, "alert" if bands else None)
    label = escape(description or title)
    return (f'<svg class="chart" role="img" aria-label="{label}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(parts) + "</svg>")


def bar_chart(days: Sequence[date], values: Sequence[float], title: str,
              colour: str = "#64748b", description: str = "", step: int = 1) -> str:
    """One bar per day, or per week with ``step=7`` (e.g. posts per day)."""
    if not days:
        return ""
    ticks = _ticks(max(values, default=0.0))
    frame = _Frame(days, ticks[-1], step)
    parts = _axes(frame, ticks, False, title)
    width = max(frame.width * step / frame.span - 1.0, 1.0)
    for day, value in zip(days, values, strict=True):
        x, y = frame.x(day, middle=False), frame.y(value)
        parts.append(f'<rect x="{x + 0.5:.1f}" y="{y:.1f}" width="{width:.1f}" '
                     f'height="{frame.y(0) - y:.1f}" fill="{colour}">'
                     f'<title>{day.isoformat()}: {value:,.0f}</title></rect>')
    label = escape(description or title)
    return (f'<svg class="chart" role="img" aria-label="{label}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(parts) + "</svg>")
