"""gmssl (pure Python, the independent SM2 cross-check) crashes with a TypeError in its
point arithmetic for a few random scalars. A fresh signature (fresh random k) gets an
answer; only gmssl's answers count, never its crashes."""

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def answer(call: Callable[[], T], attempts: int = 8) -> T:
    for _ in range(attempts):
        try:
            return call()
        except TypeError:
            continue
    raise AssertionError(f"gmssl crashed on all {attempts} attempts")
