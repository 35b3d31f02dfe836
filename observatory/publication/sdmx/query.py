"""SDMX-REST 2.1 data and structure queries: parse, negotiate the format, apply to a data set.

Errors are typed so the web layer maps them without string matching: ``InvalidQuery`` → 400,
``NotImplementedQuery`` → 501, ``NotAcceptable`` → 406 (each carries ``http_status``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum, StrEnum

from .model import (
    TIME_DIMENSION_ID,
    DataSet,
    DataStructureDefinition,
    Observation,
    Series,
    is_valid_id,
)
from .periods import PeriodError, period_interval, period_sort_key

ALL_DIMENSIONS = "AllDimensions"


class QueryError(Exception):
    http_status = 400


class InvalidQuery(QueryError):
    """The query is malformed (HTTP 400); the message says what and where."""

    http_status = 400


class NotImplementedQuery(QueryError):
    """A valid SDMX-REST feature this service does not provide (HTTP 501)."""

    http_status = 501


class NotAcceptable(QueryError):
    """No representation the client accepts can be produced (HTTP 406)."""

    http_status = 406


class Detail(StrEnum):
    FULL = "full"
    DATA_ONLY = "dataonly"
    SERIES_KEYS_ONLY = "serieskeysonly"
    NO_DATA = "nodata"


class DataFormat(Enum):
    """Data representations, each with the media type sent as Content-Type (sdmx1 picks its reader by it)."""

    GENERIC_XML = "application/vnd.sdmx.genericdata+xml;version=2.1"
    STRUCTURE_SPECIFIC_XML = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
    JSON = "application/vnd.sdmx.data+json;version=1.0.0"
    CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
    CSV_V1 = "application/vnd.sdmx.data+csv;version=1.0.0"

    @property
    def media_type(self) -> str:
        return self.value

    @property
    def file_extension(self) -> str:
        return {DataFormat.JSON: "json", DataFormat.CSV: "csv", DataFormat.CSV_V1: "csv"}.get(self, "xml")


class StructureFormat(Enum):
    STRUCTURE_XML = "application/vnd.sdmx.structure+xml;version=2.1"

    @property
    def media_type(self) -> str:
        return self.value


# ?format= values seen in the wild (.Stat Suite, ESTAT, ILO) mapped to our formats.
_DATA_FORMAT_PARAMETER: Mapping[str, DataFormat] = {
    "genericdata": DataFormat.GENERIC_XML,
    "generic": DataFormat.GENERIC_XML,
    "xml": DataFormat.GENERIC_XML,
    "sdmx-ml": DataFormat.GENERIC_XML,
    "structurespecificdata": DataFormat.STRUCTURE_SPECIFIC_XML,
    "structurespecific": DataFormat.STRUCTURE_SPECIFIC_XML,
    "jsondata": DataFormat.JSON,
    "json": DataFormat.JSON,
    "sdmx-json": DataFormat.JSON,
    "csv": DataFormat.CSV,
    "csvfile": DataFormat.CSV,
    "sdmx-csv": DataFormat.CSV,
    "csv1": DataFormat.CSV_V1,
}
_UNSUPPORTED_FORMAT_PARAMETER = {
    "csvfilewithlabels",
    "generictimeseriesdata",
    "structurespecifictimeseriesdata",
}


@dataclass(frozen=True)
class _MediaRange:
    type: str
    params: Mapping[str, str]
    quality: float
    order: int


def _parse_accept(accept: str) -> list[_MediaRange]:
    ranges: list[_MediaRange] = []
    for order, part in enumerate(accept.split(",")):
        pieces = [piece.strip() for piece in part.split(";")]
        if not pieces[0]:
            continue
        params: dict[str, str] = {}
        quality = 1.0
        for piece in pieces[1:]:
            name, _, value = piece.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    raise InvalidQuery(f"Accept header: q={value!r} is not a number") from None
            elif name:
                params[name] = value
        ranges.append(_MediaRange(pieces[0].lower(), params, quality, order))
    # Highest quality first; equal quality keeps the client's order.
    return sorted((r for r in ranges if r.quality > 0), key=lambda r: (-r.quality, r.order))


def _data_format_for_media_range(media: _MediaRange) -> DataFormat | None:
    """Our format for one Accept entry; None if it is not a data type at all; raises for known-unsupported."""
    version = media.params.get("version", "")
    match media.type:
        case "*/*" | "application/*" | "application/xml" | "text/xml":
            return DataFormat.GENERIC_XML
        case "application/vnd.sdmx.genericdata+xml" | "application/vnd.sdmx.generic+xml":
            _require_version(media, version, ("", "2.1"))
            return DataFormat.GENERIC_XML
        case "application/vnd.sdmx.structurespecificdata+xml":
            _require_version(media, version, ("", "2.1"))
            return DataFormat.STRUCTURE_SPECIFIC_XML
        case "application/vnd.sdmx.data+json" | "application/json" | "draft-sdmx-json" | "text/json":
            _require_version(media, version, ("", "1.0", "1.0.0"))
            return DataFormat.JSON
        case "application/vnd.sdmx.data+csv":
            if version in ("1.0", "1.0.0"):
                return DataFormat.CSV_V1
            _require_version(media, version, ("", "2.0", "2.0.0"))
            return DataFormat.CSV
        case "text/csv" | "text/*":
            return DataFormat.CSV
        case (
            "application/vnd.sdmx.generictimeseriesdata+xml"
            | "application/vnd.sdmx.structurespecifictimeseriesdata+xml"
            | "application/vnd.sdmx.data+xml"
        ):
            return None
    return None


def _require_version(media: _MediaRange, version: str, supported: Sequence[str]) -> None:
    if version not in supported:
        raise NotImplementedQuery(
            f"{media.type} version {version} is not provided; supported: "
            + ", ".join(v for v in supported if v)
        )


def negotiate_data_format(accept: str | None, format_parameter: str | None = None) -> DataFormat:
    """Pick the data format: ``?format=`` wins over the Accept header; no preference gives generic SDMX-ML.

    Unknown or unsupported SDMX media types give NotImplementedQuery (501) when nothing else in
    the header fits; a header naming only non-SDMX types gives NotAcceptable (406).
    """
    if format_parameter:
        name = format_parameter.strip().lower()
        if name in _DATA_FORMAT_PARAMETER:
            return _DATA_FORMAT_PARAMETER[name]
        if name in _UNSUPPORTED_FORMAT_PARAMETER:
            raise NotImplementedQuery(f"format={format_parameter} is not provided")
        raise InvalidQuery(
            f"format={format_parameter!r} is unknown; use one of " + ", ".join(sorted(_DATA_FORMAT_PARAMETER))
        )
    if not accept or not accept.strip():
        return DataFormat.GENERIC_XML
    first_unsupported: NotImplementedQuery | None = None
    ranges = _parse_accept(accept)
    for media in ranges:
        try:
            found = _data_format_for_media_range(media)
        except NotImplementedQuery as error:
            first_unsupported = first_unsupported or error
            continue
        if found is not None:
            return found
        if media.type.startswith("application/vnd.sdmx."):
            first_unsupported = first_unsupported or NotImplementedQuery(
                f"{media.type} is not provided for data"
            )
    if first_unsupported is not None:
        raise first_unsupported
    raise NotAcceptable(
        f"none of {accept!r} can be produced; data is available as "
        + ", ".join(fmt.media_type for fmt in DataFormat)
    )


def negotiate_structure_format(accept: str | None, format_parameter: str | None = None) -> StructureFormat:
    """Structures are served only as SDMX-ML 2.1; SDMX-JSON structure is not implemented (501)."""
    if format_parameter:
        name = format_parameter.strip().lower()
        if name in ("structure", "xml", "sdmx-ml"):
            return StructureFormat.STRUCTURE_XML
        if name in ("json", "sdmx-json", "jsonstructure"):
            raise NotImplementedQuery("SDMX-JSON structure messages are not provided")
        raise InvalidQuery(f"format={format_parameter!r} is unknown for structures; use 'structure'")
    if not accept or not accept.strip():
        return StructureFormat.STRUCTURE_XML
    for media in _parse_accept(accept):
        version = media.params.get("version", "")
        if media.type in ("*/*", "application/*", "application/xml", "text/xml"):
            return StructureFormat.STRUCTURE_XML
        if media.type == "application/vnd.sdmx.structure+xml" and version in ("", "2.1"):
            return StructureFormat.STRUCTURE_XML
    if any(
        media.type.startswith("application/vnd.sdmx.") or "json" in media.type
        for media in _parse_accept(accept)
    ):
        raise NotImplementedQuery(
            f"structures are provided only as {StructureFormat.STRUCTURE_XML.media_type}"
        )
    raise NotAcceptable(f"none of {accept!r} can be produced; structures are SDMX-ML 2.1")


@dataclass(frozen=True)
class FlowRef:
    """``ID``, ``AGENCY,ID`` or ``AGENCY,ID,VERSION`` from the data path; None means 'any'."""

    id: str
    agency: str | None = None
    version: str | None = None

    def matches(self, agency: str, id: str, version: str) -> bool:
        return self.id == id and self.agency in (None, agency) and self.version in (None, version)


def parse_flow_ref(text: str) -> FlowRef:
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > 3 or not all(parts):
        raise InvalidQuery(f"flowRef {text!r} must be ID, AGENCY,ID or AGENCY,ID,VERSION")
    if len(parts) == 1:
        agency, flow_id, version = None, parts[0], None
    elif len(parts) == 2:
        agency, flow_id, version = parts[0], parts[1], None
    else:
        agency, flow_id, version = parts
    for value, what in ((agency, "agency"), (flow_id, "dataflow id")):
        if value is not None and value != "all" and not is_valid_id(value):
            raise InvalidQuery(f"flowRef {text!r}: {what} {value!r} is not a valid SDMX ID")
    if version is not None and version not in ("latest", "all") and not re.fullmatch(r"\d+(\.\d+)*", version):
        raise InvalidQuery(f"flowRef {text!r}: version {version!r} is not like 1.0")
    return FlowRef(
        id=flow_id,
        agency=None if agency in (None, "all") else agency,
        version=None if version in (None, "latest", "all") else version,
    )


@dataclass(frozen=True)
class KeyFilter:
    """Allowed codes per key dimension, in DSD order; None is a wildcard."""

    dimension_ids: tuple[str, ...]
    allowed: tuple[frozenset[str] | None, ...]

    def matches(self, key: Mapping[str, str]) -> bool:
        return all(
            codes is None or key[dimension_id] in codes
            for dimension_id, codes in zip(self.dimension_ids, self.allowed, strict=True)
        )

    @property
    def is_wildcard(self) -> bool:
        return all(codes is None for codes in self.allowed)


def parse_key(key: str | None, structure: DataStructureDefinition) -> KeyFilter:
    """Parse an SDMX-REST key such as ``A.AFG+COL..BEST``.

    One part per key dimension, ``+`` is OR, an empty part is any code.

    ``all`` (or an absent key) selects every series. Codes need not exist: an unknown code just
    matches nothing, as the SDMX-REST specification asks.
    """
    dimension_ids = structure.dimension_ids
    if key is None or key.strip() in ("", "all"):
        return KeyFilter(dimension_ids, (None,) * len(dimension_ids))
    parts = key.split(".")
    if len(parts) != len(dimension_ids):
        raise InvalidQuery(
            f"key {key!r} has {len(parts)} part(s); {structure.id} has {len(dimension_ids)} dimensions "
            f"({'.'.join(dimension_ids)})"
        )
    allowed: list[frozenset[str] | None] = []
    for dimension_id, part in zip(dimension_ids, parts, strict=True):
        if part == "":
            allowed.append(None)
            continue
        codes = part.split("+")
        for code in codes:
            if not is_valid_id(code):
                raise InvalidQuery(f"key {key!r}: {code!r} for {dimension_id} is not a valid code")
        allowed.append(frozenset(codes))
    return KeyFilter(dimension_ids, tuple(allowed))


@dataclass(frozen=True)
class PeriodBound:
    text: str
    start: date
    end: date


def parse_period_bound(text: str, parameter: str) -> PeriodBound:
    try:
        start, end = period_interval(text)
    except PeriodError as error:
        raise InvalidQuery(f"{parameter}: {error}") from None
    return PeriodBound(text=text, start=start, end=end)


@dataclass(frozen=True)
class DataQuery:
    key: KeyFilter
    start_period: PeriodBound | None = None
    end_period: PeriodBound | None = None
    first_n_observations: int | None = None
    last_n_observations: int | None = None
    dimension_at_observation: str = TIME_DIMENSION_ID
    detail: Detail = Detail.FULL
    format: DataFormat = DataFormat.GENERIC_XML


def _positive_int(value: str, parameter: str) -> int:
    if not re.fullmatch(r"\d+", value.strip()) or int(value) < 1:
        raise InvalidQuery(f"{parameter}={value!r} must be a positive whole number")
    return int(value)


_DATA_PARAMETERS = {
    "startPeriod",
    "endPeriod",
    "firstNObservations",
    "lastNObservations",
    "dimensionAtObservation",
    "detail",
    "format",
    "includeHistory",
    "updatedAfter",
}


def parse_data_query(
    structure: DataStructureDefinition,
    key: str | None,
    parameters: Mapping[str, str],
    accept: str | None = None,
    provider: str | None = None,
) -> DataQuery:
    """Parse the key path segment, query parameters and Accept header of ``/data/{flow}/{key}/{provider}``.

    Parameter names are matched exactly, as in the SDMX-REST specification; unknown ones are
    rejected so a misspelt ``startperiod`` does not silently return everything.
    """
    unknown = sorted(set(parameters) - _DATA_PARAMETERS)
    if unknown:
        raise InvalidQuery(
            f"unknown query parameter(s) {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(_DATA_PARAMETERS))}"
        )
    if provider not in (None, "", "all"):
        raise NotImplementedQuery("data provider references are not supported; use 'all'")
    if parameters.get("updatedAfter"):
        raise NotImplementedQuery("updatedAfter is not supported: releases are immutable snapshots")
    include_history = parameters.get("includeHistory", "false").strip().lower()
    if include_history == "true":
        raise NotImplementedQuery("includeHistory=true is not supported")
    if include_history != "false":
        raise InvalidQuery(f"includeHistory={include_history!r} must be true or false")

    start = (
        parse_period_bound(parameters["startPeriod"], "startPeriod") if "startPeriod" in parameters else None
    )
    end = parse_period_bound(parameters["endPeriod"], "endPeriod") if "endPeriod" in parameters else None
    if start and end and start.start > end.end:
        raise InvalidQuery(f"startPeriod {start.text} is after endPeriod {end.text}")

    first_n = (
        _positive_int(parameters["firstNObservations"], "firstNObservations")
        if "firstNObservations" in parameters
        else None
    )
    last_n = (
        _positive_int(parameters["lastNObservations"], "lastNObservations")
        if "lastNObservations" in parameters
        else None
    )

    dimension_at_observation = parameters.get("dimensionAtObservation", TIME_DIMENSION_ID)
    if dimension_at_observation in structure.dimension_ids:
        raise NotImplementedQuery(
            f"dimensionAtObservation={dimension_at_observation} is not supported; "
            f"use {TIME_DIMENSION_ID} or {ALL_DIMENSIONS}"
        )
    if dimension_at_observation not in (TIME_DIMENSION_ID, ALL_DIMENSIONS):
        raise InvalidQuery(
            f"dimensionAtObservation={dimension_at_observation!r} is not a dimension of {structure.id}"
        )

    detail_text = parameters.get("detail", Detail.FULL.value)
    try:
        detail = Detail(detail_text)
    except ValueError:
        raise InvalidQuery(
            f"detail={detail_text!r} must be one of {', '.join(d.value for d in Detail)}"
        ) from None

    return DataQuery(
        key=parse_key(key, structure),
        start_period=start,
        end_period=end,
        first_n_observations=first_n,
        last_n_observations=last_n,
        dimension_at_observation=dimension_at_observation,
        detail=detail,
        format=negotiate_data_format(accept, parameters.get("format")),
    )


def _in_periods(observation: Observation, query: DataQuery) -> bool:
    # An observation is kept when its period overlaps [startPeriod, endPeriod]: annual 2020 is in
    # startPeriod=2020-06, as a year partly inside the window is still the value for that window.
    start, end = period_interval(observation.period)
    if query.start_period is not None and end < query.start_period.start:
        return False
    return not (query.end_period is not None and start > query.end_period.end)


def _select_observations(series: Series, query: DataQuery) -> tuple[Observation, ...]:
    observations = sorted(
        (o for o in series.observations if _in_periods(o, query)), key=lambda o: period_sort_key(o.period)
    )
    if query.first_n_observations is None and query.last_n_observations is None:
        return tuple(observations)
    # firstN and lastN together give the union of both ends, in chronological order.
    chosen: set[int] = set()
    if query.first_n_observations is not None:
        chosen.update(range(min(query.first_n_observations, len(observations))))
    if query.last_n_observations is not None:
        chosen.update(range(max(0, len(observations) - query.last_n_observations), len(observations)))
    return tuple(observations[i] for i in sorted(chosen))


def apply_query(data_set: DataSet, query: DataQuery) -> DataSet:
    """The series and observations a query selects, trimmed to its ``detail``.

    A series without any observation in the period window is left out (for every detail level,
    so serieskeysonly lists exactly the series that full would return).
    """
    selected: list[Series] = []
    for series in data_set.series:
        if not query.key.matches(series.key):
            continue
        observations = _select_observations(series, query)
        if not observations:
            continue
        match query.detail:
            case Detail.FULL:
                selected.append(replace(series, observations=observations))
            case Detail.DATA_ONLY:
                selected.append(
                    Series(
                        key=series.key,
                        observations=tuple(replace(o, attributes={}) for o in observations),
                    )
                )
            case Detail.NO_DATA:
                selected.append(Series(key=series.key, attributes=series.attributes))
            case Detail.SERIES_KEYS_ONLY:
                selected.append(Series(key=series.key))
    return DataSet(dataflow=data_set.dataflow, series=tuple(selected))


class References(StrEnum):
    NONE = "none"
    PARENTS = "parents"
    PARENTS_AND_SIBLINGS = "parentsandsiblings"
    CHILDREN = "children"
    DESCENDANTS = "descendants"
    ALL = "all"


_STUB_DETAILS = (
    "allstubs",
    "referencestubs",
    "allcompletestubs",
    "referencecompletestubs",
    "referencepartial",
)


@dataclass(frozen=True)
class StructureQuery:
    references: References = References.NONE
    format: StructureFormat = StructureFormat.STRUCTURE_XML


def parse_structure_query(parameters: Mapping[str, str], accept: str | None = None) -> StructureQuery:
    """``?detail=`` (only ``full``) and ``?references=`` of a structure query.

    For a dataflow, ``children`` adds its data structure; ``descendants``/``all`` add codelists and
    the concept scheme too. Resource-type names in ``references`` (e.g. ``codelist``) are 501.
    """
    unknown = sorted(set(parameters) - {"detail", "references", "format"})
    if unknown:
        raise InvalidQuery(f"unknown query parameter(s) {', '.join(unknown)}; supported: detail, references")
    detail = parameters.get("detail", "full")
    if detail != "full":
        if detail in (
            "allstubs",
            "referencestubs",
            "allcompletestubs",
            "referencecompletestubs",
            "referencepartial",
        ):
            raise NotImplementedQuery(f"detail={detail} is not supported; only full")
        raise InvalidQuery(f"detail={detail!r} is unknown")
    references_text = parameters.get("references", References.NONE.value)
    try:
        references = References(references_text)
    except ValueError:
        raise NotImplementedQuery(f"references={references_text} is not supported") from None
    return StructureQuery(
        references=references, format=negotiate_structure_format(accept, parameters.get("format"))
    )
