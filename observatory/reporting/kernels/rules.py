"""Validation rules as data (DHIS2 pattern), compiled once against an instrument, evaluated fast.

A rule compares a left and a right expression with an operator, under a missing-value strategy, and
carries an importance and a message.  `$var` codes in its references expand the rule over every code
of a dimension; compiling turns each rule into index arrays over a slot table so that one submission
is checked with a few numpy operations per rule instead of a Python loop per cell.
"""

from __future__ import annotations

import itertools
import json
import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from observatory.reporting.kernels.expressions import (
    Binary,
    Call,
    ExpressionError,
    FloatArray,
    Negate,
    Node,
    Ref,
    RefSpec,
    VectorFunction,
    compile_vector,
    parse_expression,
    refs_of,
)
from observatory.reporting.kernels.instrument import (
    REVISED_ARQ_RULES_PATH,
    CellKey,
    Instrument,
    Value,
    cell_key,
    describe_cell,
)

OPERATORS: Final = ("==", "!=", "<", "<=", ">", ">=", "compulsory_pair", "exclusive_pair")
PAIR_OPERATORS: Final = frozenset({"compulsory_pair", "exclusive_pair"})
MISSING_VALUE_STRATEGIES: Final = ("skip_if_any_value_missing", "skip_if_all_values_missing", "never_skip")
IMPORTANCES: Final = ("high", "medium", "low")
RELATIVE_TOLERANCE: Final = 1e-9  # reported decimals must not fail an equality on float rounding

BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]


class RuleError(ValueError):
    """A malformed rule; the message names the rule and what is wrong."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    left: str
    operator: str
    right: str
    importance: str
    message: str
    missing_value_strategy: str = "skip_if_any_value_missing"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Violation:
    rule_id: str
    importance: str
    message: str
    cells: tuple[CellKey, ...]
    left_value: float | None = None
    right_value: float | None = None


@dataclass(frozen=True, slots=True)
class ModuleCompleteness:
    module: str
    required: int
    answered: int

    @property
    def ratio(self) -> float:
        """Share of the module's required cells that hold an answer (1.0 when none is required)."""
        return 1.0 if self.required == 0 else self.answered / self.required


# ------------------------------------------------------------------------------------------- loading


def load_rules(path: Path | str = REVISED_ARQ_RULES_PATH) -> list[Rule]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RuleError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise RuleError(f"{path}: expected an object with a 'rules' list")
    return [parse_rule(item, f"{path}, rule #{index + 1}") for index, item in enumerate(raw["rules"])]


def parse_rule(raw: Any, where: str = "rule") -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: expected an object")
    fields: dict[str, str] = {}
    for name in ("id", "left", "operator", "right", "importance", "message"):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise RuleError(f"{where}: {name!r} is missing or empty")
        fields[name] = value
    strategy = raw.get("missing_value_strategy", "skip_if_any_value_missing")
    where = f"rule {fields['id']!r}"
    if fields["operator"] not in OPERATORS:
        raise RuleError(f"{where}: operator {fields['operator']!r} is not one of {', '.join(OPERATORS)}")
    if strategy not in MISSING_VALUE_STRATEGIES:
        raise RuleError(
            f"{where}: missing-value strategy {strategy!r} is not one of {MISSING_VALUE_STRATEGIES}"
        )
    if fields["importance"] not in IMPORTANCES:
        raise RuleError(f"{where}: importance {fields['importance']!r} is not one of {IMPORTANCES}")
    return Rule(
        id=fields["id"], left=fields["left"], operator=fields["operator"], right=fields["right"],
        importance=fields["importance"], message=fields["message"], missing_value_strategy=strategy,
        description=str(raw.get("description", "")),
    )  # fmt: skip


# ----------------------------------------------------------------------------------------- compiling


@dataclass(frozen=True, slots=True)
class _Atom:
    """One reference of a rule across all its instances: slot indices of shape (instances, cells)."""

    slots: IndexArray
    side: str  # "left" or "right"

    is_sum: bool
    single_slots: IndexArray  # slots[:, 0], kept contiguous for fast gathering


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    atoms: tuple[_Atom, ...]
    left: VectorFunction
    right: VectorFunction
    bindings: tuple[tuple[tuple[str, str, str], ...], ...]  # per instance: (variable, code, label)
    instances: int


class CompiledRuleSet:
    """Rules compiled against one instrument; immutable after construction, safe to share."""

    def __init__(self, instrument: Instrument, rules: Sequence[Rule]) -> None:
        self.instrument = instrument
        self.rules = tuple(rules)
        self._slot_of: dict[CellKey, int] = {}
        self._keys: list[CellKey] = []
        seen_ids: set[str] = set()
        compiled: list[_CompiledRule] = []
        for rule in self.rules:
            if rule.id in seen_ids:
                raise RuleError(f"rule {rule.id!r} is defined twice")
            seen_ids.add(rule.id)
            compiled.append(self._compile(rule))
        self._compiled = tuple(compiled)
        self._required_by_module: tuple[tuple[str, tuple[CellKey, ...]], ...] = tuple(
            (module.code, tuple(key for question in module.questions for key in question.required_cells()))
            for module in instrument.modules
        )

    @property
    def instance_count(self) -> int:
        """How many concrete checks the rules expand to (a measure of the work per submission)."""
        return sum(compiled.instances for compiled in self._compiled)

    def _slot(self, key: CellKey) -> int:
        slot = self._slot_of.get(key)
        if slot is None:
            slot = self._slot_of[key] = len(self._keys)
            self._keys.append(key)
        return slot

    def _compile(self, rule: Rule) -> _CompiledRule:
        where = f"rule {rule.id!r}"
        try:
            left = parse_expression(rule.left)
            right = parse_expression(rule.right)
        except ExpressionError as error:
            raise RuleError(f"{where}: {error}") from error
        sides = [("left", spec) for spec in refs_of(left)] + [("right", spec) for spec in refs_of(right)]
        if not sides:
            raise RuleError(f"{where}: refers to no data value")
        for node in (left, right):
            _check_multi_cell_placement(node, inside_sum=False, where=where)
        if rule.operator in PAIR_OPERATORS and (not refs_of(left) or not refs_of(right)):
            raise RuleError(f"{where}: both sides of a pair rule must refer to data values")

        variables = self._variable_domains([spec for _, spec in sides], where)
        allowed_fields = {"left", "right", *variables}
        for _, field_name, _, _ in string.Formatter().parse(rule.message):
            if field_name is not None and field_name not in allowed_fields:
                raise RuleError(
                    f"{where}: message placeholder {{{field_name}}} is not one of {allowed_fields}"
                )

        names = list(variables)
        combinations = list(itertools.product(*(variables[name][1] for name in names)))
        atoms: list[_Atom] = []
        atom_index: dict[int, int] = {}
        for side, spec in sides:
            rows = [self._slots_for(spec, dict(zip(names, combo, strict=True))) for combo in combinations]
            atom_index[id(spec)] = len(atoms)
            slots = np.array(rows, dtype=np.intp).reshape(len(combinations), -1)
            is_sum = _names_several_cells(spec)
            atoms.append(_Atom(slots, side, is_sum, np.ascontiguousarray(slots[:, 0])))
        bindings = tuple(
            tuple(
                (name, code, self.instrument.dimension(variables[name][0]).label_of(code))
                for name, code in zip(names, combo, strict=True)
            )
            for combo in combinations
        )
        return _CompiledRule(
            rule, tuple(atoms), compile_vector(left, atom_index), compile_vector(right, atom_index),
            bindings, len(combinations),
        )  # fmt: skip

    def _variable_domains(self, specs: Sequence[RefSpec], where: str) -> dict[str, tuple[str, list[str]]]:
        """variable -> (dimension, codes it ranges over: those every ref using it allows)."""
        domains: dict[str, tuple[str, list[str]]] = {}
        for spec in specs:
            if not self.instrument.has_question(spec.question):
                raise RuleError(f"{where}: unknown question {spec.question!r} in {spec.text()}")
            question = self.instrument.question(spec.question)
            expected = [qd.code for qd in question.dimensions]
            given = [dim for dim, _ in spec.dimensions]
            if sorted(expected) != sorted(given):
                raise RuleError(f"{where}: {spec.text()} must name exactly the dimensions {expected}")
            for dim, codes in spec.dimensions:
                allowed = question.dimension(dim).codes
                if codes[0].startswith("$"):
                    name = codes[0][1:]
                    if name in domains and domains[name][0] != dim:
                        raise RuleError(f"{where}: variable ${name} is used for two dimensions")
                    previous = domains.get(name, (dim, list(allowed)))[1]
                    domains[name] = (dim, [code for code in previous if code in allowed])
                elif codes != ("*",):
                    unknown = [code for code in codes if code not in allowed]
                    if unknown:
                        raise RuleError(
                            f"{where}: {spec.text()} uses codes {unknown} not allowed for {dim!r}"
                        )
        for name, (dim, domain) in domains.items():
            if not domain:
                raise RuleError(f"{where}: variable ${name} ({dim}) has no code common to all its references")
        return domains

    def _slots_for(self, spec: RefSpec, binding: Mapping[str, str]) -> list[int]:
        question = self.instrument.question(spec.question)
        code_lists: list[tuple[str, ...]] = []
        for dim, codes in spec.dimensions:
            if codes == ("*",):
                code_lists.append(question.dimension(dim).component_codes)
            elif codes[0].startswith("$"):
                code_lists.append((binding[codes[0][1:]],))
            else:
                code_lists.append(codes)
        dims = [dim for dim, _ in spec.dimensions]
        return [
            self._slot(cell_key(spec.question, dict(zip(dims, combo, strict=True))))
            for combo in itertools.product(*code_lists)
        ]

    # ------------------------------------------------------------------------------------ evaluating

    def evaluate(self, values: Mapping[CellKey, Value]) -> list[Violation]:
        """All rule violations of one submission, in rule order."""
        numbers, present = self._load(values)
        violations: list[Violation] = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for compiled in self._compiled:
                violations.extend(self._evaluate_rule(compiled, numbers, present))
        return violations

    def _load(self, values: Mapping[CellKey, Value]) -> tuple[FloatArray, BoolArray]:
        """Scatter a submission into the slot table: numbers (NaN when not a number) and presence."""
        size = len(self._keys)
        slots = np.fromiter(
            map(self._slot_of.get, values.keys(), itertools.repeat(size)), np.intp, len(values)
        )
        numbers = np.full(size + 1, np.nan)  # the extra slot swallows cells no rule refers to
        present = np.zeros(size + 1, dtype=np.bool_)
        present[slots] = True
        numbers[slots] = np.fromiter(map(as_number, values.values()), np.float64, len(values))
        return numbers[:size], present[:size]

    def _evaluate_rule(
        self, compiled: _CompiledRule, numbers: FloatArray, present: BoolArray
    ) -> list[Violation]:
        rule = compiled.rule
        if rule.operator in PAIR_OPERATORS:
            left_present = self._side_presence(compiled, "left", present)
            right_present = self._side_presence(compiled, "right", present)
            if rule.operator == "compulsory_pair":
                failing = left_present != right_present
            else:
                failing = left_present & right_present
            left_values = np.where(left_present, 1.0, np.nan)
            right_values = np.where(right_present, 1.0, np.nan)
            return self._violations(compiled, failing, left_values, right_values, present, pair=True)

        atom_values: list[FloatArray] = []
        atom_missing: list[BoolArray] = []
        for atom in compiled.atoms:
            if atom.is_sum:
                block = numbers[atom.slots]
                missing_cells = np.isnan(block)
                # A sum of cells is missing only when all its cells are; missing parts count as 0.
                atom_missing.append(np.asarray(missing_cells.all(axis=1), dtype=np.bool_))
                atom_values.append(np.where(missing_cells, 0.0, block).sum(axis=1))
            else:
                single = numbers[atom.single_slots]
                atom_missing.append(np.isnan(single))
                atom_values.append(single)
        missing_matrix = np.vstack(atom_missing)
        strategy = rule.missing_value_strategy
        if strategy == "skip_if_any_value_missing":
            evaluable = ~missing_matrix.any(axis=0)
        elif strategy == "skip_if_all_values_missing":
            evaluable = ~missing_matrix.all(axis=0)
        else:
            evaluable = np.ones(compiled.instances, dtype=np.bool_)
        if not evaluable.any():
            return []
        filled = [
            np.where(missing, 0.0, values) for values, missing in zip(atom_values, atom_missing, strict=True)
        ]
        left = _as_array(compiled.left(filled), compiled.instances)
        right = _as_array(compiled.right(filled), compiled.instances)
        finite = np.isfinite(left) & np.isfinite(right)  # x/0 has no value: not a violation
        failing = evaluable & finite & ~_compare(rule.operator, left, right)
        return self._violations(compiled, failing, left, right, present, pair=False)

    def _side_presence(self, compiled: _CompiledRule, side: str, present: BoolArray) -> BoolArray:
        result = np.zeros(compiled.instances, dtype=np.bool_)
        for atom in compiled.atoms:
            if atom.side == side:
                result |= present[atom.slots].any(axis=1)
        return result

    def _violations(
        self, compiled: _CompiledRule, failing: BoolArray, left: FloatArray, right: FloatArray,
        present: BoolArray, *, pair: bool,
    ) -> list[Violation]:  # fmt: skip
        violations: list[Violation] = []
        for instance in np.flatnonzero(failing):
            fields = {name: label for name, _, label in compiled.bindings[instance]}
            left_value = None if np.isnan(left[instance]) else float(left[instance])
            right_value = None if np.isnan(right[instance]) else float(right[instance])
            fields["left"] = _format_side(left_value, pair)
            fields["right"] = _format_side(right_value, pair)
            cells: list[CellKey] = []
            for atom in compiled.atoms:
                slots = atom.slots[instance]
                # Name every single cell; of a sum, only the cells that were reported.
                cells.extend(self._keys[slot] for slot in slots if not atom.is_sum or present[slot])
            violations.append(
                Violation(
                    rule_id=compiled.rule.id,
                    importance=compiled.rule.importance,
                    message=compiled.rule.message.format_map(fields),
                    cells=tuple(dict.fromkeys(cells)),
                    left_value=None if pair else left_value,
                    right_value=None if pair else right_value,
                )
            )
        return violations

    # ---------------------------------------------------------------------------------- completeness

    def completeness(self, values: Mapping[CellKey, Value]) -> list[ModuleCompleteness]:
        """Per module: how many required cells of mandatory questions hold an answer ("--" counts)."""
        return [
            ModuleCompleteness(module, len(required), sum(1 for key in required if key in values))
            for module, required in self._required_by_module
        ]

    def completeness_violations(
        self, values: Mapping[CellKey, Value], importance: str = "medium"
    ) -> list[Violation]:
        """One violation per mandatory question that lacks required cells, naming those cells."""
        violations: list[Violation] = []
        for question in self.instrument.questions():
            missing = tuple(key for key in question.required_cells() if key not in values)
            if missing:
                shown = ", ".join(describe_cell(key) for key in missing[:5])
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                violations.append(
                    Violation(
                        rule_id=f"completeness.{question.code}",
                        importance=importance,
                        message=f"Mandatory item '{question.label}' is not answered: {shown}{more} "
                        '(enter "--" where the figure is not known).',
                        cells=missing,
                    )
                )
        return violations


