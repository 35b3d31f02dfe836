"""Drug-label normalisation: maps labels as printed in the annex files to taxonomy codes.

The mapping is data (an alias table, e.g. the `aliases` of wdr_taxonomy.json), never code: a new
spelling is fixed by adding an alias, not by editing the source file or this module. Matching is
exact after a deterministic normalisation (case, curly/straight quotes, dashes, spacing); labels
that do not match are reported as unknown — never guessed. `suggest` offers fuzzy candidates for a
human to review, and is never used to resolve.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

TAXONOMY_PATH = Path(__file__).with_name("wdr_taxonomy.json")
LEVELS = ("drug_code", "subgroup_code", "group_code")

_QUOTES = re.compile(r"[\"'`\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2032\u2033]")
_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_SPACES = re.compile(r"\s+")


def normalise_label(label: str) -> str:
    """Canonical matching key: NFKC, quotes removed, dashes unified, '&' → 'and', case-folded,
    whitespace collapsed, trailing full stops dropped. Idempotent."""
    text = unicodedata.normalize("NFKC", label)
    text = _QUOTES.sub("", text)
    text = _DASHES.sub("-", text)
    text = text.replace("&", " and ").casefold()
    text = _SPACES.sub(" ", text).strip()
    return text.rstrip(". ").strip()


@dataclass(frozen=True, slots=True)
class Alias:
    label: str
    code: str
    level: str  # "drug_code" | "subgroup_code" | "group_code"


@dataclass(frozen=True, slots=True)
class Resolution:
    label: str
    key: str
    code: str | None
    level: str | None

    @property
    def known(self) -> bool:
        return self.code is not None


@dataclass(frozen=True, slots=True)
class LabelReport:
    resolved: dict[str, Resolution]
    unknown: tuple[str, ...]  # labels with no alias, sorted; for a person to map


class AliasConflictError(ValueError):
    """Two aliases normalise to the same key but point at different codes."""


class AliasTable:
    def __init__(self, aliases: Iterable[Alias]) -> None:
        self._by_key: dict[str, Alias] = {}
        for alias in aliases:
            if alias.level not in LEVELS:
                raise ValueError(f"alias {alias.label!r}: unknown level {alias.level!r}")
            key = normalise_label(alias.label)
            existing = self._by_key.get(key)
            if existing is not None and (existing.code, existing.level) != (alias.code, alias.level):
                raise AliasConflictError(
                    f"{alias.label!r} and {existing.label!r} both normalise to {key!r} "
                    f"but map to {alias.code!r} and {existing.code!r}"
                )
            self._by_key[key] = alias

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> AliasTable:
        """From JSON-style records: {"label": …, and exactly one of drug_code/subgroup_code/group_code}."""
        aliases = []
        for record in records:
            levels = [level for level in LEVELS if record.get(level)]
            if len(levels) != 1:
                raise ValueError(f"alias {record!r} must name exactly one of {LEVELS}")
            aliases.append(Alias(str(record["label"]), str(record[levels[0]]), levels[0]))
        return cls(aliases)

    @classmethod
    def from_taxonomy_file(cls, path: Path = TAXONOMY_PATH) -> AliasTable:
        return cls.from_records(json.loads(path.read_text(encoding="utf-8"))["aliases"])

    def __len__(self) -> int:
        return len(self._by_key)

    def resolve(self, label: str) -> Resolution:
        key = normalise_label(label)
        alias = self._by_key.get(key)
        return Resolution(label, key, alias.code if alias else None, alias.level if alias else None)

    def resolve_all(self, labels: Iterable[str]) -> LabelReport:
        resolved = {label: self.resolve(label) for label in set(labels)}
        unknown = tuple(sorted(label for label, resolution in resolved.items() if not resolution.known))
        return LabelReport(resolved, unknown)

    def suggest(self, label: str, limit: int = 3) -> list[tuple[str, float]]:
        """Closest known labels with their similarity (0-100), for a reviewer to choose from."""
        matches = process.extract(normalise_label(label), list(self._by_key), scorer=fuzz.WRatio, limit=limit)
        return [(self._by_key[key].label, float(score)) for key, score, _ in matches]
