"""Uploading process definitions: validated first, versioned, audited."""

import pytest
from django.core.exceptions import ValidationError

from yiwang.audit.models import AuditEvent
from yiwang.identity.tests.factories import PlatformAdminFactory
from yiwang.workflow.engine import get_engine
from yiwang.workflow.models import ProcessDefinition
from yiwang.workflow.services import load, shipped_files, upload_definition

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
