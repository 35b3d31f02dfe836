"""Server-side SVG charts for the portal: line charts with uncertainty bands and a world choropleth.

Pure functions over numbers and GeoJSON (no Django). Every chart is an ``<svg role="img">`` with a
title and a description, so screen readers announce it; the pages print the same figures as a table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

# Colour-blind-safe categorical palette (Okabe–Ito, darker variants for contrast on white).
LINE_COLOURS = ("#0b5cad", "#c0392b", "#1b7f4c", "#8e44ad", "#b8600b", "#00838f", "#5d4037", "#ad1457")
# Sequential blues (ColorBrewer 5-class), light to dark; no-data is a neutral grey.
SEQUENTIAL = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
NO_DATA = "#e3e3e3"
LAT_TOP, LAT_BOTTOM = 84.0, -58.0  # crop Antarctica and the high Arctic


@dataclass(frozen=True)
class Point:
    x: int
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ChartSeries:
    label: str
    points: Sequence[Point]
    colour: str | None = None


@dataclass(frozen=True)
class Axis:
    minimum: float
    maximum: float
    ticks: tuple[float, ...] = field(default_factory=tuple)


def nice_ticks(low: float, high: float, count: int = 5) -> Axis:
    """Round tick positions covering [low, high] (low is clamped to 0 for non-negative data)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    ticks = []
    value = start
    while value <= end + step / 2:
        ticks.append(round(value, 10))
        value += step
    return Axis(start, end, tuple(ticks))


