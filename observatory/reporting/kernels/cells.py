"""How cells and values are stored and typed in: canonical dimension strings, JSON encoding of values,
and parsing of what a person types into a form field. Pure functions, no Django."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from observatory.reporting.kernels.instrument import NOT_KNOWN, CellKey, NotKnown, Question, Value, cell_key

NOT_KNOWN_INPUTS: Final = frozenset({"--", "not known", "n/k"})
_YEAR_RANGE: Final = re.compile(r"^\s*(\d{4})\s*(?:[-–/]\s*(\d{4}))?\s*$")
_NUMBER: Final = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
MAX_TEXT: Final = 2000


def dims_string(dims: Mapping[str, str] | tuple[tuple[str, str], ...]) -> str:
    """`age_group=total;drug=cannabis`: the canonical text of a cell's dimensions (sorted by dimension)."""
    pairs = sorted(dims.items()) if isinstance(dims, Mapping) else sorted(dims)
    return ";".join(f"{dim}={code}" for dim, code in pairs)


def parse_dims(text: str) -> dict[str, str]:
    if not text:
        return {}
    result: dict[str, str] = {}
    for part in text.split(";"):
        dim, _, code = part.partition("=")
        if not dim or not code:
            raise ValueError(f"malformed dimension text {text!r}")
        result[dim] = code
    return result


@functools.lru_cache(maxsize=65536)
def key_of(question: str, dims: str) -> CellKey:
    """The kernels' key of a stored cell (cached: the same few thousand cells recur in every submission)."""
    return cell_key(question, parse_dims(dims))


def cell_id(key: CellKey) -> str:
    """`gp_prevalence|age_group=total;drug=cannabis`: one text naming a cell (form fields, URLs, JSON)."""
    return f"{key[0]}|{dims_string(key[1])}"


def parse_cell_id(text: str) -> CellKey:
    question, _, dims = text.partition("|")
    if not question:
        raise ValueError(f"malformed cell id {text!r}")
    return key_of(question, dims)


@functools.lru_cache(maxsize=65536)
def key_of_cell_id(text: str) -> CellKey:
    """`parse_cell_id`, cached (snapshots name every cell of every submission by its cell id)."""
    return parse_cell_id(text)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A submission's cells as two JSON arrays: the cell ids (ordered by question, then dims) and their
    stored values in the same order. Complete submissions of an instrument share one list of cells,
    named by its digest (`layout`), so a reader parses the cells once and then only the values."""

    layout: str  # sha256 of `cells`
    cells: str
    values: str


def _snapshot(ordered: list[tuple[str, Any]]) -> Snapshot:
    cells = json.dumps([cell for cell, _ in ordered], ensure_ascii=False, separators=(",", ":"))
    values = json.dumps([raw for _, raw in ordered], ensure_ascii=False, separators=(",", ":"))
    return Snapshot(hashlib.sha256(cells.encode()).hexdigest(), cells, values)


def _ordered(cells: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    # By (question, dims), the same on every database (cell ids are "question|dims").
    return sorted(cells, key=lambda item: item[0].partition("|")[::2])


def snapshot_of(rows: Iterable[tuple[str, str, Any]]) -> Snapshot:
    """The snapshot of (question, dims, stored value) rows."""
    return _snapshot(_ordered((f"{question}|{dims}", raw) for question, dims, raw in rows))


def snapshot_changed(cells: str, values: str, changes: Mapping[str, Any]) -> Snapshot:
    """A snapshot with `changes` applied: {cell id: new stored value, or None for a cleared cell}."""
    current = dict(zip(json.loads(cells), json.loads(values), strict=True))
    for cell, raw in changes.items():
        if raw is None:
            current.pop(cell, None)
        else:
            current[cell] = raw
    return _snapshot(_ordered(current.items()))


def layout_keys(cells: str) -> tuple[CellKey, ...]:
    """The cell keys of a snapshot's list of cells."""
    return tuple(map(key_of_cell_id, json.loads(cells)))


def snapshot_values(keys: tuple[CellKey, ...], values: str) -> dict[CellKey, Value]:
    """The values of a snapshot (keys from `layout_keys`), decoded as `decode` decodes one stored value."""
    raws = json.loads(values)
    result = dict(zip(keys, raws, strict=True))
    # Numbers and text decode to themselves; decode only the rest (year ranges, "--").
    for index, raw in enumerate(raws):
        if type(raw) not in _DECODES_TO_ITSELF:
            result[keys[index]] = decode(raw)
    return result


_DECODES_TO_ITSELF: Final = frozenset({int, float, str})


def encode(value: Value) -> Any:
    """A value as JSON: numbers and text as themselves, a year range as [first, last], "--" as an object."""
    if isinstance(value, NotKnown):
        return {"not_known": True}
    if isinstance(value, tuple):
        return [value[0], value[1]]
    return value


def decode(raw: Any) -> Value:
    kind = type(raw)
    if kind is float or kind is int or kind is str:  # the common case first (bool is not int here)
        return raw
    if isinstance(raw, dict) and raw.get("not_known"):
        return NOT_KNOWN
    if isinstance(raw, list) and len(raw) == 2:
        return (int(raw[0]), int(raw[1]))
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, int | float | str):
        return raw
    raise ValueError(f"cannot decode stored value {raw!r}")


def display(value: Value | None, question: Question | None = None) -> str:
    """The value as a person would type it back into the form."""
    if value is None:
        return ""
    if isinstance(value, NotKnown):
        return NOT_KNOWN.value
    if isinstance(value, tuple):
        return str(value[0]) if value[0] == value[1] else f"{value[0]}-{value[1]}"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


@dataclass(frozen=True, slots=True)
class InputError:
    reason: str


def parse_input(question: Question, text: str) -> Value | InputError | None:
    """What was typed for a cell of `question`: a value, None when left empty, or why it is not valid."""
    text = text.strip()
    if not text:
        return None
    if text.casefold() in NOT_KNOWN_INPUTS:
        return NOT_KNOWN
    kind = question.value_type
    if kind in ("number", "percentage", "integer"):
        compact = text.replace(" ", "").replace("\u00a0", "")
        if not _NUMBER.match(compact):
            return InputError(f'"{text}" is not a number (use a point for decimals; "--" if not known)')
        number = float(compact)
        if not math.isfinite(number):
            return InputError(f'"{text}" is not a finite number')
        if kind == "integer":
            if not number.is_integer():
                return InputError(f'"{text}" is not a whole number ({question.code} expects a count)')
            return int(number)
        return (
            int(number)
            if number.is_integer() and "." not in compact and "e" not in compact.lower()
            else number
        )
    if kind == "choice":
        lookup = {option.code.casefold(): option.code for option in question.options}
        lookup.update({option.label.casefold(): option.code for option in question.options})
        code = lookup.get(text.casefold())
        if code is None:
            return InputError(f'"{text}" is not one of: ' + "; ".join(o.label for o in question.options))
        return code
    if kind == "year_range":
        match = _YEAR_RANGE.match(text)
        if match is None:
            return InputError(f'"{text}" is not a year or a year range such as 2021-2022')
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            return InputError(f'"{text}": the range ends before it starts')
        return (first, last)
    if len(text) > MAX_TEXT:
        return InputError(f"text is longer than {MAX_TEXT} characters")
    return text


_AGE: Final = re.compile(r"(\d{1,2})\s*(?:[-–]\s*(\d{1,3})|\+)")


def age_bounds(text: str | None) -> tuple[int | None, int | None]:
    """'15-64' → (15, 64); '18+' → (18, None); anything else → (None, None)."""
    match = _AGE.search(text or "")
    if match is None:
        return None, None
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None
