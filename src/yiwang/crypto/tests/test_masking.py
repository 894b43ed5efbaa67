import pytest

from yiwang.crypto.fields import mask, mask_id_number, mask_phone


@pytest.mark.parametrize(
    "func, value, expected",
    [
        (mask_phone, "13800138000", "138****8000"),
        (mask_id_number, "11010519491231002X", "1101**********002X"),
        (mask_phone, "", ""),
        (mask_id_number, None, ""),
        (mask, "1234", "****"),
    ],
)
def test_masks(func, value, expected):
    assert func(value) == expected
