"""Hooks for domains above cases (licences), which cases must not import.

`case_concluded` is sent inside the conclusion's transaction: a receiver that raises
(say, the department's seal has expired so its licence cannot be signed) rolls the
conclusion back, and the staff member sees the reason.

`MATERIAL_SOURCES` are callables `(case) -> set of requirement ids` that a domain
registers when it can provide a required material without an upload (免证办).
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.dispatch import Signal

case_concluded = Signal()  # kwargs: case, actor


class ConclusionRefused(ValidationError):
    """A receiver of `case_concluded` cannot do its part: the conclusion rolls back, and
    `conclude` records the refusal in the audit log after the rollback."""


MATERIAL_SOURCES: list[Callable] = []


def register_material_source(source: Callable) -> None:
    if source not in MATERIAL_SOURCES:
        MATERIAL_SOURCES.append(source)
