"""Server-rendered SVG world maps (equirectangular): country outlines, flow lines and case points.

No JavaScript and nothing fetched at run time: the outlines come from the shipped Natural Earth 1:110m
file; line ends are country centroids (Country.latitude/longitude) passed in by the caller.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

WORLD_FILE = Path(__file__).resolve().parents[1] / "reference" / "data" / "world_110m.geojson"
WIDTH = 1000
HEIGHT = 500
LATITUDE_TOP = 84.0
LATITUDE_BOTTOM = -60.0  # Antarctica is cut: nothing is trafficked there


def project(latitude: float, longitude: float) -> tuple[float, float]:
    x = (longitude + 180.0) / 360.0 * WIDTH
    y = (LATITUDE_TOP - latitude) / (LATITUDE_TOP - LATITUDE_BOTTOM) * HEIGHT
    return round(x, 1), round(y, 1)


@cache
def _outline_paths() -> tuple[tuple[str, str], ...]:
    """(ISO3, SVG path data) per country. The file is immutable shipped data: caching it is safe."""
    data = json.loads(WORLD_FILE.read_text(encoding="utf-8"))
    paths = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        parts = []
        for polygon in polygons:
            for ring in polygon:
                points = [project(lat, lon) for lon, lat in ring if lat >= LATITUDE_BOTTOM - 5]
                if len(points) < 3:
                    continue
                parts.append("M" + "L".join(f"{x},{y}" for x, y in points) + "Z")
        iso3 = str(feature["properties"].get("iso3") or feature["properties"].get("ISO_A3") or "")
        if parts:
            paths.append((iso3, "".join(parts)))
    return tuple(paths)


@dataclass(frozen=True)
class FlowLine:
    source: str
    target: str
    value: float
    label: str


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float
    value: float
    label: str


def _base(title: str, highlighted: Iterable[str] = ()) -> list[str]:
    marked = set(highlighted)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="world-map" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#eef4f8"/>',
        '<g stroke="#ffffff" stroke-width="0.4">',
    ]
    for iso3, path in _outline_paths():
        fill = "#cdd9cf" if iso3 in marked else "#dde3e6"
        parts.append(f'<path d="{path}" fill="{fill}"><title>{escape(iso3)}</title></path>')
    parts.append("</g>")
    return parts


def flow_map_svg(
    lines: Sequence[FlowLine],
    centroids: dict[str, tuple[float, float, str]],
    title: str,
    max_width: float = 9.0,
) -> str:
    """Curved flow lines between centroids, width by value, with an arrowhead at the target."""
    drawn = [line for line in lines if line.source in centroids and line.target in centroids]
    parts = _base(title, {c for line in drawn for c in (line.source, line.target)})
    parts.append(
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" '
        'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#b03a2e"/></marker></defs>'
    )
    top = max((line.value for line in drawn), default=1.0) or 1.0
    parts.append('<g fill="none" stroke="#b03a2e" stroke-linecap="round" marker-end="url(#arrow)">')
    for line in sorted(drawn, key=lambda item: item.value):
        x1, y1 = project(*centroids[line.source][:2])
        x2, y2 = project(*centroids[line.target][:2])
        width = 0.8 + (max_width - 0.8) * math.sqrt(max(line.value, 0.0) / top)
        # A gentle arc (bulging to the left of travel) keeps opposite flows apart.
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        dx, dy = x2 - x1, y2 - y1
        cx, cy = round(mx - dy * 0.2, 1), round(my + dx * 0.2, 1)
        opacity = 0.35 + 0.5 * math.sqrt(max(line.value, 0.0) / top)
        parts.append(
            f'<path d="M{x1},{y1}Q{cx},{cy} {x2},{y2}" stroke-width="{width:.1f}" '
            f'stroke-opacity="{opacity:.2f}"><title>{escape(line.label)}</title></path>'
        )
    parts.append("</g>")
    parts.append('<g fill="#1f3b57" font-size="9" font-family="sans-serif">')
    for iso3 in sorted({c for line in drawn for c in (line.source, line.target)}):
        x, y = project(*centroids[iso3][:2])
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="2.2"><title>{escape(centroids[iso3][2])}</title></circle>'
            f'<text x="{x + 3}" y="{y - 3}">{escape(iso3)}</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts)


def points_map_svg(points: Sequence[Point], title: str, max_radius: float = 16.0) -> str:
    """Circles sized by value (area proportional), at coordinates or country centroids."""
    parts = _base(title)
    top = max((p.value for p in points), default=1.0) or 1.0
    parts.append('<g fill="#b03a2e" fill-opacity="0.55" stroke="#7a241b" stroke-width="0.6">')
    for point in sorted(points, key=lambda p: -p.value):
        x, y = project(point.latitude, point.longitude)
        radius = 1.5 + (max_radius - 1.5) * math.sqrt(max(point.value, 0.0) / top)
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="{radius:.1f}"><title>{escape(point.label)}</title></circle>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
