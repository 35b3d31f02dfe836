"""The rule expression language: parsing, safety and arithmetic faithful to Python's."""

import contextlib
import math
import operator
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory.reporting.kernels.expressions import (
    EvaluationError,
    ExpressionError,
    evaluate,
    parse_expression,
)

_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
numbers = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


def trees(depth: int = 4):
    leaf = numbers.map(lambda n: ("num", n))
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.tuples(st.just("bin"), st.sampled_from(sorted(_OPERATORS)), children, children),
            st.tuples(st.just("neg"), children),
        ),
        max_leaves=12,
    )


def render(tree) -> str:
    if tree[0] == "num":
        return repr(tree[1])
    if tree[0] == "neg":
        return f"-({render(tree[1])})"
    return f"({render(tree[2])} {tree[1]} {render(tree[3])})"


def python_value(tree) -> float:
    if tree[0] == "num":
        return tree[1]
    if tree[0] == "neg":
        return -python_value(tree[1])
    return _OPERATORS[tree[1]](python_value(tree[2]), python_value(tree[3]))


@settings(max_examples=200, deadline=None)
@given(trees())
def test_random_arithmetic_evaluates_like_python(tree):
    text = render(tree)
    try:
        expected = python_value(tree)
    except ZeroDivisionError:
        with pytest.raises(EvaluationError, match="division by zero"):
            evaluate(text, {})
        return
    result = evaluate(text, {})
    assert (math.isnan(result) and math.isnan(expected)) or result == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+-*/()., #{}$=|abcxyz_÷×\n", max_size=40))
def test_garbage_never_crashes_only_raises_parse_or_evaluation_errors(text):
    with contextlib.suppress(ExpressionError, EvaluationError):
        evaluate(text, {"x": 1.0})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 +", "expected a number"),
        ("(1 + 2", "expected ')'"),
        ("1 2", "unexpected input after a complete expression"),
        ("__import__(1)", "unknown function"),
        ("2 ** 3", "expected a number"),
        ("#{q.drug}", "is not dimension=code"),
        ("1 ; 2", "unexpected character ';'"),
        ("(" * 100 + "1" + ")" * 100, "nests deeper"),
    ],
)
def test_invalid_input_gives_a_clear_parse_error(text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_expression(text)


def test_unicode_operators_references_and_functions():
    values = {"a": 6.0, "b": 2.0}
    assert evaluate("#{a} × 2 ÷ #{b} − 1", values) == 5.0
    assert evaluate("min(#{a}, #{b}) + max(#{a}, #{b}, 7)", values) == 9.0
    assert evaluate("sum(#{a}, #{b}, 1.5e1)", values) == 23.0
    with pytest.raises(EvaluationError, match="no value"):
        evaluate("#{missing} + 1", values)
