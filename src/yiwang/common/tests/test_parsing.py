import pytest

from yiwang.common.parsing import parse_id


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12", 12),
        (" 7 ", 7),
        (3, 3),
        ("0", 0),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("1.5", None),
        ("", None),
        (None, None),
        ("9" * 19, None),
    ],
)
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected
