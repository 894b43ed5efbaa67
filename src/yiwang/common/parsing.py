import re

_ID = re.compile(r"[0-9]{1,18}")


def parse_id(raw: object) -> int | None:
    """A database id from user input, or None. `str.isdigit()` is not enough: it
    accepts "²" and "٣", which int() refuses, and numbers too large for a column."""
    text = str(raw if raw is not None else "").strip()
    return int(text) if _ID.fullmatch(text) else None
