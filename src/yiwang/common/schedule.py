"""Periodic jobs run by `manage.py worker` beside the task queue.

Apps register jobs in `AppConfig.ready()`. A job runs in the worker's scheduler
thread, not as a queued task, so frequent jobs (the audit sealer) do not fill
the task table.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    seconds: float
    func: Callable[[], object]


JOBS: dict[str, PeriodicJob] = {}


def every(seconds: float, name: str) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        JOBS[name] = PeriodicJob(name, seconds, func)
        return func

    return register
