"""Questionnaire instruments as data: load, validate and navigate an instrument definition.

An instrument (versioned) holds modules, a module holds questions, and each question is a data element
with a value type, a unit and its disaggregation dimensions.  One reported number is a *cell*: the
question code plus one code per dimension of that question, keyed as ``(question, ((dim, code), ...))``
with the pairs sorted by dimension code so the same cell always has the same key.
"""

from __future__ import annotations

import enum
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

INSTRUMENTS_DIR: Final = Path(__file__).resolve().parent.parent / "instruments"
REVISED_ARQ_PATH: Final = INSTRUMENTS_DIR / "arq_revised.json"
REVISED_ARQ_RULES_PATH: Final = INSTRUMENTS_DIR / "arq_rules.json"
LEGACY_MAPPING_PATH: Final = INSTRUMENTS_DIR / "arq_legacy_mapping.json"

VALUE_TYPES: Final = ("number", "percentage", "integer", "choice", "text", "year_range")
NUMERIC_TYPES: Final = frozenset({"number", "percentage", "integer"})
SHEET_TITLE_MAX: Final = 31  # Excel's limit on a sheet name

DimensionKey = tuple[tuple[str, str], ...]
CellKey = tuple[str, DimensionKey]
YearRange = tuple[int, int]


class NotKnown(enum.Enum):
    """The ARQ's explicit "not known" answer ("--"): counts as answered, but is not a number."""

    NOT_KNOWN = "--"


NOT_KNOWN: Final = NotKnown.NOT_KNOWN
Value = int | float | str | YearRange | NotKnown


class InstrumentError(ValueError):
    """A malformed instrument definition; the message names the offending element."""


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Dimension:
    code: str
    label: str
    options: tuple[Option, ...]
    total: str | None = None  # the code that stands for "all of them", excluded from `*` sums

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(option.code for option in self.options)

    def label_of(self, code: str) -> str:
        for option in self.options:
            if option.code == code:
                return option.label
        raise KeyError(code)


@dataclass(frozen=True, slots=True)
class QuestionDimension:
    """A dimension as one question uses it: the codes it allows and those it requires."""

    dimension: Dimension
    codes: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def code(self) -> str:
        return self.dimension.code

    @property
    def component_codes(self) -> tuple[str, ...]:
        """The allowed codes without the dimension's total: what `*` sums over."""
        return tuple(code for code in self.codes if code != self.dimension.total)


@dataclass(frozen=True, slots=True)
class Question:
    code: str
    label: str
    value_type: str
    unit: str
    mandatory: bool
    dimensions: tuple[QuestionDimension, ...]
    options: tuple[Option, ...] = ()
    module_code: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.value_type in NUMERIC_TYPES

    def dimension(self, code: str) -> QuestionDimension:
        for question_dimension in self.dimensions:
            if question_dimension.code == code:
                return question_dimension
        raise KeyError(f"question {self.code!r} has no dimension {code!r}")

    def cells(self) -> Iterator[CellKey]:
        """Every cell the question allows (the cartesian product of its dimensions' codes)."""
        yield from self._product(qd.codes for qd in self.dimensions)

    def required_cells(self) -> Iterator[CellKey]:
        """The cells a complete answer to a mandatory question must contain."""
        if self.mandatory:
            yield from self._product(qd.required for qd in self.dimensions)

    def _product(self, code_lists: Iterator[tuple[str, ...]]) -> Iterator[CellKey]:
        dimension_codes = [qd.code for qd in self.dimensions]
        for combination in itertools.product(*code_lists):
            yield cell_key(self.code, dict(zip(dimension_codes, combination, strict=True)))


