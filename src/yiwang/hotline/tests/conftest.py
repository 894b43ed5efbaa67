import pytest

from yiwang.hotline.tests.factories import World, make_world


@pytest.fixture
def world(settings) -> World:
    return make_world(settings)
