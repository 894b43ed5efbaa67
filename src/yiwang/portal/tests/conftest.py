import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _chinese_by_default():
    """Each test starts in the source language, whatever a previous request activated."""
    with translation.override("zh-hans"):
        yield
