"""A small, typed subset of the SDMX 2.1 information model.

Only what the Observatory publishes: codelists, one concept scheme per structure, data structure
definitions with a time dimension and the primary measure OBS_VALUE, dataflows, and data sets made of
series of observations. Everything is an immutable dataclass so a release snapshot cannot drift while
it is being serialised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

TIME_DIMENSION_ID = "TIME_PERIOD"
PRIMARY_MEASURE_ID = "OBS_VALUE"

# SDMX IDType: letters, digits, underscore, '@', '$' and '-' (no dots: dots separate key parts).
_ID_PATTERN = re.compile(r"[A-Za-z0-9_@$\-]+")
_VERSION_PATTERN = re.compile(r"[0-9]+(\.[0-9]+)*")


class ModelError(ValueError):
    """A structure or data set that violates the SDMX information model."""


def is_valid_id(value: str) -> bool:
    return bool(_ID_PATTERN.fullmatch(value))


def _require_id(value: str, what: str) -> None:
    if not is_valid_id(value):
        raise ModelError(f"{what} {value!r} is not a valid SDMX ID (letters, digits, _ @ $ -)")


def _require_names(names: Mapping[str, str], what: str) -> None:
    if not names:
        raise ModelError(f"{what} needs a name in at least one language")


@dataclass(frozen=True)
class MaintainableRef:
    """Agency, ID and version: the identity of a maintainable artefact (e.g. ``UNODC:DF_SEIZURES(1.0)``)."""

    agency: str
    id: str
    version: str

    def __str__(self) -> str:
        return f"{self.agency}:{self.id}({self.version})"


def _check_maintainable(agency: str, id: str, version: str, names: Mapping[str, str], what: str) -> None:
    _require_id(agency, f"{what} agency")
    _require_id(id, f"{what} id")
    if not _VERSION_PATTERN.fullmatch(version):
        raise ModelError(f"{what} {id}: version {version!r} is not like '1.0'")
    _require_names(names, f"{what} {id}")


@dataclass(frozen=True)
class Code:
    id: str
    name: str
    parent: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        _require_id(self.id, "code")


@dataclass(frozen=True)
class Codelist:
    id: str
    agency: str
    version: str
    names: Mapping[str, str]
    codes: tuple[Code, ...]

    def __post_init__(self) -> None:
        _check_maintainable(self.agency, self.id, self.version, self.names, "codelist")
        ids = [code.id for code in self.codes]
        if len(set(ids)) != len(ids):
            raise ModelError(f"codelist {self.id} has duplicate code ids")
        known = set(ids)
        for code in self.codes:
            if code.parent is not None and code.parent not in known:
                raise ModelError(f"codelist {self.id}: parent {code.parent!r} of {code.id!r} is not a code")

    @property
    def ref(self) -> MaintainableRef:
        return MaintainableRef(self.agency, self.id, self.version)

    def code_ids(self) -> frozenset[str]:
        return frozenset(code.id for code in self.codes)

    def get(self, code_id: str) -> Code | None:
        for code in self.codes:
            if code.id == code_id:
                return code
        return None


@dataclass(frozen=True)
class Concept:
    id: str
    name: str
    description: str | None = None

    def __post_init__(self) -> None:
        _require_id(self.id, "concept")


@dataclass(frozen=True)
class ConceptScheme:
    id: str
    agency: str
    version: str
    names: Mapping[str, str]
    concepts: tuple[Concept, ...]

    def __post_init__(self) -> None:
        _check_maintainable(self.agency, self.id, self.version, self.names, "concept scheme")
        ids = [concept.id for concept in self.concepts]
        if len(set(ids)) != len(ids):
            raise ModelError(f"concept scheme {self.id} has duplicate concept ids")

    @property
    def ref(self) -> MaintainableRef:
        return MaintainableRef(self.agency, self.id, self.version)

    def get(self, concept_id: str) -> Concept | None:
        for concept in self.concepts:
            if concept.id == concept_id:
                return concept
        return None


@dataclass(frozen=True)
class Dimension:
    """A coded key dimension. Its concept has the same ID in the structure's concept scheme."""

    id: str
    codelist: Codelist

    def __post_init__(self) -> None:
        _require_id(self.id, "dimension")


class AttachmentLevel(StrEnum):
    """Where an attribute's value is reported: once per series, or on each observation."""

    SERIES = "series"
    OBSERVATION = "observation"


class AssignmentStatus(StrEnum):
    MANDATORY = "Mandatory"
    CONDITIONAL = "Conditional"


@dataclass(frozen=True)
class Attribute:
    """A data attribute; coded when it has a codelist, free text otherwise (e.g. SOURCE)."""

    id: str
    codelist: Codelist | None = None
    level: AttachmentLevel = AttachmentLevel.OBSERVATION
    assignment: AssignmentStatus = AssignmentStatus.CONDITIONAL

    def __post_init__(self) -> None:
        _require_id(self.id, "attribute")


