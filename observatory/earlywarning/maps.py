"""A server-rendered SVG world map of spread: each country coloured by the year of its first
identification (equirectangular, Natural Earth 1:110m outlines shipped with the reference data).
Pure module: no Django import; nothing fetched at run time."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

WORLD_FILE = Path(__file__).resolve().parents[1] / "reference" / "data" / "world_110m.geojson"
WIDTH = 1000
HEIGHT = 460
LATITUDE_TOP = 84.0
LATITUDE_BOTTOM = -58.0
NO_DATA = "#e3e7ea"
# Light (early) to dark (recent): a sequential palette that prints in greyscale too.
PALETTE = ("#fde0c5", "#facba6", "#f8b58b", "#f59e72", "#f2855d", "#ef6a4c", "#eb4a40", "#c8303a", "#9c1f35")


def _project(latitude: float, longitude: float) -> tuple[float, float]:
    x = (longitude + 180.0) / 360.0 * WIDTH
    y = (LATITUDE_TOP - latitude) / (LATITUDE_TOP - LATITUDE_BOTTOM) * HEIGHT
    return round(x, 1), round(y, 1)


@cache
def _outlines() -> tuple[tuple[str, str, str], ...]:
    """(ISO3, name, SVG path) per country; the shipped file is immutable, so caching it is safe."""
    data = json.loads(WORLD_FILE.read_text(encoding="utf-8"))
    outlines = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        parts = []
        for polygon in polygons:
            for ring in polygon:
                points = [_project(lat, lon) for lon, lat in ring if lat >= LATITUDE_BOTTOM - 5]
                if len(points) >= 3:
                    parts.append("M" + "L".join(f"{x},{y}" for x, y in points) + "Z")
        props = feature["properties"]
        iso3 = str(props.get("iso3") or props.get("ISO_A3") or "")
        if parts:
            outlines.append((iso3, str(props.get("NAME", iso3)), "".join(parts)))
    return tuple(outlines)


def year_colour(year: int, first: int, last: int) -> str:
    if last <= first:
        return PALETTE[len(PALETTE) // 2]
    step = (year - first) / (last - first)
    return PALETTE[min(len(PALETTE) - 1, int(step * (len(PALETTE) - 1) + 0.5))]


def spread_map_svg(first_year: dict[str, int], title: str) -> str:
    """Countries with a first identification coloured by its year; a legend of the year range."""
    years = sorted(set(first_year.values()))
    first, last = (years[0], years[-1]) if years else (0, 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 40}" role="img" '
        f'class="world-map" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#eef4f8"/>',
        '<g stroke="#ffffff" stroke-width="0.4">',
    ]
    for iso3, name, path in _outlines():
        year = first_year.get(iso3)
        fill = year_colour(year, first, last) if year is not None else NO_DATA
        label = f"{name}: first identified {year}" if year is not None else f"{name}: none reported"
        parts.append(
            f'<path d="{path}" fill="{fill}" data-iso3="{escape(iso3)}"><title>{escape(label)}</title></path>'
        )
    parts.append("</g>")
    parts.append(
        f'<g font-size="12" font-family="sans-serif" fill="#333" transform="translate(10,{HEIGHT + 12})">'
    )
    if years:
        parts.append('<text x="0" y="12">First identified:</text>')
        shown = years if len(years) <= 12 else [*years[:: max(1, len(years) // 12)], years[-1]]
        for i, year in enumerate(dict.fromkeys(shown)):
            x = 110 + i * 62
            parts.append(
                f'<rect x="{x}" y="1" width="14" height="14" fill="{year_colour(year, first, last)}"/>'
                f'<text x="{x + 18}" y="12">{year}</text>'
            )
    else:
        parts.append('<text x="0" y="12">No identifications reported.</text>')
    parts.append("</g></svg>")
    return "".join(parts)