def as_number(value: Value | None) -> float:
    """The value as a float for arithmetic, NaN when it is not a number (missing, "--", text)."""
    if type(value) is float or type(value) is int:  # exact types: bool and text are not numbers
        return value
    return math.nan


def _names_several_cells(spec: RefSpec) -> bool:
    return any(codes == ("*",) or len(codes) > 1 for _, codes in spec.dimensions)


def _check_multi_cell_placement(node: Node, *, inside_sum: bool, where: str) -> None:
    """A ref naming several cells (`*`, `a|b`) has one meaning only: an argument of sum()."""
    if isinstance(node, Ref):
        if _names_several_cells(node.spec) and not inside_sum:
            raise RuleError(f"{where}: {node.spec.text()} names several cells; wrap it in sum(...)")
    elif isinstance(node, Negate):
        _check_multi_cell_placement(node.operand, inside_sum=False, where=where)
    elif isinstance(node, Binary):
        _check_multi_cell_placement(node.left, inside_sum=False, where=where)
        _check_multi_cell_placement(node.right, inside_sum=False, where=where)
    elif isinstance(node, Call):
        for argument in node.arguments:
            direct_ref = isinstance(argument, Ref)
            _check_multi_cell_placement(
                argument, inside_sum=node.function == "sum" and direct_ref, where=where
            )