@dataclass(frozen=True)
class DataStructureDefinition:
    """Dimensions in key order, then TIME_PERIOD, the primary measure OBS_VALUE and attributes."""

    id: str
    agency: str
    version: str
    names: Mapping[str, str]
    concept_scheme: ConceptScheme
    dimensions: tuple[Dimension, ...]
    attributes: tuple[Attribute, ...] = ()

    def __post_init__(self) -> None:
        _check_maintainable(self.agency, self.id, self.version, self.names, "data structure")
        if not self.dimensions:
            raise ModelError(f"data structure {self.id} needs at least one key dimension")
        component_ids = [*self.dimension_ids, TIME_DIMENSION_ID, PRIMARY_MEASURE_ID, *self.attribute_ids]
        if len(set(component_ids)) != len(component_ids):
            raise ModelError(f"data structure {self.id} has duplicate component ids")
        missing = [cid for cid in component_ids if self.concept_scheme.get(cid) is None]
        if missing:
            raise ModelError(
                f"data structure {self.id}: concept scheme {self.concept_scheme.id} lacks concepts "
                + ", ".join(missing)
            )

    @property
    def ref(self) -> MaintainableRef:
        return MaintainableRef(self.agency, self.id, self.version)

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(dimension.id for dimension in self.dimensions)

    @property
    def attribute_ids(self) -> tuple[str, ...]:
        return tuple(attribute.id for attribute in self.attributes)

    def attribute(self, attribute_id: str) -> Attribute:
        for attribute in self.attributes:
            if attribute.id == attribute_id:
                return attribute
        raise KeyError(attribute_id)

    def attributes_at(self, level: AttachmentLevel) -> tuple[Attribute, ...]:
        return tuple(attribute for attribute in self.attributes if attribute.level is level)

    def codelists(self) -> tuple[Codelist, ...]:
        """Every codelist the structure uses, once each, in first-use order."""
        seen: dict[MaintainableRef, Codelist] = {}
        for codelist in [d.codelist for d in self.dimensions] + [a.codelist for a in self.attributes]:
            if codelist is not None:
                seen.setdefault(codelist.ref, codelist)
        return tuple(seen.values())

    def concept_name(self, component_id: str) -> str:
        concept = self.concept_scheme.get(component_id)
        return concept.name if concept is not None else component_id


@dataclass(frozen=True)
class Dataflow:
    id: str
    agency: str
    version: str
    names: Mapping[str, str]
    structure: DataStructureDefinition

    def __post_init__(self) -> None:
        _check_maintainable(self.agency, self.id, self.version, self.names, "dataflow")

    @property
    def ref(self) -> MaintainableRef:
        return MaintainableRef(self.agency, self.id, self.version)


@dataclass(frozen=True)
class Observation:
    """One value for one period. ``value`` None is a reported missing value (NaN in SDMX)."""

    period: str
    value: float | None
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Series:
    """Observations sharing one key: dimension ID → code ID, in any order."""

    key: Mapping[str, str]
    observations: tuple[Observation, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)

    def key_values(self, structure: DataStructureDefinition) -> tuple[str, ...]:
        return tuple(self.key[dimension_id] for dimension_id in structure.dimension_ids)


@dataclass(frozen=True)
class DataSet:
    dataflow: Dataflow
    series: tuple[Series, ...]

    @property
    def structure(self) -> DataStructureDefinition:
        return self.dataflow.structure


@dataclass(frozen=True)
class MessageHeader:
    """The SDMX-ML/JSON header: message ID, test flag, preparation time and sending agency."""

    id: str
    sender: str
    sender_name: str | None = None
    prepared: datetime = field(default_factory=lambda: datetime.now(UTC))
    test: bool = False

    def __post_init__(self) -> None:
        _require_id(self.id, "message id")
        _require_id(self.sender, "sender")
        if self.prepared.tzinfo is None:
            raise ModelError("message header: prepared must be timezone-aware")


def validate_data_set(data_set: DataSet) -> None:
    """Check every series key and attribute against the structure; raise ModelError naming the first fault.

    Writers trust their input, so the publication layer calls this once when a release is built.
    """
    structure = data_set.structure
    dimension_ids = set(structure.dimension_ids)
    series_attributes = {a.id: a for a in structure.attributes_at(AttachmentLevel.SERIES)}
    observation_attributes = {a.id: a for a in structure.attributes_at(AttachmentLevel.OBSERVATION)}
    seen_keys: set[tuple[str, ...]] = set()
    for position, series in enumerate(data_set.series):
        if set(series.key) != dimension_ids:
            raise ModelError(
                f"series {position}: key has {sorted(series.key)}, structure needs {sorted(dimension_ids)}"
            )
        for dimension in structure.dimensions:
            code = series.key[dimension.id]
            if code not in dimension.codelist.code_ids():
                raise ModelError(
                    f"series {position}: {dimension.id}={code!r} is not in codelist {dimension.codelist.id}"
                )
        key = series.key_values(structure)
        if key in seen_keys:
            raise ModelError(f"series {position}: key {'.'.join(key)} occurs twice")
        seen_keys.add(key)
        _check_attribute_values(series.attributes, series_attributes, f"series {'.'.join(key)}")
        periods: set[str] = set()
        for observation in series.observations:
            if observation.period in periods:
                raise ModelError(f"series {'.'.join(key)}: period {observation.period} occurs twice")
            periods.add(observation.period)
            _check_attribute_values(
                observation.attributes,
                observation_attributes,
                f"series {'.'.join(key)} period {observation.period}",
            )


def _check_attribute_values(values: Mapping[str, str], allowed: Mapping[str, Attribute], where: str) -> None:
    for attribute_id, value in values.items():
        attribute = allowed.get(attribute_id)
        if attribute is None:
            raise ModelError(f"{where}: attribute {attribute_id} is not attached at this level")
        if attribute.codelist is not None and value not in attribute.codelist.code_ids():
            raise ModelError(f"{where}: {attribute_id}={value!r} is not in codelist {attribute.codelist.id}")
