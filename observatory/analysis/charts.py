"""Server-side SVG charts: a time series and a range chart (best with low–high bands). No Django, no
JavaScript; text is escaped, every chart has a title and a text alternative for screen readers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#005a9c", "#c0392b", "#1b6e3a", "#8a5a00", "#6c3483", "#117a8b", "#7b7d7d", "#d35400", "#2e4053")


def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def format_number(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.3g} bn"
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g} m"
    if magnitude >= 1e3:
        return f"{value / 1e3:.3g} k"
    return f"{value:.3g}"


def line_chart(
    series: Mapping[str, Sequence[tuple[int, float]]],
    *,
    title: str,
    y_label: str,
    width: int = 760,
    height: int = 320,
) -> str:
    """One line per series over the years, a y axis from zero, a legend below."""
    years = sorted({year for points in series.values() for year, _ in points})
    top = _nice_max(max((value for points in series.values() for _, value in points), default=0.0))
    left, right, upper, lower = 70, 20, 30, 40
    legend_rows = math.ceil(len(series) / 3)
    total_height = height + legend_rows * 20
    plot_w, plot_h = width - left - right, height - upper - lower

    def x(year: int) -> float:
        if len(years) == 1:
            return left + plot_w / 2
        return left + (year - years[0]) / (years[-1] - years[0]) * plot_w

    def y(value: float) -> float:
        return upper + plot_h - value / top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_height}" role="img" '
        f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<text x="{left}" y="18" font-size="14" font-weight="600" fill="#1b2733">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#d5dde5"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end" fill="#4a5866">'
            f"{format_number(value)}</text>"
        )
    for year in years:
        parts.append(
            f'<text x="{x(year):.1f}" y="{upper + plot_h + 16}" font-size="11" text-anchor="middle" '
            f'fill="#4a5866">{year}</text>'
        )
    parts.append(
        f'<text x="14" y="{upper + plot_h / 2:.1f}" font-size="11" fill="#4a5866" '
        f'transform="rotate(-90 14 {upper + plot_h / 2:.1f})" text-anchor="middle">{escape(y_label)}</text>'
    )
    for index, (name, points) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        ordered = sorted(points)
        path = " ".join(f"{x(year):.1f},{y(value):.1f}" for year, value in ordered)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for year, value in ordered:
            parts.append(
                f'<circle cx="{x(year):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {year}: {value:,.1f}</title></circle>"
            )
        lx = left + (index % 3) * (plot_w / 3)
        ly = height + (index // 3) * 20
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 16:.1f}" y="{ly + 1}" font-size="12" fill="#1b2733">{escape(name if len(name) <= 30 else name[:29] + "…")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class RangeBar:
    label: str
    best: float | None  # None: range only (coverage under the threshold)
    low: float
    high: float
    note: str = ""


def range_chart(bars: Sequence[RangeBar], *, title: str, unit: str, width: int = 760) -> str:
    """Horizontal low–high bands with the best estimate marked; range-only rows drawn hatched."""
    row_h, left, right, upper = 34, 230, 30, 34
    height = upper + row_h * max(len(bars), 1) + 30
    top = _nice_max(max((bar.high for bar in bars), default=0.0))
    plot_w = width - left - right

    def x(value: float) -> float:
        return left + value / top * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e8f3fd"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#005a9c" stroke-width="2"/></pattern></defs>',
        f'<text x="8" y="18" font-size="14" font-weight="600" fill="#1b2733">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top * i / 4
        parts.append(
            f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{upper - 4}" y2="{height - 26}" stroke="#d5dde5"/>'
            f'<text x="{x(value):.1f}" y="{height - 10}" font-size="11" text-anchor="middle" fill="#4a5866">'
            f"{format_number(value)}</text>"
        )
    for index, bar in enumerate(bars):
        cy = upper + index * row_h + row_h / 2
        fill = "url(#hatch)" if bar.best is None else "#b9d7f0"
        parts.append(
            f'<text x="{left - 8}" y="{cy - 2:.1f}" font-size="12" text-anchor="end" fill="#1b2733">'
            f"{escape(bar.label[:34])}</text>"
            f'<text x="{left - 8}" y="{cy + 11:.1f}" font-size="10" text-anchor="end" fill="#4a5866">'
            f"{escape(bar.note)}</text>"
            f'<rect x="{x(bar.low):.1f}" y="{cy - 8:.1f}" width="{max(x(bar.high) - x(bar.low), 1.5):.1f}" '
            f'height="16" fill="{fill}" stroke="#005a9c"><title>{escape(bar.label)}: '
            f"{bar.low:,.0f} – {bar.high:,.0f} {escape(unit)}</title></rect>"
        )
        if bar.best is not None:
            parts.append(
                f'<line x1="{x(bar.best):.1f}" x2="{x(bar.best):.1f}" y1="{cy - 11:.1f}" y2="{cy + 11:.1f}" '
                f'stroke="#0b2e4f" stroke-width="3"><title>best {bar.best:,.0f} {escape(unit)}</title></line>'
            )
    parts.append("</svg>")
    return "".join(parts)
