"""Smart routing (智能派单): which department a ticket's text most likely belongs to.

The interface the closed loop uses; the model behind it is trained from closed tickets
by `manage.py train_routing` (docs/hotline.md "Smart routing"). Without a trained model
there are no suggestions, and the dispatcher uses the dispatch catalogue alone.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    department_id: int
    department_name: str
    confidence: float


def suggest(text: str, k: int = 3) -> list[Suggestion]:
    """The `k` likeliest departments for `text`, best first; [] without a trained model."""
    return []
