"""Console pages for process definitions: platform administrators only, validated
uploads that never store a refused file, versions that running cases keep."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.cases.tests import factories as f
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)
from yiwang.workflow import services
from yiwang.workflow.models import ProcessDefinition

pytestmark = pytest.mark.django_db

DEFAULT_BPMN = services.shipped_files("default_approval")["default_approval.bpmn"]
# `accept` taken out of its lane: a user task no role may do.
LANELESS_BPMN = DEFAULT_BPMN.replace(b"<bpmn:flowNodeRef>accept</bpmn:flowNodeRef>", b"", 1)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_client(client):
    client.force_login(PlatformAdminFactory())
    return client


@pytest.fixture
def v1():
    return services.upload_definition(
        PlatformAdminFactory(), "default_approval", "一般审批流程", {"p.bpmn": DEFAULT_BPMN}
    )


def upload(client, content=DEFAULT_BPMN, filename="default_approval.bpmn", **fields):
    data = {"key": "default_approval", "name": "一般审批流程(修订)", **fields}
    data["bpmn"] = SimpleUploadedFile(filename, content, content_type="application/xml")
    return client.post(reverse("console:process_upload"), data)


def test_upload_makes_a_new_version_and_running_cases_keep_theirs(admin_client, v1):
    running = f.submitted(f.listing_with_process("default_approval"))
    assert running.process == v1

    response = upload(admin_client)

    v2 = ProcessDefinition.objects.get(key="default_approval", version=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("console:process_detail", args=["default_approval", 2])
    running.refresh_from_db()
    assert running.process == v1
    assert f.submitted(f.listing_with_process("default_approval")).process == v2
    assert AuditEvent.objects.filter(action="workflow.upload_definition").count() == 2


REFUSED = {
    "does not parse": (b"<bpmn:definitions", "p.bpmn", "不是有效的 XML"),
    "user task outside any lane": (LANELESS_BPMN, "p.bpmn", "accept: 用户任务不在任何泳道中"),
    "wrong extension": (DEFAULT_BPMN, "p.xml", "扩展名为 .bpmn"),
}


@pytest.mark.parametrize("case", REFUSED, ids=str)
def test_refused_upload_shows_the_problem_next_to_the_file_and_stores_nothing(admin_client, case):
    content, filename, problem = REFUSED[case]

    response = upload(admin_client, content, filename)

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_bpmn_error"' in page
    error = page.split('id="id_bpmn_error"', 1)[1].split("</p>", 1)[0]
    assert problem in error
    assert not ProcessDefinition.objects.exists()
    assert not AuditEvent.objects.filter(action="workflow.upload_definition").exists()


def test_a_problem_in_the_dmn_names_the_decision():
    client = _client(PlatformAdminFactory())
    files = services.shipped_files("instant_approval", "elderly_allowance")
    dmn = files["elderly_allowance.dmn"].replace(b'name="instant_rule"', b'name="rule_name"')
    response = client.post(
        reverse("console:process_upload"),
        {
            "key": "instant_approval_elderly",
            "name": "秒批",
            "process_id": "instant_approval",
            "bpmn": SimpleUploadedFile("instant_approval.bpmn", files["instant_approval.bpmn"]),
            "dmn": SimpleUploadedFile("elderly_allowance.dmn", dmn),
        },
    )
    assert response.status_code == 400
    assert "instant_decision: 秒批决策表缺少输出列:instant_rule" in response.content.decode()
    assert not ProcessDefinition.objects.exists()


def test_upload_with_a_process_id_other_than_the_key(admin_client):
    files = services.shipped_files("instant_approval", "elderly_allowance")
    response = admin_client.post(
        reverse("console:process_upload"),
        {
            "key": "instant_approval_elderly",
            "name": "高龄津贴秒批",
            "process_id": "instant_approval",
            "bpmn": SimpleUploadedFile("instant_approval.bpmn", files["instant_approval.bpmn"]),
            "dmn": SimpleUploadedFile("elderly_allowance.dmn", files["elderly_allowance.dmn"]),
        },
    )
    assert response.status_code == 302
    stored = ProcessDefinition.objects.get(key="instant_approval_elderly")
    assert (stored.process_id, stored.version, bool(stored.dmn)) == ("instant_approval", 1, True)


def test_list_shows_versions_and_the_cases_on_each(admin_client, v1):
    f.submitted(f.listing_with_process("default_approval"))
    upload(admin_client)

    page = admin_client.get(reverse("console:process_list")).content.decode()

    assert "default_approval" in page
    assert "第 1 版" in page and "第 2 版" in page
    rows = {v: page.split(f">第 {v} 版</a></td>", 1)[1].split("</tr>", 1)[0] for v in (1, 2)}
    assert rows[1].count('<td class="text-right">1</td>') == 2  # one running, one in all
    assert rows[2].count('<td class="text-right">0</td>') == 2


def test_detail_lists_user_tasks_with_their_lanes_and_offers_the_files(admin_client):
    parallel = services.upload_definition(
        PlatformAdminFactory(),
        "parallel_review",
        "并联审批",
        services.shipped_files("parallel_review"),
    )
    url = reverse("console:process_detail", args=[parallel.key, parallel.version])

    page = admin_client.get(url).content.decode()

    for text in ("review_lead", "审查:lead", "review_joint", "joint", "decision", "决定"):
        assert text in page
    bpmn = admin_client.get(reverse("console:process_file", args=[parallel.key, 1, "bpmn"]))
    assert bpmn.status_code == 200
    assert bpmn["Content-Disposition"] == 'attachment; filename="parallel_review-v1.bpmn"'
    assert bpmn.content.decode() == parallel.bpmn
    no_dmn = admin_client.get(reverse("console:process_file", args=[parallel.key, 1, "dmn"]))
    assert no_dmn.status_code == 404
    assert (
        admin_client.get(reverse("console:process_file", args=["nope", 1, "bpmn"])).status_code
        == 404
    )


def test_user_steps_follow_the_file_with_roles():
    definition = services.upload_definition(
        None, "default_approval", "x", services.shipped_files("default_approval")
    )
    steps = {s.name: (s.title, s.role) for s in services.user_steps(definition)}
    assert steps == {
        "precheck": ("预审", "intake"),
        "accept": ("受理", "intake"),
        "review": ("审查", "review"),
        "decision": ("决定", "decision"),
        "correction": ("补正", "applicant"),
    }


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _activation(client, definition, active: bool):
    url = reverse("console:process_activation", args=[definition.key, definition.version])
    return client.post(url, {"active": "1" if active else "0"}, follow=True)


def test_deactivating_a_version_sends_new_cases_to_the_other_one(admin_client, v1):
    upload(admin_client)
    v2 = ProcessDefinition.objects.get(key="default_approval", version=2)

    response = _activation(admin_client, v2, active=False)

    assert "已停用该版本" in response.content.decode()
    assert services.latest("default_approval") == v1
    event = AuditEvent.objects.get(action="workflow.set_active")
    assert (event.before, event.after) == ({"is_active": True}, {"is_active": False})
    _activation(admin_client, v2, active=True)
    assert services.latest("default_approval").version == 2


@pytest.mark.parametrize("key", ["default_approval", "parallel_review"])
def test_the_last_active_version_of_a_key_in_use_cannot_be_switched_off(admin_client, key):
    definition = services.upload_definition(None, key, "x", services.shipped_files(key))
    f.ListingProcessFactory(process_key=key)  # default_approval is in use by every listing

    response = _activation(admin_client, definition, active=False)

    assert "不能停用" in response.content.decode()
    definition.refresh_from_db()
    assert definition.is_active
    assert not AuditEvent.objects.filter(action="workflow.set_active").exists()


def test_a_key_no_listing_uses_may_be_switched_off_entirely(admin_client):
    definition = services.upload_definition(
        None, "parallel_review", "x", services.shipped_files("parallel_review")
    )
    _activation(admin_client, definition, active=False)
    definition.refresh_from_db()
    assert not definition.is_active


def _urls(definition) -> dict[str, tuple[str, str]]:
    args = [definition.key, definition.version]
    return {
        "list": ("get", reverse("console:process_list")),
        "upload": ("get", reverse("console:process_upload")),
        "upload-post": ("post", reverse("console:process_upload")),
        "detail": ("get", reverse("console:process_detail", args=args)),
        "file": ("get", reverse("console:process_file", args=[*args, "bpmn"])),
        "activation": ("post", reverse("console:process_activation", args=args)),
    }


ACCOUNTS = {
    "department admin": lambda: StaffFactory(department=DepartmentFactory(), roles=["admin"]),
    "intake clerk": lambda: StaffFactory(department=DepartmentFactory(), roles=["intake"]),
    "citizen": CitizenFactory,
}


@pytest.mark.parametrize("who", ACCOUNTS, ids=str)
def test_only_platform_administrators_may_open_process_pages(who, v1):
    client = _client(ACCOUNTS[who]())
    for name, (method, url) in _urls(v1).items():
        response = getattr(client, method)(url, {"active": "0"} if name == "activation" else {})
        assert response.status_code == 403, name
    v1.refresh_from_db()
    assert v1.is_active
    assert ProcessDefinition.objects.count() == 1


def test_anonymous_visitors_are_sent_to_the_console_login(client, v1):
    for name, (method, url) in _urls(v1).items():
        response = getattr(client, method)(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("console:login"))


def test_platform_administrators_open_every_page(admin_client, v1):
    for name, (method, url) in _urls(v1).items():
        if method == "get":
            assert admin_client.get(url).status_code == 200, name


def test_navigation_shows_processes_to_platform_administrators_only(admin_client):
    assert (
        'href="/console/processes/"' in admin_client.get(reverse("console:home")).content.decode()
    )
    clerk = _client(StaffFactory(department=DepartmentFactory(), roles=["intake"]))
    assert 'href="/console/processes/"' not in clerk.get(reverse("console:home")).content.decode()


def test_admin_lists_definitions_read_only(v1):
    client = _client(PlatformAdminFactory(is_superuser=True))
    assert client.get(reverse("admin:workflow_processdefinition_changelist")).status_code == 200
    change = reverse("admin:workflow_processdefinition_change", args=[v1.pk])
    assert client.get(change).status_code == 200
    assert client.get(reverse("admin:workflow_processdefinition_add")).status_code == 403
    client.post(change, {"name": "改名", "is_active": ""})
    v1.refresh_from_db()
    assert (v1.name, v1.is_active) == ("一般审批流程", True)


@pytest.mark.parametrize("key", ["一般审批", "a b", "x" * 101, ""])
def test_the_service_refuses_a_key_that_is_not_a_slug(key):
    with pytest.raises(ValidationError) as raised:
        services.upload_definition(None, key, "x", {"p.bpmn": DEFAULT_BPMN})
    assert "key" in raised.value.message_dict
    assert not ProcessDefinition.objects.exists()