@dataclass(frozen=True, slots=True)
class Module:
    code: str
    title: str
    part: str
    sheet: str
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    version: str
    title: str
    dimensions: tuple[Dimension, ...]
    modules: tuple[Module, ...]
    _questions: Mapping[str, Question] = field(default_factory=dict, repr=False, compare=False)

    def question(self, code: str) -> Question:
        try:
            return self._questions[code]
        except KeyError:
            raise KeyError(f"instrument {self.code} {self.version} has no question {code!r}") from None

    def has_question(self, code: str) -> bool:
        return code in self._questions

    def questions(self) -> Iterator[Question]:
        for module in self.modules:
            yield from module.questions

    def module(self, code: str) -> Module:
        for module in self.modules:
            if module.code == code:
                return module
        raise KeyError(f"instrument {self.code} {self.version} has no module {code!r}")

    def dimension(self, code: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.code == code:
                return dimension
        raise KeyError(f"instrument {self.code} {self.version} has no dimension {code!r}")


def cell_key(question: str, dimensions: Mapping[str, str] | None = None) -> CellKey:
    """The canonical key of one cell: dimension pairs sorted by dimension code."""
    return (question, tuple(sorted((dimensions or {}).items())))


def describe_cell(key: CellKey) -> str:
    """`gp_prevalence[drug=cannabis, sex=male]`: how messages name a cell."""
    question, dims = key
    if not dims:
        return question
    return question + "[" + ", ".join(f"{dim}={code}" for dim, code in dims) + "]"


def check_cell(instrument: Instrument, key: CellKey) -> str | None:
    """Why `key` is not a cell of the instrument, or None when it is."""
    question_code, dims = key
    if not instrument.has_question(question_code):
        return f"unknown question {question_code!r}"
    question = instrument.question(question_code)
    expected = {qd.code for qd in question.dimensions}
    given = {dim for dim, _ in dims}
    if given != expected:
        return f"question {question_code!r} needs dimensions {sorted(expected)}, got {sorted(given)}"
    for dim, code in dims:
        if code not in question.dimension(dim).codes:
            return f"code {code!r} is not allowed for dimension {dim!r} of question {question_code!r}"
    return None


# ---------------------------------------------------------------------------------------------- loading


def load_instrument(path: Path | str = REVISED_ARQ_PATH) -> Instrument:
    """Read an instrument definition file; raise InstrumentError naming what is malformed."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InstrumentError(f"{path}: not valid JSON ({error})") from error
    return parse_instrument(raw)


def parse_instrument(raw: Any) -> Instrument:
    """Build a frozen Instrument from its JSON form, checking every reference and constraint."""
    where = "instrument"
    _require_mapping(raw, where)
    code = _require_str(raw, "code", where)
    version = _require_str(raw, "version", where)
    title = _require_str(raw, "title", where)
    where = f"instrument {code} {version}"

    dimensions: dict[str, Dimension] = {}
    for index, raw_dimension in enumerate(_require_list(raw, "dimensions", where)):
        dimension = _parse_dimension(raw_dimension, f"{where}, dimension #{index + 1}")
        if dimension.code in dimensions:
            raise InstrumentError(f"{where}: dimension {dimension.code!r} is defined twice")
        dimensions[dimension.code] = dimension

    modules: list[Module] = []
    questions: dict[str, Question] = {}
    sheets: set[str] = set()
    module_codes: set[str] = set()
    for index, raw_module in enumerate(_require_list(raw, "modules", where)):
        module = _parse_module(raw_module, dimensions, f"{where}, module #{index + 1}")
        if module.code in module_codes:
            raise InstrumentError(f"{where}: module {module.code!r} is defined twice")
        if module.sheet.casefold() in sheets:
            raise InstrumentError(f"{where}: sheet name {module.sheet!r} is used by two modules")
        module_codes.add(module.code)
        sheets.add(module.sheet.casefold())
        for question in module.questions:
            if question.code in questions:
                raise InstrumentError(f"{where}: question {question.code!r} is defined twice")
            questions[question.code] = question
        modules.append(module)
    if not modules:
        raise InstrumentError(f"{where}: has no modules")
    return Instrument(code, version, title, tuple(dimensions.values()), tuple(modules), questions)


def _parse_dimension(raw: Any, where: str) -> Dimension:
    _require_mapping(raw, where)
    code = _require_code(raw, "code", where)
    where = f"dimension {code!r}"
    options = _parse_options(_require_list(raw, "options", where), where)
    total = raw.get("total")
    if total is not None and total not in {option.code for option in options}:
        raise InstrumentError(f"{where}: total code {total!r} is not one of its options")
    return Dimension(code, _require_str(raw, "label", where), options, total)


def _parse_options(raw_options: list[Any], where: str) -> tuple[Option, ...]:
    options: list[Option] = []
    seen_codes: set[str] = set()
    seen_labels: set[str] = set()
    for index, raw in enumerate(raw_options):
        option_where = f"{where}, option #{index + 1}"
        _require_mapping(raw, option_where)
        option = Option(_require_code(raw, "code", option_where), _require_str(raw, "label", option_where))
        # Workbook cells may hold a label or a code, so both must identify one option.
        if option.code in seen_codes or option.label.casefold() in seen_labels:
            raise InstrumentError(f"{where}: option {option.code!r} / {option.label!r} is not unique")
        seen_codes.add(option.code)
        seen_labels.add(option.label.casefold())
        options.append(option)
    if not options:
        raise InstrumentError(f"{where}: has no options")
    return tuple(options)


def _parse_module(raw: Any, dimensions: Mapping[str, Dimension], where: str) -> Module:
    _require_mapping(raw, where)
    code = _require_code(raw, "code", where)
    where = f"module {code!r}"
    sheet = _require_str(raw, "sheet", where)
    if len(sheet) > SHEET_TITLE_MAX or any(char in sheet for char in "[]:*?/\\") or sheet.startswith("_"):
        raise InstrumentError(f"{where}: sheet name {sheet!r} is not a valid Excel sheet name")
    part = _require_str(raw, "part", where)
    if part not in ("demand", "supply"):
        raise InstrumentError(f"{where}: part must be 'demand' or 'supply', not {part!r}")
    questions = tuple(
        _parse_question(raw_question, dimensions, code, f"{where}, question #{index + 1}")
        for index, raw_question in enumerate(_require_list(raw, "questions", where))
    )
    if not questions:
        raise InstrumentError(f"{where}: has no questions")
    return Module(code, _require_str(raw, "title", where), part, sheet, questions)


def _parse_question(raw: Any, dimensions: Mapping[str, Dimension], module_code: str, where: str) -> Question:
    _require_mapping(raw, where)
    code = _require_code(raw, "code", where)
    where = f"question {code!r}"
    value_type = _require_str(raw, "type", where)
    if value_type not in VALUE_TYPES:
        raise InstrumentError(f"{where}: value type {value_type!r} is not one of {', '.join(VALUE_TYPES)}")
    unit = raw.get("unit", "")
    if not isinstance(unit, str):
        raise InstrumentError(f"{where}: unit must be text")
    mandatory = raw.get("mandatory", False)
    if not isinstance(mandatory, bool):
        raise InstrumentError(f"{where}: mandatory must be true or false")
    options: tuple[Option, ...] = ()
    if value_type == "choice":
        options = _parse_options(_require_list(raw, "options", where), where)
    elif "options" in raw:
        raise InstrumentError(f"{where}: only choice questions have options")

    question_dimensions: list[QuestionDimension] = []
    for raw_qd in _require_list(raw, "dimensions", where):
        _require_mapping(raw_qd, where)
        dimension_code = _require_str(raw_qd, "dimension", where)
        if dimension_code not in dimensions:
            raise InstrumentError(f"{where}: unknown dimension {dimension_code!r}")
        if any(qd.code == dimension_code for qd in question_dimensions):
            raise InstrumentError(f"{where}: dimension {dimension_code!r} is listed twice")
        dimension = dimensions[dimension_code]
        codes = tuple(raw_qd.get("codes", dimension.codes))
        required = tuple(raw_qd.get("required", codes))
        for listed in (codes, required):
            unknown = [c for c in listed if c not in dimension.codes]
            if unknown:
                raise InstrumentError(f"{where}: dimension {dimension_code!r} has no code(s) {unknown}")
        if not codes or len(set(codes)) != len(codes):
            raise InstrumentError(f"{where}: codes of dimension {dimension_code!r} are empty or repeated")
        if not set(required) <= set(codes):
            raise InstrumentError(f"{where}: required codes of {dimension_code!r} must be among its codes")
        question_dimensions.append(QuestionDimension(dimension, codes, required))
    return Question(
        code, _require_str(raw, "label", where), value_type, unit, mandatory,
        tuple(question_dimensions), options, module_code,
    )  # fmt: skip


def _require_mapping(raw: Any, where: str) -> None:
    if not isinstance(raw, dict):
        raise InstrumentError(f"{where}: expected an object, got {type(raw).__name__}")


def _require_str(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InstrumentError(f"{where}: {key!r} is missing or not a non-empty text")
    return value


def _require_code(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = _require_str(raw, key, where)
    # Codes appear inside rule expressions (`#{q.dim=code}`), so they must not hold syntax characters.
    if not all(char.isalnum() or char == "_" for char in value):
        raise InstrumentError(f"{where}: code {value!r} may only contain letters, digits and '_'")
    return value


def _require_list(raw: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = raw.get(key)
    if not isinstance(value, list):
        raise InstrumentError(f"{where}: {key!r} must be a list")
    return value


# -------------------------------------------------------------------------------- historical mapping

LEGACY_ATTRIBUTES: Final = frozenset(
    {"year", "age_range", "source", "method", "adjustment_codes", "comment", "substance", "nps_type"}
)


@dataclass(frozen=True, slots=True)
class LegacyColumn:
    """Where one column of an older series goes: a cell of the instrument, or a value attribute."""

    source: str
    sheet: str
    column: str
    cell: CellKey | None
    attribute: str | None


def load_legacy_mapping(instrument: Instrument, path: Path | str = LEGACY_MAPPING_PATH) -> list[LegacyColumn]:
    """Read the mapping of older series onto the instrument, checking each target is a real cell."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    columns: list[LegacyColumn] = []
    for source in raw.get("sources", []):
        source_code = source["code"]
        sheets: Mapping[str, str] = source["sheets"]
        for set_name, column_set in source["column_sets"].items():
            where = f"mapping {source_code}, column set {set_name!r}"
            for sheet in column_set["applies_to"]:
                if sheet not in sheets:
                    raise InstrumentError(f"{where}: sheet {sheet!r} has no drug code in 'sheets'")
                for column, target in column_set["columns"].items():
                    if "attribute" in target:
                        if target["attribute"] not in LEGACY_ATTRIBUTES:
                            raise InstrumentError(f"{where}: unknown attribute {target['attribute']!r}")
                        columns.append(LegacyColumn(source_code, sheet, column, None, target["attribute"]))
                        continue
                    key = cell_key(target["question"], {**target["dims"], "drug": sheets[sheet]})
                    problem = check_cell(instrument, key)
                    if problem:
                        raise InstrumentError(f"{where}: column {column!r} of sheet {sheet!r}: {problem}")
                    columns.append(LegacyColumn(source_code, sheet, column, key, None))
    return columns
