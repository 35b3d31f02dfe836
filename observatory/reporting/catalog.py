"""The shipped instrument definitions and their compiled rule sets, read once per process.

The files are part of the release, immutable while the process runs, and the kernel objects are frozen:
caching them with ``lru_cache`` keeps no mutable data (DESIGN.md, scale). No Django import here.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from observatory.reporting.kernels.instrument import (
    LEGACY_MAPPING_PATH,
    REVISED_ARQ_PATH,
    REVISED_ARQ_RULES_PATH,
    Instrument,
    LegacyColumn,
    load_instrument,
    load_legacy_mapping,
)
from observatory.reporting.kernels.rules import CompiledRuleSet, load_rule_set


@dataclass(frozen=True, slots=True)
class InstrumentFiles:
    definition: Path
    rules: Path


# (code, version) -> its files. A new questionnaire version is a new entry; old ones stay for old years.
SHIPPED: Final[dict[tuple[str, str], InstrumentFiles]] = {
    ("ARQ", "2021.1"): InstrumentFiles(REVISED_ARQ_PATH, REVISED_ARQ_RULES_PATH),
}
CURRENT: Final = ("ARQ", "2021.1")


class UnknownInstrument(LookupError):
    pass


def _files(code: str, version: str) -> InstrumentFiles:
    try:
        return SHIPPED[(code, version)]
    except KeyError:
        raise UnknownInstrument(f"no shipped definition for instrument {code} {version}") from None


@functools.lru_cache(maxsize=8)
def instrument(code: str = CURRENT[0], version: str = CURRENT[1]) -> Instrument:
    return load_instrument(_files(code, version).definition)


@functools.lru_cache(maxsize=8)
def rule_set(code: str = CURRENT[0], version: str = CURRENT[1]) -> CompiledRuleSet:
    return load_rule_set(instrument(code, version), _files(code, version).rules)


@functools.lru_cache(maxsize=8)
def definition_sha256(code: str, version: str) -> str:
    return hashlib.sha256(_files(code, version).definition.read_bytes()).hexdigest()


@functools.lru_cache(maxsize=2)
def legacy_columns() -> tuple[LegacyColumn, ...]:
    return tuple(load_legacy_mapping(instrument(), LEGACY_MAPPING_PATH))
