"""The evaluator every condition and DMN cell goes through at run time."""

import pytest

from yiwang.workflow.expressions import UnsafeExpression, evaluate

ALLOWED = [
    ('result == "grant"', {"result": "grant"}, True),
    ("age >= 60 and len(items) == 2", {"age": 61, "items": [1, 2]}, True),
    ("max(a, b) if a else None", {"a": 1, "b": 3}, 3),
    ('f"{n}件"', {"n": 2}, "2件"),
]
REFUSED = [
    "9 ** 9 ** 9",
    "'x' * 10000000000",
    "x * 1000 * 1000 * 1000",
    "1 << 100000",
    "f'{1:>9999999999}'",
    "__import__('os')",
    "().__class__.__bases__",
    "x._secret",
    "open('/etc/passwd')",
    "x.upper()",
    "[c for c in 'ab']",
    "(y := 1)",
    "lambda: 1",
]


@pytest.mark.parametrize("source, data, expected", ALLOWED)
def test_allowed_expressions_evaluate(source, data, expected):
    assert evaluate(source, data) == expected


@pytest.mark.parametrize("source", REFUSED)
def test_unsafe_expressions_are_refused_before_evaluation(source):
    with pytest.raises(UnsafeExpression):
        evaluate(source, {"x": "a"})


@pytest.mark.parametrize("name", ["open", "eval", "exec", "getattr", "globals"])
def test_builtins_outside_the_allow_list_are_not_there(name):
    with pytest.raises(NameError):
        evaluate(name, {})
