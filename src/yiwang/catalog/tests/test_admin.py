"""Admin pages for master data load, and an admin save still leaves an audit event."""

import pytest
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.catalog.tests.factories import (
    MaterialRequirementFactory,
    PowerItemFactory,
    ServiceListingFactory,
    ThemeFactory,
)
from yiwang.identity.tests.factories import PlatformAdminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(PlatformAdminFactory(is_superuser=True))
    return client


def test_admin_pages_load(superuser_client):
    listing = ServiceListingFactory()
    MaterialRequirementFactory(listing=listing)
    ThemeFactory()
    PowerItemFactory()
    for model in ("theme", "serviceitem", "servicelisting", "poweritem", "listingstatuschange"):
        url = reverse(f"admin:catalog_{model}_changelist")
        assert superuser_client.get(url).status_code == 200, model
    url = reverse("admin:catalog_servicelisting_change", args=[listing.pk])
    assert superuser_client.get(url).status_code == 200


def test_admin_save_is_audited(superuser_client):
    theme = ThemeFactory(name="旧名称")
    url = reverse("admin:catalog_theme_change", args=[theme.pk])
    data = {
        "code": theme.code,
        "name": "新名称",
        "audience": "person",
        "is_life_event": "on",
        "description": "",
        "sort_order": "1",
    }
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content
    event = AuditEvent.objects.get(action="catalog.theme.update")
    assert event.before["name"] == "旧名称" and event.after["name"] == "新名称"
