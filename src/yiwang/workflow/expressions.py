"""Restricted Python expressions for gateway conditions, DMN cells and scripts.

SpiffWorkflow evaluates conditions and DMN cells with `eval` (MACHINE.md), so an
uploaded process file could run arbitrary code. Every expression is checked
against a small grammar (no imports, lambdas, comprehensions, dunders, or calls
except to a fixed allow-list) both on upload and again before evaluation, and is
evaluated without Python's builtins.
"""

import ast
from collections.abc import Callable
from functools import lru_cache
from typing import Any

SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "sum": sum,
    "any": any,
    "all": all,
    "sorted": sorted,
}
# DMN cells are often written with FEEL's literals (true, false, null).
SAFE_CONSTANTS = {
    "True": True,
    "False": False,
    "None": None,
    "true": True,
    "false": False,
    "null": None,
}

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.Subscript,
    ast.Slice,
    ast.Attribute,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.keyword,
    ast.boolop,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
)


# Bounds that keep one expression from hanging a process or filling memory
# (9**9**9, "x" * 10**10, f"{1:>9999999999}"): no powers or shifts, small number
# constants, no repeated multiplication, no format specs.
MAX_CONSTANT = 10**6
_REFUSED_OPERATORS = (ast.Pow, ast.LShift, ast.RShift)


class UnsafeExpression(ValueError):
    """An expression uses something outside the restricted grammar."""


@lru_cache(maxsize=4096)
def check_expression(source: str) -> ast.Expression:
    """Parse `source` as one expression and refuse anything outside the grammar."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise UnsafeExpression(f"不是有效的表达式({exc.msg})") from exc
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise UnsafeExpression(f"不允许使用 {type(node).__name__}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, _REFUSED_OPERATORS):
            raise UnsafeExpression(f"不允许使用运算符 {type(node.op).__name__}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for side in (node.left, node.right):
                if isinstance(side, ast.BinOp) and isinstance(side.op, ast.Mult):
                    raise UnsafeExpression("不允许连续相乘")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and abs(node.value) > MAX_CONSTANT
        ):
            raise UnsafeExpression(f"数值常量不能超过 {MAX_CONSTANT}")
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            raise UnsafeExpression("不允许在表达式中使用格式说明")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeExpression(f"不允许使用以下划线开头的名称 {node.id}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise UnsafeExpression(f"不允许访问以下划线开头的属性 {node.attr}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in SAFE_FUNCTIONS
        ):
            allowed = "、".join(sorted(SAFE_FUNCTIONS))
            raise UnsafeExpression(f"只能调用这些函数:{allowed}")
    return tree


def evaluate(source: str, data: dict[str, Any]) -> Any:
    """Evaluate a checked expression over process data, with no builtins."""
    tree = check_expression(source)
    scope = {**data, **SAFE_CONSTANTS, **SAFE_FUNCTIONS, "__builtins__": {}}
    return eval(compile(tree, "<expression>", "eval"), scope)  # noqa: S307  checked above
