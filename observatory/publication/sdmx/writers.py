"""SDMX 2.1 message writers: SDMX-ML structure, GenericData, StructureSpecificData, SDMX-JSON 1.0, SDMX-CSV.

Data writers are generators of UTF-8 byte chunks, one chunk per series (or per few hundred rows),
so a web response can stream a large data set without building the whole document in memory. The
``write_*`` companions join the chunks for callers that want bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from xml.sax.saxutils import escape, quoteattr

from .model import (
    PRIMARY_MEASURE_ID,
    TIME_DIMENSION_ID,
    AttachmentLevel,
    Attribute,
    Codelist,
    ConceptScheme,
    Dataflow,
    DataSet,
    DataStructureDefinition,
    MaintainableRef,
    MessageHeader,
    Observation,
    Series,
)
from .periods import period_interval, period_sort_key
from .query import ALL_DIMENSIONS, References

_T = TypeVar("_T", Codelist, ConceptScheme, Dataflow, DataStructureDefinition)

_SCHEMA_BASE = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
NAMESPACES: Mapping[str, str] = {
    "mes": f"{_SCHEMA_BASE}/message",
    "str": f"{_SCHEMA_BASE}/structure",
    "com": f"{_SCHEMA_BASE}/common",
    "gen": f"{_SCHEMA_BASE}/data/generic",
    "data": f"{_SCHEMA_BASE}/data/structurespecific",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_URN_PREFIX = "urn:sdmx:org.sdmx.infomodel"
# Chunk size for row-based formats: big enough to amortise the generator overhead.
_ROWS_PER_CHUNK = 500


# ---------------------------------------------------------------------------------------------
# XML helpers


def _attributes(values: Mapping[str, str | None]) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in values.items() if value is not None)


def _element(tag: str, attributes: Mapping[str, str | None] | None = None, content: str | None = None) -> str:
    opening = f"<{tag}{_attributes(attributes or {})}"
    if content is None:
        return opening + "/>"
    return f"{opening}>{content}</{tag}>"


def _namespace_declarations(prefixes: Sequence[str], extra: Mapping[str, str] | None = None) -> str:
    declared = {f"xmlns:{prefix}": NAMESPACES[prefix] for prefix in prefixes}
    declared.update(extra or {})
    return _attributes(declared)


def _names(names: Mapping[str, str], tag: str = "com:Name") -> str:
    return "".join(_element(tag, {"xml:lang": lang}, escape(text)) for lang, text in names.items())


def format_value(value: float | None) -> str:
    """Observation value as text: ``NaN`` for missing, integers without a trailing ``.0``."""
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def structure_id(ref: MaintainableRef) -> str:
    """Message-local ID tying a data set to the structure declared in its header."""
    return f"{ref.agency}_{ref.id}_{ref.version}".replace(".", "_")


def _header(header: MessageHeader, structure_element: str = "") -> str:
    sender_name = _names({"en": header.sender_name}) if header.sender_name else None
    return (
        "<mes:Header>"
        + _element("mes:ID", None, escape(header.id))
        + _element("mes:Test", None, "true" if header.test else "false")
        + _element("mes:Prepared", None, header.prepared.isoformat(timespec="seconds"))
        + _element("mes:Sender", {"id": header.sender}, sender_name)
        + structure_element
        + "</mes:Header>"
    )


def _ref(attributes: Mapping[str, str | None]) -> str:
    return _element("Ref", attributes)


def _maintainable_attributes(
    ref: MaintainableRef, urn_class: str, is_final: bool = True
) -> dict[str, str | None]:
    return {
        "id": ref.id,
        "agencyID": ref.agency,
        "version": ref.version,
        "isFinal": "true" if is_final else "false",
        "urn": f"{_URN_PREFIX}.{urn_class}={ref}",
    }


# ---------------------------------------------------------------------------------------------
# Structure message


def _codelist_xml(codelist: Codelist) -> str:
    codes = []
    for code in codelist.codes:
        content = _names({"en": code.name})
        if code.description:
            content += _names({"en": code.description}, "com:Description")
        if code.parent is not None:
            content += _element("str:Parent", None, _ref({"id": code.parent}))
        codes.append(
            _element(
                "str:Code",
                {"id": code.id, "urn": f"{_URN_PREFIX}.codelist.Code={codelist.ref}.{code.id}"},
                content,
            )
        )
    return _element(
        "str:Codelist",
        _maintainable_attributes(codelist.ref, "codelist.Codelist"),
        _names(codelist.names) + "".join(codes),
    )


def _concept_scheme_xml(scheme: ConceptScheme) -> str:
    concepts = []
    for concept in scheme.concepts:
        content = _names({"en": concept.name})
        if concept.description:
            content += _names({"en": concept.description}, "com:Description")
        concepts.append(
            _element(
                "str:Concept",
                {"id": concept.id, "urn": f"{_URN_PREFIX}.conceptscheme.Concept={scheme.ref}.{concept.id}"},
                content,
            )
        )
    return _element(
        "str:ConceptScheme",
        _maintainable_attributes(scheme.ref, "conceptscheme.ConceptScheme"),
        _names(scheme.names) + "".join(concepts),
    )


def _concept_identity(structure: DataStructureDefinition, component_id: str) -> str:
    scheme = structure.concept_scheme
    return _element(
        "str:ConceptIdentity",
        None,
        _ref(
            {
                "id": component_id,
                "maintainableParentID": scheme.id,
                "maintainableParentVersion": scheme.version,
                "agencyID": scheme.agency,
                "package": "conceptscheme",
                "class": "Concept",
            }
        ),
    )


def _enumeration(codelist: Codelist) -> str:
    return _element(
        "str:LocalRepresentation",
        None,
        _element(
            "str:Enumeration",
            None,
            _ref(
                {
                    "id": codelist.id,
                    "version": codelist.version,
                    "agencyID": codelist.agency,
                    "package": "codelist",
                    "class": "Codelist",
                }
            ),
        ),
    )


def _text_format(text_type: str) -> str:
    return _element("str:LocalRepresentation", None, _element("str:TextFormat", {"textType": text_type}))


def _attribute_xml(structure: DataStructureDefinition, attribute: Attribute) -> str:
    representation = _enumeration(attribute.codelist) if attribute.codelist else _text_format("String")
    if attribute.level is AttachmentLevel.OBSERVATION:
        relationship = _element("str:PrimaryMeasure", None, _ref({"id": PRIMARY_MEASURE_ID}))
    else:
        # Series level: the attribute depends on every key dimension (not on TIME_PERIOD).
        relationship = "".join(
            _element("str:Dimension", None, _ref({"id": dimension_id}))
            for dimension_id in structure.dimension_ids
        )
    return _element(
        "str:Attribute",
        {
            "id": attribute.id,
            "urn": f"{_URN_PREFIX}.datastructure.DataAttribute={structure.ref}.{attribute.id}",
            "assignmentStatus": attribute.assignment.value,
        },
        _concept_identity(structure, attribute.id)
        + representation
        + _element("str:AttributeRelationship", None, relationship),
    )


def _data_structure_xml(structure: DataStructureDefinition) -> str:
    dimensions = [
        _element(
            "str:Dimension",
            {
                "id": dimension.id,
                "urn": f"{_URN_PREFIX}.datastructure.Dimension={structure.ref}.{dimension.id}",
                "position": str(position),
            },
            _concept_identity(structure, dimension.id) + _enumeration(dimension.codelist),
        )
        for position, dimension in enumerate(structure.dimensions, start=1)
    ]
    dimensions.append(
        _element(
            "str:TimeDimension",
            {
                "id": TIME_DIMENSION_ID,
                "urn": f"{_URN_PREFIX}.datastructure.TimeDimension={structure.ref}.{TIME_DIMENSION_ID}",
                "position": str(len(structure.dimensions) + 1),
            },
            _concept_identity(structure, TIME_DIMENSION_ID) + _text_format("ObservationalTimePeriod"),
        )
    )
    components = _element(
        "str:DimensionList",
        {
            "id": "DimensionDescriptor",
            "urn": f"{_URN_PREFIX}.datastructure.DimensionDescriptor={structure.ref}.DimensionDescriptor",
        },
        "".join(dimensions),
    )
    if structure.attributes:
        components += _element(
            "str:AttributeList",
            {
                "id": "AttributeDescriptor",
                "urn": f"{_URN_PREFIX}.datastructure.AttributeDescriptor={structure.ref}.AttributeDescriptor",
            },
            "".join(_attribute_xml(structure, attribute) for attribute in structure.attributes),
        )
    components += _element(
        "str:MeasureList",
        {
            "id": "MeasureDescriptor",
            "urn": f"{_URN_PREFIX}.datastructure.MeasureDescriptor={structure.ref}.MeasureDescriptor",
        },
        _element(
            "str:PrimaryMeasure",
            {
                "id": PRIMARY_MEASURE_ID,
                "urn": f"{_URN_PREFIX}.datastructure.PrimaryMeasure={structure.ref}.{PRIMARY_MEASURE_ID}",
            },
            _concept_identity(structure, PRIMARY_MEASURE_ID) + _text_format("Double"),
        ),
    )
    return _element(
        "str:DataStructure",
        _maintainable_attributes(structure.ref, "datastructure.DataStructure"),
        _names(structure.names) + _element("str:DataStructureComponents", None, components),
    )


def _dataflow_xml(dataflow: Dataflow) -> str:
    target = dataflow.structure.ref
    return _element(
        "str:Dataflow",
        _maintainable_attributes(dataflow.ref, "datastructure.Dataflow"),
        _names(dataflow.names)
        + _element(
            "str:Structure",
            None,
            _ref(
                {
                    "id": target.id,
                    "version": target.version,
                    "agencyID": target.agency,
                    "package": "datastructure",
                    "class": "DataStructure",
                }
            ),
        ),
    )


def _unique(items: Iterable[_T]) -> list[_T]:
    seen: dict[MaintainableRef, _T] = {}
    for item in items:
        seen.setdefault(item.ref, item)
    return list(seen.values())


def write_structure_message(
    header: MessageHeader,
    *,
    dataflows: Sequence[Dataflow] = (),
    codelists: Sequence[Codelist] = (),
    concept_schemes: Sequence[ConceptScheme] = (),
    data_structures: Sequence[DataStructureDefinition] = (),
) -> bytes:
    """An SDMX-ML 2.1 structure message; each artefact appears once, sections in schema order."""
    sections = [
        ("str:Dataflows", [_dataflow_xml(d) for d in _unique(dataflows)]),
        ("str:Codelists", [_codelist_xml(c) for c in _unique(codelists)]),
        ("str:Concepts", [_concept_scheme_xml(c) for c in _unique(concept_schemes)]),
        ("str:DataStructures", [_data_structure_xml(s) for s in _unique(data_structures)]),
    ]
    body = "".join(_element(tag, None, "".join(items)) for tag, items in sections if items)
    document = (
        _XML_DECLARATION
        + f"<mes:Structure{_namespace_declarations(('mes', 'str', 'com', 'xsi'))}>"
        + _header(header)
        + (_element("mes:Structures", None, body) if body else "")
        + "</mes:Structure>"
    )
    return document.encode("utf-8")


@dataclass(frozen=True)
class StructureSelection:
    """The artefacts one structure message carries."""

    dataflows: tuple[Dataflow, ...] = ()
    data_structures: tuple[DataStructureDefinition, ...] = ()
    codelists: tuple[Codelist, ...] = ()
    concept_schemes: tuple[ConceptScheme, ...] = ()


def select_structures(
    *,
    dataflows: Sequence[Dataflow] = (),
    data_structures: Sequence[DataStructureDefinition] = (),
    codelists: Sequence[Codelist] = (),
    references: References = References.NONE,
) -> StructureSelection:
    """The requested artefacts plus what ``?references=`` adds below them.

    ``children`` adds one level (dataflow → DSD; DSD → codelists and concept scheme);
    ``descendants`` and ``all`` add every level below. Parents are the caller's business, since
    only it knows every dataflow that uses a structure or codelist.
    """
    flows = list(dataflows)
    structures = list(data_structures)
    lists = list(codelists)
    schemes: list[ConceptScheme] = []
    deep = references in (References.DESCENDANTS, References.ALL)
    if references in (References.CHILDREN, References.DESCENDANTS, References.ALL):
        requested_structures = list(structures)
        structures += [flow.structure for flow in flows]
        below = structures if deep else requested_structures
        for structure in below:
            lists += structure.codelists()
            schemes.append(structure.concept_scheme)
    return StructureSelection(
        dataflows=tuple(_unique(flows)),
        data_structures=tuple(_unique(structures)),
        codelists=tuple(_unique(lists)),
        concept_schemes=tuple(_unique(schemes)),
    )


def write_structure_selection(header: MessageHeader, selection: StructureSelection) -> bytes:
    return write_structure_message(
        header,
        dataflows=selection.dataflows,
        codelists=selection.codelists,
        concept_schemes=selection.concept_schemes,
        data_structures=selection.data_structures,
    )


# ---------------------------------------------------------------------------------------------
# Data messages: shared pieces


def _sorted_observations(series: Series) -> list[Observation]:
    return sorted(series.observations, key=lambda o: period_sort_key(o.period))


def _data_header(
    header: MessageHeader, dataflow: Dataflow, dimension_at_observation: str, namespace: str | None
) -> str:
    target = dataflow.structure.ref
    structure = _element(
        "mes:Structure",
        {
            "structureID": structure_id(target),
            "namespace": namespace,
            "dimensionAtObservation": dimension_at_observation,
        },
        _element(
            "com:Structure",
            None,
            _ref({"agencyID": target.agency, "id": target.id, "version": target.version}),
        ),
    )
    return _header(header, structure)


def _check_dimension_at_observation(value: str) -> None:
    if value not in (TIME_DIMENSION_ID, ALL_DIMENSIONS):
        raise ValueError(f"dimension at observation {value!r}: only {TIME_DIMENSION_ID} or {ALL_DIMENSIONS}")


# ---------------------------------------------------------------------------------------------
# GenericData


def _generic_values(tag: str, values: Iterable[tuple[str, str]]) -> str:
    return _element(tag, None, "".join(_element("gen:Value", {"id": k, "value": v}) for k, v in values))


def _generic_attributes(values: Mapping[str, str], structure: DataStructureDefinition) -> str:
    # Declared order, so output is stable whatever order the caller's mapping has.
    ordered = [(a, values[a]) for a in structure.attribute_ids if a in values]
    return _generic_values("gen:Attributes", ordered) if ordered else ""


def iter_generic_data(
    header: MessageHeader, data_set: DataSet, dimension_at_observation: str = TIME_DIMENSION_ID
) -> Iterator[bytes]:
    """SDMX-ML 2.1 GenericData, one chunk per series."""
    _check_dimension_at_observation(dimension_at_observation)
    structure = data_set.structure
    yield (
        _XML_DECLARATION
        + f"<mes:GenericData{_namespace_declarations(('mes', 'gen', 'com', 'xsi'))}>"
        + _data_header(header, data_set.dataflow, dimension_at_observation, None)
        + f'<mes:DataSet structureRef="{structure_id(structure.ref)}" action="Information">'
    ).encode()
    for series in data_set.series:
        key = [(d, series.key[d]) for d in structure.dimension_ids]
        if dimension_at_observation == ALL_DIMENSIONS:
            # No series: each observation carries its full key and the series' attributes.
            parts = []
            for observation in _sorted_observations(series):
                parts.append(
                    "<gen:Obs>"
                    + _generic_values("gen:ObsKey", [*key, (TIME_DIMENSION_ID, observation.period)])
                    + _element("gen:ObsValue", {"value": format_value(observation.value)})
                    + _generic_attributes({**series.attributes, **observation.attributes}, structure)
                    + "</gen:Obs>"
                )
            yield "".join(parts).encode()
            continue
        parts = ["<gen:Series>", _generic_values("gen:SeriesKey", key)]
        parts.append(_generic_attributes(series.attributes, structure))
        for observation in _sorted_observations(series):
            parts.append(
                "<gen:Obs>"
                + _element("gen:ObsDimension", {"value": observation.period})
                + _element("gen:ObsValue", {"value": format_value(observation.value)})
                + _generic_attributes(observation.attributes, structure)
                + "</gen:Obs>"
            )
        parts.append("</gen:Series>")
        yield "".join(parts).encode()
    yield b"</mes:DataSet></mes:GenericData>"


def write_generic_data(
    header: MessageHeader, data_set: DataSet, dimension_at_observation: str = TIME_DIMENSION_ID
) -> bytes:
    return b"".join(iter_generic_data(header, data_set, dimension_at_observation))


# ---------------------------------------------------------------------------------------------
# StructureSpecificData


def structure_specific_namespace(dataflow: Dataflow, dimension_at_observation: str) -> str:
    """The structure-specific schema namespace, as the SDMX registry conventions spell it."""
    level = (
        "AllDimensions"
        if dimension_at_observation == ALL_DIMENSIONS
        else f"ObsLevelDim:{dimension_at_observation}"
    )
    return f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={dataflow.structure.ref}:{level}"


def _ordered_attribute_values(
    values: Mapping[str, str], structure: DataStructureDefinition
) -> dict[str, str | None]:
    return {a: values[a] for a in structure.attribute_ids if a in values}


def iter_structure_specific_data(
    header: MessageHeader, data_set: DataSet, dimension_at_observation: str = TIME_DIMENSION_ID
) -> Iterator[bytes]:
    """SDMX-ML 2.1 StructureSpecificData: components as XML attributes of unqualified Series/Obs elements."""
    _check_dimension_at_observation(dimension_at_observation)
    structure = data_set.structure
    namespace = structure_specific_namespace(data_set.dataflow, dimension_at_observation)
    local_id = structure_id(structure.ref)
    yield (
        _XML_DECLARATION
        + "<mes:StructureSpecificData"
        + _namespace_declarations(("mes", "data", "com", "xsi"), {"xmlns:ns1": namespace})
        + ">"
        + _data_header(header, data_set.dataflow, dimension_at_observation, namespace)
        + "<mes:DataSet"
        + _attributes(
            {
                "data:structureRef": local_id,
                "data:dataScope": "DataStructure",
                "xsi:type": "ns1:DataSetType",
                "data:action": "Information",
            }
        )
        + ">"
    ).encode()
    for series in data_set.series:
        key: dict[str, str | None] = {d: series.key[d] for d in structure.dimension_ids}
        if dimension_at_observation == ALL_DIMENSIONS:
            parts = [
                _element(
                    "Obs",
                    {
                        **key,
                        TIME_DIMENSION_ID: observation.period,
                        PRIMARY_MEASURE_ID: format_value(observation.value),
                        **_ordered_attribute_values(
                            {**series.attributes, **observation.attributes}, structure
                        ),
                    },
                )
                for observation in _sorted_observations(series)
            ]
            yield "".join(parts).encode()
            continue
        observations = "".join(
            _element(
                "Obs",
                {
                    TIME_DIMENSION_ID: observation.period,
                    PRIMARY_MEASURE_ID: format_value(observation.value),
                    **_ordered_attribute_values(observation.attributes, structure),
                },
            )
            for observation in _sorted_observations(series)
        )
        attributes = {**key, **_ordered_attribute_values(series.attributes, structure)}
        yield _element("Series", attributes, observations or None).encode()
    yield b"</mes:DataSet></mes:StructureSpecificData>"


def write_structure_specific_data(
    header: MessageHeader, data_set: DataSet, dimension_at_observation: str = TIME_DIMENSION_ID
) -> bytes:
    return b"".join(iter_structure_specific_data(header, data_set, dimension_at_observation))


# ---------------------------------------------------------------------------------------------
# SDMX-JSON 1.0


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json_number(value: float | None) -> float | int | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else value


class _ValueIndex:
    """Distinct values of one component in first-seen order, for SDMX-JSON's index-based encoding."""

    def __init__(self) -> None:
        self.positions: dict[str, int] = {}

    def add(self, value: str) -> int:
        return self.positions.setdefault(value, len(self.positions))

    def __len__(self) -> int:
        return len(self.positions)