def _as_array(result: FloatArray, size: int) -> FloatArray:
    # A side that is a constant ("100") evaluates to a scalar; give it one element per instance.
    return result if np.ndim(result) == 1 else np.full(size, result)


def _compare(operator: str, left: FloatArray, right: FloatArray) -> BoolArray:
    tolerance = RELATIVE_TOLERANCE * np.maximum(1.0, np.maximum(np.abs(left), np.abs(right)))
    difference = left - right
    if operator == "==":
        return np.abs(difference) <= tolerance
    if operator == "!=":
        return np.abs(difference) > tolerance
    if operator == "<":
        return difference < -tolerance
    if operator == "<=":
        return difference <= tolerance
    if operator == ">":
        return difference > tolerance
    return difference >= -tolerance


def _format_side(value: float | None, pair: bool) -> str:
    if pair:
        return "reported" if value is not None else "not reported"
    return "missing" if value is None else f"{value:.6g}"


def compile_rules(instrument: Instrument, rules: Sequence[Rule]) -> CompiledRuleSet:
    """Parse and check every rule against the instrument once; raise RuleError on the first bad rule."""
    return CompiledRuleSet(instrument, rules)


def load_rule_set(instrument: Instrument, path: Path | str = REVISED_ARQ_RULES_PATH) -> CompiledRuleSet:
    return compile_rules(instrument, load_rules(path))
