"""The registry of script names a process may call from a script task.

A script task's body is just a registered name (optionally followed by `()`), never
free Python: the function receives the task data and updates it in place.
"""

import re
from collections.abc import Callable
from typing import Any

ScriptFunction = Callable[[dict[str, Any]], None]

SCRIPTS: dict[str, ScriptFunction] = {}
_BODY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(\(\s*\))?\s*$")


def register_script(name: str) -> Callable[[ScriptFunction], ScriptFunction]:
    """Make `name` callable from script tasks (apps register theirs in `ready()`)."""

    def decorator(function: ScriptFunction) -> ScriptFunction:
        SCRIPTS[name] = function
        return function

    return decorator


def script_name(body: str) -> str | None:
    """The script name a task body calls, or None when the body is not a bare name."""
    match = _BODY.match(body or "")
    return match.group(1) if match else None


@register_script("instant_grant")
def instant_grant(data: dict[str, Any]) -> None:
    """秒批: record the grant the decision table made, so both paths end with `decision_result`."""
    if not data.get("instant_rule"):
        raise ValueError("秒批决策表没有给出 instant_rule,无法记录准予的依据")
    data["decision_result"] = "grant"