def format_number(value: float | None) -> str:
    """Thousands separators; two significant decimals for small values; '..' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ".."
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:,.2f}".rstrip("0").rstrip(".") + " bn"
    if magnitude >= 1e6:
        return f"{value / 1e6:,.2f}".rstrip("0").rstrip(".") + " m"
    if magnitude >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def line_chart(
    series: Sequence[ChartSeries],
    *,
    title: str,
    unit: str,
    width: int = 640,
    height: int = 300,
) -> str:
    """A line chart over years; low/high draw a translucent band around each line."""
    margin_left, margin_right, margin_top, margin_bottom = 64, 16, 16, 56
    plot_w, plot_h = width - margin_left - margin_right, height - margin_top - margin_bottom
    xs = sorted({p.x for s in series for p in s.points})
    values = [
        v
        for s in series
        for p in s.points
        for v in (p.value, p.low, p.high)
        if v is not None and math.isfinite(v)
    ]
    described = f"{title}. " + "; ".join(
        f"{s.label}: " + ", ".join(f"{p.x} {format_number(p.value)}" for p in s.points) for s in series
    )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-labelledby="t" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title><desc>{escape(described[:2000])}</desc>"
    )
    if not xs or not values:
        return (
            head
            + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No published data</text></svg>'
        )
    axis = nice_ticks(min(0.0, min(values)), max(values))
    x_min, x_max = xs[0], xs[-1]

    def px(x: int) -> float:
        return margin_left + (plot_w / 2 if x_max == x_min else (x - x_min) / (x_max - x_min) * plot_w)

    def py(v: float) -> float:
        return margin_top + plot_h - (v - axis.minimum) / (axis.maximum - axis.minimum) * plot_h

    parts = [head]
    for tick in axis.ticks:
        y = py(tick)
        parts.append(
            f'<line x1="{margin_left}" x2="{width - margin_right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5dde5"/>'
            f'<text x="{margin_left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#333">'
            f"{escape(format_number(tick))}</text>"
        )
    label_every = max(1, math.ceil(len(xs) / 10))
    for index, x in enumerate(xs):
        if index % label_every and x != x_max:
            continue
        parts.append(
            f'<text x="{px(x):.1f}" y="{margin_top + plot_h + 18}" text-anchor="middle" font-size="12" '
            f'fill="#333">{x}</text>'
        )
    parts.append(
        f'<text x="12" y="{margin_top + plot_h / 2:.1f}" font-size="12" fill="#333" '
        f'transform="rotate(-90 12 {margin_top + plot_h / 2:.1f})" text-anchor="middle">{escape(unit)}</text>'
    )
    for number, line in enumerate(series):
        colour = line.colour or LINE_COLOURS[number % len(LINE_COLOURS)]
        points = sorted(
            (p for p in line.points if p.value is not None or p.low is not None), key=lambda p: p.x
        )
        banded = [p for p in points if p.low is not None and p.high is not None]
        if len(banded) >= 2:
            upper = " ".join(f"{px(p.x):.1f},{py(p.high or 0):.1f}" for p in banded)
            lower = " ".join(f"{px(p.x):.1f},{py(p.low or 0):.1f}" for p in reversed(banded))
            parts.append(
                f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.15" stroke="none"/>'
            )
        for p in banded if len(banded) < 2 else ():
            parts.append(
                f'<line x1="{px(p.x):.1f}" x2="{px(p.x):.1f}" y1="{py(p.low or 0):.1f}" y2="{py(p.high or 0):.1f}" '
                f'stroke="{colour}" stroke-width="2" stroke-opacity="0.5"/>'
            )
        valued = [p for p in points if p.value is not None]
        if len(valued) >= 2:
            path = " ".join(f"{px(p.x):.1f},{py(p.value or 0):.1f}" for p in valued)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for p in valued:
            parts.append(
                f'<circle cx="{px(p.x):.1f}" cy="{py(p.value or 0):.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(line.label)} {p.x}: {escape(format_number(p.value))}</title></circle>"
            )
    # Legend below the plot, wrapping into rows.
    legend_y = height - 14
    cursor = margin_left
    for number, line in enumerate(series):
        colour = line.colour or LINE_COLOURS[number % len(LINE_COLOURS)]
        label = line.label if len(line.label) <= 28 else line.label[:27] + "…"
        parts.append(
            f'<rect x="{cursor}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{cursor + 16}" y="{legend_y}" font-size="12" fill="#222">{escape(label)}</text>'
        )
        cursor += 28 + 7 * len(label)
        if cursor > width - 120 and number < len(series) - 1:
            break
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------
# Choropleth


def _project(lon: float, lat: float, width: float, height: float) -> tuple[float, float]:
    lat = max(min(lat, LAT_TOP), LAT_BOTTOM)
    return (lon + 180.0) / 360.0 * width, (LAT_TOP - lat) / (LAT_TOP - LAT_BOTTOM) * height


def _ring_path(ring: Sequence[Sequence[float]], width: float, height: float) -> str:
    points = [_project(float(pt[0]), float(pt[1]), width, height) for pt in ring]
    if len(points) < 3:
        return ""
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z"


@lru_cache(maxsize=4)
def country_paths(geojson_path: str, width: int = 960, height: int = 380) -> tuple[tuple[str, str, str], ...]:
    """(iso3, name, SVG path) per country of the outline file, projected equirectangularly.

    Cached per process: the outline file is static reference data, never changed at run time.
    """
    data = json.loads(Path(geojson_path).read_text(encoding="utf-8"))
    result = []
    for feature in data["features"]:
        properties = feature["properties"]
        iso3 = properties.get("iso3") or properties.get("ISO_A3") or ""
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        d = "".join(_ring_path(ring, width, height) for polygon in polygons for ring in polygon)
        result.append((iso3, str(properties.get("NAME", iso3)), d))
    return tuple(result)


def quantile_breaks(values: Sequence[float], classes: int = len(SEQUENTIAL)) -> tuple[float, ...]:
    """Upper bounds of ``classes`` quantile classes (the last is the maximum)."""
    ordered = sorted(v for v in values if math.isfinite(v))
    if not ordered:
        return ()
    breaks = []
    for i in range(1, classes + 1):
        position = min(len(ordered) - 1, max(0, math.ceil(i * len(ordered) / classes) - 1))
        breaks.append(ordered[position])
    unique: list[float] = []
    for b in breaks:
        if not unique or b > unique[-1]:
            unique.append(b)
    return tuple(unique)


def colour_for(value: float, breaks: Sequence[float]) -> str:
    palette = SEQUENTIAL if len(breaks) == len(SEQUENTIAL) else _spread(len(breaks))
    for index, upper in enumerate(breaks):
        if value <= upper:
            return palette[index]
    return palette[-1]


def _spread(count: int) -> tuple[str, ...]:
    if count <= 1:
        return (SEQUENTIAL[-2],)
    return tuple(SEQUENTIAL[round(i * (len(SEQUENTIAL) - 1) / (count - 1))] for i in range(count))


@dataclass(frozen=True)
class MapValue:
    iso3: str
    name: str
    value: float
    year: int
    link: str = ""
    latitude: float | None = None
    longitude: float | None = None


def choropleth(
    values: Sequence[MapValue],
    outlines: Sequence[tuple[str, str, str]],
    *,
    title: str,
    unit: str,
    width: int = 960,
    height: int = 380,
) -> str:
    """World map: countries coloured by quantile class, small states without an outline as circles at
    their coordinates, a legend with the class bounds, and a tooltip per country."""
    by_iso3 = {v.iso3: v for v in values}
    breaks = quantile_breaks([v.value for v in values])
    legend_h = 44
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + legend_h}" role="img" '
        f'class="map" preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
        f"<desc>{escape(title)}: {len(values)} countries with data; the table below lists them.</desc>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f4f8fb"/>',
    ]
    drawn: set[str] = set()
    for iso3, name, d in outlines:
        if not d:
            continue
        item = by_iso3.get(iso3)
        fill = colour_for(item.value, breaks) if item else NO_DATA
        label = (
            f"{item.name} ({item.year}): {format_number(item.value)} {unit}" if item else f"{name}: no data"
        )
        shape = f'<path d="{d}" fill="{fill}" stroke="#fff" stroke-width="0.5"><title>{escape(label)}</title></path>'
        if item and item.link:
            shape = f"<a href={quoteattr(item.link)} aria-label={quoteattr(label)}>{shape}</a>"
        parts.append(shape)
        drawn.add(iso3)
    for item in values:
        if item.iso3 in drawn or item.latitude is None or item.longitude is None:
            continue
        x, y = _project(item.longitude, item.latitude, width, height)
        label = f"{item.name} ({item.year}): {format_number(item.value)} {unit}"
        shape = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour_for(item.value, breaks)}" stroke="#333" '
            f'stroke-width="0.6"><title>{escape(label)}</title></circle>'
        )
        if item.link:
            shape = f"<a href={quoteattr(item.link)} aria-label={quoteattr(label)}>{shape}</a>"
        parts.append(shape)
    # Legend
    y = height + 12
    x = 8.0
    parts.append(f'<text x="{x}" y="{y + 11}" font-size="12" fill="#222">{escape(unit)}:</text>')
    x += 14 + 7 * len(unit)
    lower = min((v.value for v in values), default=0.0)
    palette = SEQUENTIAL if len(breaks) == len(SEQUENTIAL) else _spread(len(breaks))
    for index, upper in enumerate(breaks):
        text = f"{format_number(lower)}–{format_number(upper)}"
        parts.append(
            f'<rect x="{x:.0f}" y="{y}" width="18" height="14" fill="{palette[index]}" stroke="#666" stroke-width="0.5"/>'
            f'<text x="{x + 22:.0f}" y="{y + 11}" font-size="12" fill="#222">{escape(text)}</text>'
        )
        x += 34 + 7 * len(text)
        lower = upper
    parts.append(
        f'<rect x="{x:.0f}" y="{y}" width="18" height="14" fill="{NO_DATA}" stroke="#666" stroke-width="0.5"/>'
        f'<text x="{x + 22:.0f}" y="{y + 11}" font-size="12" fill="#222">no data</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def map_values_from(rows: Mapping[str, tuple[str, float, int]]) -> list[MapValue]:
    """Convenience: ``{iso3: (name, value, year)}`` to map values."""
    return [MapValue(iso3, name, value, year) for iso3, (name, value, year) in rows.items()]
