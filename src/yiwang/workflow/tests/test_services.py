"""Uploading process definitions: validated first, versioned, audited."""

import pytest
from django.core.exceptions import ValidationError

from yiwang.audit.models import AuditEvent
from yiwang.identity.tests.factories import PlatformAdminFactory
from yiwang.workflow.engine import get_engine
from yiwang.workflow.models import ProcessDefinition
from yiwang.workflow.services import (
    ensure_shipped,
    latest,
    load,
    shipped_files,
    upload_definition,
)

pytestmark = pytest.mark.django_db


def test_each_upload_is_a_new_version_and_audited():
    admin = PlatformAdminFactory()
    files = shipped_files("default_approval")

    first = upload_definition(admin, "default_approval", "一般审批流程", files)
    second = upload_definition(admin, "default_approval", "一般审批流程(修订)", files)

    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert first.name == "一般审批流程"  # the old version is untouched
    assert second.uploaded_by == admin
    events = AuditEvent.objects.filter(action="workflow.upload_definition")
    assert events.count() == 2


def test_a_stored_version_loads_and_runs():
    definition = upload_definition(
        PlatformAdminFactory(), "parallel_review", "并联审批", shipped_files("parallel_review")
    )
    engine = get_engine()
    instance = engine.start(load(definition), {})
    assert [t.name for t in engine.ready_user_tasks(instance)] == ["accept"]


BAD_UPLOADS = {
    "invalid process": ({"p.bpmn": b"<bpmn"}, "p.bpmn"),
    "key is not the process id": (shipped_files("default_approval"), "other_key"),
    "no bpmn file": ({"p.dmn": b"<definitions/>"}, ".bpmn"),
    "unexpected file type": ({"p.bpmn": b"", "p.exe": b"MZ"}, "p.exe"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=str)
def test_bad_uploads_are_refused_and_nothing_is_written(case):
    files, named = BAD_UPLOADS[case]
    key = "other_key" if case == "key is not the process id" else "default_approval"
    with pytest.raises(ValidationError) as raised:
        upload_definition(PlatformAdminFactory(), key, "x", files)
    assert named in str(raised.value)
    assert not ProcessDefinition.objects.exists()
    assert not AuditEvent.objects.filter(action="workflow.upload_definition").exists()


def test_load_is_cached_per_stored_version():
    admin = PlatformAdminFactory()
    files = shipped_files("default_approval")
    first = upload_definition(admin, "default_approval", "一般审批流程", files)

    parsed = load(first)
    assert load(ProcessDefinition.objects.get(pk=first.pk)) is parsed

    second = upload_definition(admin, "default_approval", "一般审批流程", files)
    assert load(second) is not parsed
    assert load(second) is load(second)


def test_latest_is_the_newest_active_version():
    admin = PlatformAdminFactory()
    files = shipped_files("default_approval")
    upload_definition(admin, "default_approval", "v1", files)
    second = upload_definition(admin, "default_approval", "v2", files)
    third = upload_definition(admin, "default_approval", "v3", files)
    assert latest("default_approval") == third

    ProcessDefinition.objects.filter(pk=third.pk).update(is_active=False)
    assert latest("default_approval") == second

    with pytest.raises(ProcessDefinition.DoesNotExist, match="没有启用的版本"):
        latest("no_such_process")


def test_ensure_shipped_uploads_once_under_a_listing_key():
    admin = PlatformAdminFactory()
    stored = ensure_shipped(
        admin, "instant_approval_elderly", "elderly_allowance", process="instant_approval"
    )
    again = ensure_shipped(
        admin, "instant_approval_elderly", "elderly_allowance", process="instant_approval"
    )

    assert again == stored
    assert (stored.key, stored.process_id, stored.version) == (
        "instant_approval_elderly",
        "instant_approval",
        1,
    )
    assert stored.name == "秒批流程"
    assert "instant_decision" in stored.dmn
    engine = get_engine()
    applicant = {"applicant_age": 90, "residence_in_city": True, "receives_other_allowance": False}
    assert engine.is_completed(engine.start(load(stored), applicant))
    assert AuditEvent.objects.filter(action="workflow.upload_definition").count() == 1


def test_ensure_shipped_default_process():
    stored = ensure_shipped(PlatformAdminFactory(), "parallel_review")
    assert (stored.key, stored.process_id, stored.dmn) == ("parallel_review", "parallel_review", "")


def test_dmn_with_an_unsafe_cell_is_refused_on_upload():
    files = shipped_files("instant_approval", "elderly_allowance")
    files["elderly_allowance.dmn"] = files["elderly_allowance.dmn"].replace(
        b"&gt;= 80", b"__import__('os')"
    )
    with pytest.raises(ValidationError) as raised:
        upload_definition(
            PlatformAdminFactory(), "instant_x", "x", files, process_id="instant_approval"
        )
    assert "rule_80_plus_age" in str(raised.value)
    assert not ProcessDefinition.objects.exists()
