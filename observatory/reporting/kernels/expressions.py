"""A small, safe arithmetic language for validation rules (tokenizer, parser, evaluators; never `eval`).

Grammar::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/" | "×" | "÷") unary)*
    unary   := ("-" | "+" | "−") unary | primary
    primary := NUMBER | ref | NAME "(" expr ("," expr)* ")" | "(" expr ")"
    ref     := "#{" question ("." dimension "=" codes)* "}"
    codes   := code ("|" code)* | "*" | "$" variable

`sum(...)` adds cells (a ref may name many cells, e.g. `drug=*` or `drug=a|b`); `min`/`max` take
single values.  `$drug` is a variable that a rule expands over the codes of the dimension `drug`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

MAX_EXPRESSION_LENGTH: Final = 10_000
MAX_NESTING: Final = 64  # deeper input is refused before Python's recursion limit is near
FUNCTIONS: Final = frozenset({"sum", "min", "max"})

FloatArray = npt.NDArray[np.float64]


class ExpressionError(ValueError):
    """Input that is not a valid expression; the message gives the position and the reason."""


class EvaluationError(ArithmeticError):
    """An expression that has no value for the given numbers (division by zero, missing cell)."""


# ------------------------------------------------------------------------------------------ tokenizer

_TOKEN_PATTERN: Final = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ref>\#\{[^{}]*\})
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>[-+*/×÷−(),])
    """,
    re.VERBOSE,
)
_OPERATOR_ALIASES: Final = {"×": "*", "÷": "/", "−": "-"}
_CODE: Final = r"[A-Za-z0-9_]+"
_REF_PART: Final = re.compile(rf"^(?P<dim>{_CODE})=(?P<codes>\*|\${_CODE}|{_CODE}(?:\|{_CODE})*)$")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number, ref, name, op, end
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN_PATTERN.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected character {text[position]!r} at position {position}")
        kind = match.lastgroup or ""
        if kind != "space":
            token_text = match.group()
            tokens.append(Token(kind, _OPERATOR_ALIASES.get(token_text, token_text), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ------------------------------------------------------------------------------------------------ AST


@dataclass(frozen=True, slots=True)
class RefSpec:
    """`#{question.dim=codes...}` as written: codes is ("*",), ("$var",) or explicit codes."""

    question: str
    dimensions: tuple[tuple[str, tuple[str, ...]], ...]
    position: int

    @property
    def variables(self) -> dict[str, str]:
        """variable name -> dimension it ranges over."""
        return {codes[0][1:]: dim for dim, codes in self.dimensions if codes[0].startswith("$")}

    def text(self) -> str:
        parts = [self.question] + [f"{dim}={'|'.join(codes)}" for dim, codes in self.dimensions]
        return "#{" + ".".join(parts) + "}"


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class Ref:
    spec: RefSpec


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    operator: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    arguments: tuple[Node, ...]


Node = Number | Ref | Negate | Binary | Call


def refs_of(node: Node) -> list[RefSpec]:
    """Every ref in the expression, left to right."""
    if isinstance(node, Ref):
        return [node.spec]
    if isinstance(node, Negate):
        return refs_of(node.operand)
    if isinstance(node, Binary):
        return refs_of(node.left) + refs_of(node.right)
    if isinstance(node, Call):
        return [spec for argument in node.arguments for spec in refs_of(argument)]
    return []


# --------------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def fail(self, reason: str, token: Token | None = None) -> ExpressionError:
        token = token or self.current
        found = "end of expression" if token.kind == "end" else repr(token.text)
        return ExpressionError(f"{reason} at position {token.position} (found {found})")

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.current.kind != "op" or self.current.text != text:
            raise self.fail(f"expected {text!r}")
        self.advance()

    def parse(self) -> Node:
        node = self.expression()
        if self.current.kind != "end":
            raise self.fail("unexpected input after a complete expression")
        return node

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"expression nests deeper than {MAX_NESTING} levels")
        node = self.term()
        while self.current.kind == "op" and self.current.text in "+-":
            operator = self.advance().text
            node = Binary(operator, node, self.term())
        self.depth -= 1
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.current.kind == "op" and self.current.text in "*/":
            operator = self.advance().text
            node = Binary(operator, node, self.unary())
        return node

    def unary(self) -> Node:
        signs = 0
        while self.current.kind == "op" and self.current.text in "+-":
            if self.advance().text == "-":
                signs += 1
            if signs > MAX_NESTING:
                raise self.fail("too many signs")
        node = self.primary()
        return Negate(node) if signs % 2 else node

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.advance()
            return Number(float(token.text))
        if token.kind == "ref":
            self.advance()
            return Ref(_parse_ref(token))
        if token.kind == "name":
            if token.text not in FUNCTIONS:
                raise self.fail(f"unknown function (use {', '.join(sorted(FUNCTIONS))})")
            self.advance()
            self.expect("(")
            arguments = [self.expression()]
            while self.current.kind == "op" and self.current.text == ",":
                self.advance()
                arguments.append(self.expression())
            self.expect(")")
            return Call(token.text, tuple(arguments))
        if token.kind == "op" and token.text == "(":
            self.advance()
            node = self.expression()
            self.expect(")")
            return node
        raise self.fail("expected a number, a #{...} reference, a function or '('")


def _parse_ref(token: Token) -> RefSpec:
    body = token.text[2:-1].strip()
    parts = [part.strip() for part in body.split(".")]
    question = parts[0]
    if not re.fullmatch(_CODE, question):
        raise ExpressionError(f"reference {token.text!r} at position {token.position}: bad question code")
    dimensions: list[tuple[str, tuple[str, ...]]] = []
    for part in parts[1:]:
        match = _REF_PART.match(part)
        if match is None:
            raise ExpressionError(
                f"reference {token.text!r} at position {token.position}: {part!r} is not dimension=code"
            )
        dim = match.group("dim")
        if any(existing == dim for existing, _ in dimensions):
            raise ExpressionError(f"reference {token.text!r} at position {token.position}: {dim!r} twice")
        dimensions.append((dim, tuple(match.group("codes").split("|"))))
    return RefSpec(question, tuple(dimensions), token.position)


def parse_expression(text: str) -> Node:
    """Parse `text` into an expression tree; raise ExpressionError with position and reason."""
    return _Parser(text).parse()


# ------------------------------------------------------------------------------------------ evaluators


def evaluate_scalar(node: Node, resolve: Callable[[RefSpec], float | None]) -> float:
    """Evaluate with Python floats; `resolve` gives a ref's number (a sum for multi-cell refs)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Ref):
        value = resolve(node.spec)
        if value is None:
            raise EvaluationError(f"no value for {node.spec.text()}")
        return value
    if isinstance(node, Negate):
        return -evaluate_scalar(node.operand, resolve)
    if isinstance(node, Binary):
        left = evaluate_scalar(node.left, resolve)
        right = evaluate_scalar(node.right, resolve)
        if node.operator == "+":
            return left + right
        if node.operator == "-":
            return left - right
        if node.operator == "*":
            return left * right
        if right == 0:
            raise EvaluationError("division by zero")
        return left / right
    arguments = [evaluate_scalar(argument, resolve) for argument in node.arguments]
    if node.function == "sum":
        total = arguments[0]
        for argument in arguments[1:]:  # left to right, exactly as the vector evaluator adds
            total += argument
        return total
    return min(arguments) if node.function == "min" else max(arguments)


def evaluate(text: str, values: Mapping[str, float]) -> float:
    """Evaluate an expression whose refs are plain names in `values` (`#{x}` -> values["x"])."""

    def resolve(spec: RefSpec) -> float | None:
        return values.get(spec.text()[2:-1])

    return evaluate_scalar(parse_expression(text), resolve)


VectorFunction = Callable[[Sequence[FloatArray]], FloatArray]


def compile_vector(node: Node, atom_index: Mapping[int, int]) -> VectorFunction:
    """Compile to a function over arrays of atom values (one array element per rule instance).

    `atom_index` maps id(RefSpec) of each ref to its position in the atom list.  Division by zero
    gives inf/nan here; the rule evaluator treats non-finite results as "cannot be evaluated".
    """
    if isinstance(node, Number):
        constant = np.float64(node.value)
        return lambda atoms: constant  # type: ignore[return-value]  # broadcasts against arrays
    if isinstance(node, Ref):
        position = atom_index[id(node.spec)]
        return lambda atoms: atoms[position]
    if isinstance(node, Negate):
        operand = compile_vector(node.operand, atom_index)
        return lambda atoms: np.negative(operand(atoms))
    if isinstance(node, Binary):
        left = compile_vector(node.left, atom_index)
        right = compile_vector(node.right, atom_index)
        ufunc = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[node.operator]
        return lambda atoms: ufunc(left(atoms), right(atoms))
    arguments = [compile_vector(argument, atom_index) for argument in node.arguments]
    if node.function == "sum":
        return lambda atoms: _reduce(np.add, arguments, atoms)
    return lambda atoms: _reduce(np.minimum if node.function == "min" else np.maximum, arguments, atoms)


def _reduce(ufunc: np.ufunc, functions: Sequence[VectorFunction], atoms: Sequence[FloatArray]) -> FloatArray:
    result = functions[0](atoms)
    for function in functions[1:]:
        result = ufunc(result, function(atoms))
    return result