def _json_component(
    component_id: str,
    name: str,
    values: Iterable[str],
    labels: Mapping[str, str],
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    described: list[dict[str, object]] = []
    for value in values:
        item: dict[str, object] = {"id": value, "name": labels.get(value, value)}
        if component_id == TIME_DIMENSION_ID:
            start, end = period_interval(value)
            item["start"] = f"{start.isoformat()}T00:00:00"
            item["end"] = f"{end.isoformat()}T23:59:59"
        described.append(item)
    return {"id": component_id, "name": name, **(extra or {}), "values": described}


def _code_labels(codelist: Codelist | None) -> dict[str, str]:
    return {code.id: code.name for code in codelist.codes} if codelist else {}


def iter_sdmx_json_data(
    header: MessageHeader, data_set: DataSet, dimension_at_observation: str = TIME_DIMENSION_ID
) -> Iterator[bytes]:
    """SDMX-JSON 1.0 data message.

    The format lists each component's distinct values before the data that index them, so a
    first pass indexes the values and a second pass streams the series.
    """
    _check_dimension_at_observation(dimension_at_observation)
    structure = data_set.structure
    all_dimensions = dimension_at_observation == ALL_DIMENSIONS
    dimension_values = {d: _ValueIndex() for d in (*structure.dimension_ids, TIME_DIMENSION_ID)}
    # With AllDimensions every attribute is reported on the observation.
    series_attribute_ids = (
        [] if all_dimensions else [a.id for a in structure.attributes_at(AttachmentLevel.SERIES)]
    )
    observation_attribute_ids = [a for a in structure.attribute_ids if a not in series_attribute_ids]
    attribute_values = {a: _ValueIndex() for a in structure.attribute_ids}
    for series in data_set.series:
        for dimension_id in structure.dimension_ids:
            dimension_values[dimension_id].add(series.key[dimension_id])
        for attribute_id, value in series.attributes.items():
            attribute_values[attribute_id].add(value)
        for observation in series.observations:
            dimension_values[TIME_DIMENSION_ID].add(observation.period)
            for attribute_id, value in observation.attributes.items():
                attribute_values[attribute_id].add(value)
    # Time values in chronological order, as consumers expect for charting.
    time_values = sorted(dimension_values[TIME_DIMENSION_ID].positions, key=period_sort_key)
    dimension_values[TIME_DIMENSION_ID].positions = {period: i for i, period in enumerate(time_values)}

    # sdmx1 (and the format) drop attributes that have no value at all, so list only used ones:
    # otherwise the observation arrays and the attribute list would fall out of step.
    series_attribute_ids = [a for a in series_attribute_ids if len(attribute_values[a])]
    observation_attribute_ids = [a for a in observation_attribute_ids if len(attribute_values[a])]

    def dimension_json(dimension_id: str, position: int) -> dict[str, object]:
        codelist = next((d.codelist for d in structure.dimensions if d.id == dimension_id), None)
        extra: dict[str, object] = {"keyPosition": position}
        if dimension_id == TIME_DIMENSION_ID:
            extra["role"] = "time"
        return _json_component(
            dimension_id,
            structure.concept_name(dimension_id),
            dimension_values[dimension_id].positions,
            _code_labels(codelist),
            extra,
        )

    def attribute_json(attribute_id: str) -> dict[str, object]:
        return _json_component(
            attribute_id,
            structure.concept_name(attribute_id),
            attribute_values[attribute_id].positions,
            _code_labels(structure.attribute(attribute_id).codelist),
        )

    key_dimension_json = [dimension_json(d, i) for i, d in enumerate(structure.dimension_ids)]
    time_json = dimension_json(TIME_DIMENSION_ID, len(structure.dimension_ids))
    dataflow = data_set.dataflow
    structure_json = {
        "links": [
            {
                "href": f"dataflow/{dataflow.agency}/{dataflow.id}/{dataflow.version}",
                "rel": "dataflow",
                "urn": f"{_URN_PREFIX}.datastructure.Dataflow={dataflow.ref}",
            }
        ],
        "name": next(iter(dataflow.names.values())),
        "dimensions": {
            "dataSet": [],
            "series": [] if all_dimensions else key_dimension_json,
            "observation": [*key_dimension_json, time_json] if all_dimensions else [time_json],
        },
        "attributes": {
            "dataSet": [],
            "series": [attribute_json(a) for a in series_attribute_ids],
            "observation": [attribute_json(a) for a in observation_attribute_ids],
        },
    }
    header_json: dict[str, object] = {
        "id": header.id,
        "test": header.test,
        "prepared": header.prepared.isoformat(timespec="seconds"),
        "sender": {"id": header.sender, **({"name": header.sender_name} if header.sender_name else {})},
    }
    yield ('{"header":' + _json(header_json) + ',"dataSets":[{"action":"Information",').encode()
    yield b'"observations":{' if all_dimensions else b'"series":{'

    def indices(values: Mapping[str, str], attribute_ids: Sequence[str]) -> list[int | None]:
        return [attribute_values[a].positions[values[a]] if a in values else None for a in attribute_ids]

    time_index = dimension_values[TIME_DIMENSION_ID].positions
    first = True
    for series in data_set.series:
        key_indices = [str(dimension_values[d].positions[series.key[d]]) for d in structure.dimension_ids]
        observations: dict[str, list[object]] = {}
        for observation in _sorted_observations(series):
            merged = (
                {**series.attributes, **observation.attributes} if all_dimensions else observation.attributes
            )
            observations[str(time_index[observation.period])] = [
                _json_number(observation.value),
                *indices(merged, observation_attribute_ids),
            ]
        if all_dimensions:
            chunk = ",".join(
                _json(":".join([*key_indices, time_key])) + ":" + _json(value)
                for time_key, value in observations.items()
            )
            if not chunk:
                continue
        else:
            body = {
                "attributes": indices(series.attributes, series_attribute_ids),
                "observations": observations,
            }
            chunk = _json(":".join(key_indices)) + ":" + _json(body)
        yield (("" if first else ",") + chunk).encode()
        first = False
    yield ('}}],"structure":' + _json(structure_json) + "}").encode()


def write_sdmx_json_data(
    header: MessageHeader, data_set: DataSet, dimension_at_observation: str = TIME_DIMENSION_ID
) -> bytes:
    return b"".join(iter_sdmx_json_data(header, data_set, dimension_at_observation))


# ---------------------------------------------------------------------------------------------
# SDMX-CSV


def sdmx_csv_header(structure: DataStructureDefinition, version: str = "2.0") -> list[str]:
    """Column names: SDMX-CSV 2.0 ``STRUCTURE,STRUCTURE_ID,ACTION,<dims>,TIME_PERIOD,OBS_VALUE,<attrs>``.

    SDMX-CSV 1.0 starts with ``DATAFLOW`` instead of the three structure columns.
    """
    lead = ["STRUCTURE", "STRUCTURE_ID", "ACTION"] if version == "2.0" else ["DATAFLOW"]
    return [*lead, *structure.dimension_ids, TIME_DIMENSION_ID, PRIMARY_MEASURE_ID, *structure.attribute_ids]


def _csv_text(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    # RFC 4180 line ends; values are written verbatim because SDMX-CSV is a data exchange format.
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def iter_sdmx_csv(data_set: DataSet, version: str = "2.0") -> Iterator[bytes]:
    """SDMX-CSV rows, one per observation; series attributes repeat on each of its rows.

    A missing value is written ``NaN``, an unreported attribute as an empty field.
    """
    if version not in ("2.0", "1.0"):
        raise ValueError(f"SDMX-CSV version {version!r}: only 2.0 and 1.0")
    structure = data_set.structure
    lead = ["dataflow", str(data_set.dataflow.ref), "I"] if version == "2.0" else [str(data_set.dataflow.ref)]
    yield _csv_text([sdmx_csv_header(structure, version)])
    batch: list[list[str]] = []
    for series in data_set.series:
        key = series.key_values(structure)
        for observation in _sorted_observations(series):
            attributes = {**series.attributes, **observation.attributes}
            batch.append(
                [
                    *lead,
                    *key,
                    observation.period,
                    format_value(observation.value),
                    *(attributes.get(a, "") for a in structure.attribute_ids),
                ]
            )
            if len(batch) >= _ROWS_PER_CHUNK:
                yield _csv_text(batch)
                batch = []
    if batch:
        yield _csv_text(batch)


def write_sdmx_csv(data_set: DataSet, version: str = "2.0") -> bytes:
    return b"".join(iter_sdmx_csv(data_set, version))
