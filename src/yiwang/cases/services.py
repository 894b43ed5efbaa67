"""Every change to a case: one transaction each, audited (DESIGN.md "Key mechanisms").

Completing a step locks the case row, loads the engine, completes the task, runs
to the next wait, saves the engine state, closes and opens `Task` rows, writes
the timeline, the audit event and the outbox messages: all or nothing, so the
engine state and the status can never disagree (tests/test_crash_safety.py).
"""

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from yiwang.audit.services import record, snapshot
from yiwang.calendar.overrides import current_overrides
from yiwang.cases import deadlines, formschema, materials, signals
from yiwang.cases.models import (
    Case,
    CaseEvent,
    CaseFile,
    CaseSerial,
    ListingProcess,
    Task,
)
from yiwang.cases.permissions import can_act, can_handle_case, is_department_admin
from yiwang.catalog.models import ListingStatus, MaterialRequirement, ServiceListing
from yiwang.common.files import remove_orphans
from yiwang.identity.models import Department, StaffRole, User
from yiwang.identity.permissions import has_role
from yiwang.notify.services import enqueue_notification
from yiwang.workflow import engine as wf
from yiwang.workflow import services as workflow

Status = Case.Status
Result = Case.Result

AUDIT_FIELDS = [
    "number",
    "status",
    "result",
    "due_date",
    "statutory_due_date",
    "paused_at",
    "pause_kind",
    "paused_working_days",
    "decision_reason",
    "legal_basis",
    "decision_rule",
    "delivery_method",
]

# Form properties that never go into the engine's data (it is stored unencrypted).
PERSONAL_PREFILLS = {"real_name", "id_number", "phone", "birth_date", "credit_code"}

DEFAULT_FORM = {
    "type": "object",
    "x-order": ["applicant_name", "reason"],
    "properties": {
        "applicant_name": {
            "type": "string",
            "title": "申请人",
            "x-prefill": "real_name",
            "maxLength": 200,
        },
        "reason": {
            "type": "string",
            "title": "申请事由",
            "x-widget": "textarea",
            "minLength": 2,
            "maxLength": 2000,
            "description": "简要说明办理的事由",
        },
    },
    "required": ["reason"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Action:
    """A button on a step: what it tells the engine and what it needs from the handler."""

    name: str
    label: str
    data: Mapping[str, str]
    needs: tuple[str, ...] = ()  # "opinion", "items", "decision"
    optional: bool = False  # offered only when the process branches on it


ACTIONS: dict[str, tuple[Action, ...]] = {
    "precheck": (
        Action("pass", _("预审通过"), {"precheck_result": "pass"}),
        Action("return", _("预审退回"), {"precheck_result": "return"}, ("opinion",)),
    ),
    "accept": (
        Action("accept", _("受理"), {"accept_result": "accept"}),
        Action("correct", _("一次性告知补正"), {"accept_result": "correct"}, ("items",), True),
        Action("refuse", _("不予受理"), {"accept_result": "refuse"}, ("opinion",)),
    ),
    "review": (
        Action("pass", _("审查同意"), {"review_result": "pass"}),
        Action("object", _("审查不同意"), {"review_result": "object"}, ("opinion",)),
        Action("correct", _("一次性告知补正"), {"review_result": "correct"}, ("items",), True),
    ),
    "decision": (
        Action("grant", _("准予许可"), {"decision_result": "grant"}, ("decision",)),
        Action("deny", _("不予许可"), {"decision_result": "deny"}, ("opinion", "decision")),
    ),
}
EVENT_TEXT = {
    "submitted": gettext_noop("申请已提交"),
    "resubmitted": gettext_noop("补正材料已提交"),
    "precheck.pass": gettext_noop("预审通过,等待受理"),
    "precheck.return": gettext_noop("预审未通过,申请已退回"),
    "accept.accept": gettext_noop("已受理,开始计算办理时限"),
    "accept.correct": gettext_noop("需要补正材料,请按告知一次性补齐"),
    "accept.refuse": gettext_noop("不予受理"),
    "review.pass": gettext_noop("审查完成"),
    "review.object": gettext_noop("审查完成"),
    "review.correct": gettext_noop("需要补正材料,请按告知一次性补齐(补正期间暂停计时)"),
    "decision.grant": gettext_noop("已作出准予决定"),
    "decision.deny": gettext_noop("已作出不予许可决定"),
    "instant": gettext_noop("已由秒批规则自动审批通过"),
    "concluded": gettext_noop("已办结"),
    "delivered": gettext_noop("办理结果已送达"),
    "withdrawn": gettext_noop("申请已撤回"),
    "license.issued": gettext_noop("电子证照已签发,可在“我的证照”查看、出示和下载"),
}
DELIVERY_METHODS = {
    "electronic": gettext_noop("电子送达"),
    "mail": gettext_noop("邮寄"),
    "pickup": gettext_noop("窗口领取"),
}


def step_kind(step: str) -> str:
    """`review_lead` is a review step: uploaded processes name steps by these prefixes."""
    for kind in (*ACTIONS, "correction"):
        if step == kind or step.startswith(kind + "_"):
            return kind
    return ""


@lru_cache(maxsize=256)
def _branches(process_id: int) -> frozenset[tuple[str, str]]:
    """(name, value) pairs the process's conditions compare, e.g. ("accept_result", "correct").

    Per stored version, which never changes once uploaded; `forget_branches` clears the
    cache when a version is created (test databases reuse primary keys)."""
    from yiwang.workflow.models import ProcessDefinition

    bpmn = ProcessDefinition.objects.values_list("bpmn", flat=True).get(pk=process_id)
    return frozenset(re.findall(r'(\w+)\s*==\s*["\']([\w-]+)["\']', bpmn.replace("&quot;", '"')))


def forget_branches(**kwargs: Any) -> None:
    _branches.cache_clear()


def actions_for(task: Task) -> tuple[Action, ...]:
    """Actions a step offers; optional ones only if the process branches on them.

    Inbox lists call this per row: it reads the process once per version, not per task."""
    process_id = task.case.process_id
    branches = _branches(process_id) if process_id else frozenset()
    return tuple(
        a
        for a in ACTIONS.get(step_kind(task.step), ())
        if not a.optional or all((k, v) in branches for k, v in a.data.items())
    )


# ---------------------------------------------------------------- helpers


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return timezone.localdate()


def _case_url(case: Case) -> str:
    return reverse("portal:case_detail", args=[case.pk])


def _audit(actor: Any, action: str, case: Case, before: dict | None) -> None:
    after = snapshot(case, fields=AUDIT_FIELDS)
    if before is not None:
        changed = [k for k in after if before.get(k) != after[k]]
        before = {k: before.get(k) for k in changed}
        after = {k: after[k] for k in changed}
    record(actor, action, case, before=before, after=after, department_id=case.department_id)


def _event(
    case: Case,
    actor: Any,
    kind: str,
    *,
    step: str = "",
    opinion: str = "",
    details: dict | None = None,
    public_text: str | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        at=_now(),
        actor=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        step=step,
        opinion=opinion,
        details=details or {},
        public_text=EVENT_TEXT.get(kind, "") if public_text is None else public_text,
    )


def add_event(case: Case, actor: Any, kind: str, details: dict | None = None) -> CaseEvent:
    """For domains above cases (licences) to put a step on the case's timeline."""
    return _event(case, actor, kind, details=details)


def _notify(case: Case, user: User | None, topic: str, title: str, body: str, key: str) -> None:
    if user is None:
        return
    enqueue_notification(
        user,
        topic=topic,
        title=title,
        body=body,
        url=_case_url(case) if user.pk == case.applicant_id else _console_url(case),
        dedupe_key=f"case:{case.pk}:{key}:{user.pk}",
    )


def _console_url(case: Case) -> str:
    return reverse("console:case_detail", args=[case.pk])


def _lock(case: Case | int) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("listing", "listing__process_setup", "department", "process")
        .get(pk=pk)
    )


def form_data(case: Case) -> dict[str, Any]:
    try:
        data = json.loads(case.form_data or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def setup_for(listing: ServiceListing) -> ListingProcess:
    """The listing's online setup; an online listing without one uses the default process."""
    try:
        return listing.process_setup
    except ListingProcess.DoesNotExist:
        return ListingProcess(
            listing=listing, process_key="default_approval", form_schema=DEFAULT_FORM
        )


def schema_of(listing: ServiceListing) -> dict:
    return setup_for(listing).form_schema or DEFAULT_FORM


def can_apply(listing: ServiceListing) -> bool:
    setup = setup_for(listing)
    return bool(listing.status == ListingStatus.IN_USE and listing.online and setup.is_active)


# ---------------------------------------------------------------- applicant side


def _applicant_identity(user: User) -> tuple[str, str, str]:
    if user.kind == User.Kind.COMPANY:
        return Case.ApplicantKind.COMPANY, user.company_name or user.real_name, user.credit_code
    return Case.ApplicantKind.PERSON, user.real_name or user.username, user.id_number or ""


@transaction.atomic
def create_draft(applicant: User, listing: ServiceListing, data: dict | None = None) -> Case:
    """A draft prefilled from the applicant's verified data; nothing is checked until submit."""
    if applicant.kind == User.Kind.STAFF:
        raise PermissionDenied("工作人员账号不能作为申请人提交申请")
    if not can_apply(listing):
        raise ValidationError({"listing": ["该事项暂未开通网上申请,请到窗口办理"]})
    schema = schema_of(listing)
    values = formschema.enforce_locked(
        schema, {**formschema.prefill(schema, applicant), **(data or {})}, applicant
    )
    kind, name, id_number = _applicant_identity(applicant)
    case = Case.objects.create(
        listing=listing,
        department_id=listing.department_id,
        applicant=applicant,
        applicant_kind=kind,
        applicant_name=name[:200],
        applicant_id_number=id_number,
        form_data=json.dumps(values, ensure_ascii=False),
    )
    record(applicant, "cases.create_draft", case, after=snapshot(case, fields=["status"]))
    return case


def _editable(case: Case, actor: User) -> None:
    if case.applicant_id != actor.pk:
        raise PermissionDenied("只能修改本人的申请")
    if case.status not in (Status.DRAFT, Status.CORRECTION):
        raise ValidationError(
            {"status": [f"办件当前状态为“{case.get_status_display()}”,不能修改申请内容"]}
        )


def _merge_form(case: Case, actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    return formschema.enforce_locked(
        schema_of(case.listing), {**form_data(case), **dict(data)}, actor
    )


@transaction.atomic
def save_draft(actor: User, case: Case, data: Mapping[str, Any]) -> Case:
    case = _lock(case)
    _editable(case, actor)
    case.form_data = json.dumps(_merge_form(case, actor, data), ensure_ascii=False)
    case.save(update_fields=["form_data", "updated_at"])
    record(actor, "cases.save_draft", case, after={"form": "updated"})
    return case


@transaction.atomic
def discard_draft(actor: User, case: Case) -> None:
    case = _lock(case)
    if case.applicant_id != actor.pk:
        raise PermissionDenied("只能删除本人的草稿")
    if case.status != Status.DRAFT:
        raise ValidationError({"status": ["只有草稿可以删除;已提交的申请请使用“撤回”"]})
    record(actor, "cases.discard_draft", case, before=snapshot(case, fields=["status"]))
    stored = [f.file for f in case.files.all()]
    case.delete()
    # The bytes go only once the rows are gone for good.
    transaction.on_commit(lambda: [file.delete(save=False) for file in stored])


def _store_file(
    case: Case,
    actor: User,
    upload: UploadedFile,
    kind: str,
    requirement: MaterialRequirement | None = None,
    event: CaseEvent | None = None,
) -> CaseFile:
    info = materials.inspect_upload(upload)
    upload.name = f"{info.sha256[:16]}.{info.extension}"
    return CaseFile.objects.create(
        case=case,
        kind=kind,
        requirement=requirement,
        event=event,
        file=upload,
        filename=info.name,
        content_type=info.content_type,
        size=info.size,
        sha256=info.sha256,
        scan_result=f"clean:{settings.YIWANG_VIRUS_SCANNER}",
        uploaded_by=actor,
    )


@transaction.atomic
def add_material(
    actor: User, case: Case, requirement: MaterialRequirement, upload: UploadedFile
) -> CaseFile:
    """Store one material for a requirement; a new upload replaces the current one."""
    case = _lock(case)
    _editable(case, actor)
    if requirement.listing_id != case.listing_id:
        raise ValidationError({"requirement": ["该材料不属于本事项,请按材料清单上传"]})
    stored = _store_file(case, actor, upload, CaseFile.Kind.MATERIAL, requirement)
    case.files.filter(requirement=requirement, is_current=True).exclude(pk=stored.pk).update(
        is_current=False
    )
    record(
        actor,
        "cases.add_material",
        case,
        after={"requirement": requirement.code, "sha256": stored.sha256, "size": stored.size},
    )
    return stored


@transaction.atomic
def remove_material(actor: User, case_file: CaseFile) -> None:
    case = _lock(case_file.case_id)
    _editable(case, actor)
    if case_file.kind != CaseFile.Kind.MATERIAL or not case_file.is_current:
        raise ValidationError({"file": ["该文件不能删除"]})
    case_file.is_current = False
    case_file.save(update_fields=["is_current"])
    record(actor, "cases.remove_material", case, before={"sha256": case_file.sha256})


def missing_materials(case: Case) -> list[MaterialRequirement]:
    have = set(
        case.files.filter(kind=CaseFile.Kind.MATERIAL, is_current=True).values_list(
            "requirement_id", flat=True
        )
    )
    for source in signals.MATERIAL_SOURCES:
        have |= source(case)
    return [r for r in case.listing.materials.all() if r.required and r.pk not in have]


def _check_complete(case: Case, data: dict[str, Any]) -> None:
    errors = formschema.validate_form(schema_of(case.listing), data)
    missing = missing_materials(case)
    if missing:
        errors.setdefault("materials", []).extend(f"请上传必备材料“{r.name}”" for r in missing)
    if errors:
        raise ValidationError(errors)


def _engine_data(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    schema = schema_of(case.listing)
    personal = {
        name
        for name, prop in schema.get("properties", {}).items()
        if prop.get("x-prefill") in PERSONAL_PREFILLS or prop.get("x-personal")
    }
    return {k: v for k, v in data.items() if k not in personal and k.isidentifier() and k[0] != "_"}


def _process_for(listing: ServiceListing):
    key = setup_for(listing).process_key
    try:
        return workflow.latest(key)
    except workflow.ProcessDefinition.DoesNotExist:
        never_uploaded = not workflow.ProcessDefinition.objects.filter(key=key).exists()
        if never_uploaded and (workflow.DATA_DIR / f"{key}.bpmn").exists():
            return workflow.ensure_shipped(None, key)
        raise ValidationError(
            {"listing": [f"该事项的办理流程“{key}”没有启用的版本,请联系管理员"]}
        ) from None


def _next_number(listing: ServiceListing, day: dt.date) -> str:
    """实施编码 + yyyymmdd + 4-digit daily serial (more digits past 9999)."""
    serials = CaseSerial.objects.select_for_update()
    try:
        with transaction.atomic():
            serial, _created = serials.get_or_create(listing=listing, day=day)
    except IntegrityError:  # a concurrent first submission of the day created it
        serial = serials.get(listing=listing, day=day)
    serial.last += 1
    serial.save(update_fields=["last"])
    return f"{listing.implementation_code}{day:%Y%m%d}{serial.last:04d}"


def _department_for(case: Case, lane_department: str) -> Department | None:
    if lane_department in ("", "lead"):
        return case.department
    if lane_department == "joint":
        return case.listing.co_departments.order_by("pk").first() or case.department
    if lane_department.isdigit():
        return Department.objects.filter(pk=int(lane_department)).first() or case.department
    return case.department


def _materialize(case: Case, instance: Any, actor: Any) -> list[Task]:
    """Open a Task row for each ready user task that has none; close rows no longer ready."""
    ready = wf.get_engine().ready_user_tasks(instance)
    ready_ids = {t.task_id for t in ready}
    now = _now()
    case.tasks.filter(completed_at__isnull=True).exclude(engine_task_id__in=ready_ids).update(
        completed_at=now, action="closed"
    )
    existing = set(case.tasks.values_list("engine_task_id", flat=True))
    setup = setup_for(case.listing)
    overrides = current_overrides()
    created = []
    for info in ready:
        if info.task_id in existing:
            continue
        due = warn = None
        if info.lane != "applicant":
            days = deadlines.step_days(info.name, setup.step_days)
            if days is not None:
                due, warn = deadlines.limit(_today(), days, overrides)
                if case.due_date and due > case.due_date:
                    due, warn = case.due_date, case.warn_date
            elif case.due_date:
                due, warn = case.due_date, case.warn_date
        created.append(
            Task(
                case=case,
                engine_task_id=info.task_id,
                step=info.name,
                title=info.title[:100],
                role=info.lane,
                department=None
                if info.lane == "applicant"
                else _department_for(case, info.department),
                assignee=case.applicant if info.lane == "applicant" else None,
                created_at=now,
                due_date=due,
                warn_date=warn,
            )
        )
    Task.objects.bulk_create(created)
    return created


def _apply_engine_outcome(case: Case, instance: Any) -> None:
    """Status and result follow the engine: the one place that maps one onto the other."""
    engine = wf.get_engine()
    if engine.is_completed(instance):
        data = instance_data(instance)
        decision = data.get("decision_result")
        now = _now()
        if decision in ("grant", "deny"):
            case.result = Result.GRANTED if decision == "grant" else Result.DENIED
            case.status = Status.DECIDED
            case.decided_at = now
        elif data.get("precheck_result") == "return":
            case.result, case.status, case.concluded_at = Result.RETURNED, Status.CONCLUDED, now
        else:
            case.result, case.status, case.concluded_at = Result.REFUSED, Status.CONCLUDED, now
        case.paused_at = None
        return
    lanes = {t.lane for t in engine.ready_user_tasks(instance)}
    if "applicant" in lanes:
        case.status = Status.CORRECTION
    elif case.accepted_at:
        case.status = Status.ACCEPTED
    else:
        case.status = Status.SUBMITTED


def instance_data(instance: Any) -> dict[str, Any]:
    """The process data once the process has ended."""
    return wf.get_engine().process_data(instance)


def _start_clock(case: Case) -> None:
    today = _today()
    overrides = current_overrides()
    case.accepted_at = _now()
    case.due_date, case.warn_date = deadlines.limit(today, case.listing.committed_days, overrides)
    case.statutory_due_date = deadlines.limit(today, case.listing.statutory_days, overrides)[0]


def _resume_clock(case: Case) -> None:
    if case.paused_at is None:
        return
    overrides = current_overrides()
    lost = deadlines.paused_days(timezone.localdate(case.paused_at), _today(), overrides)
    case.due_date = deadlines.extend(case.due_date, lost, overrides)
    case.warn_date = deadlines.extend(case.warn_date, lost, overrides)
    case.statutory_due_date = deadlines.extend(case.statutory_due_date, lost, overrides)
    case.paused_working_days += lost
    case.paused_at, case.pause_kind = None, ""
    for task in case.tasks.filter(completed_at__isnull=True, due_date__isnull=False):
        task.due_date = deadlines.extend(task.due_date, lost, overrides)
        task.warn_date = deadlines.extend(task.warn_date, lost, overrides)
        task.save(update_fields=["due_date", "warn_date"])


def _save_engine(case: Case, instance: Any) -> None:
    case.engine_state = json.dumps(wf.get_engine().serialize(instance), ensure_ascii=False)


def _load_instance(case: Case) -> Any:
    definition = workflow.load(case.process)
    return wf.get_engine().deserialize(definition, json.loads(case.engine_state))


@transaction.atomic
def submit(actor: User, case: Case) -> Case:
    """Check the form and materials, number the case and start its process.

    A listing whose process decides by rules (秒批) is decided here, with the
    rule that decided it on the record, and no human step.
    """
    case = _lock(case)
    if case.applicant_id != actor.pk:
        raise PermissionDenied("只能提交本人的申请")
    if case.status != Status.DRAFT:
        raise ValidationError({"status": [f"该申请已提交(办件编号 {case.number}),不能重复提交"]})
    if not can_apply(case.listing):
        raise ValidationError({"listing": ["该事项暂未开通网上申请,请到窗口办理"]})
    if case.applicant_kind == Case.ApplicantKind.PERSON and not actor.is_real_name_verified:
        raise ValidationError({"applicant": ["请先完成实名认证再提交申请"]})
    data = _merge_form(case, actor, {})
    _check_complete(case, data)
    before = snapshot(case, fields=AUDIT_FIELDS)
    case.process = _process_for(case.listing)
    try:
        instance = wf.get_engine().start(workflow.load(case.process), _engine_data(case, data))
    except wf.WorkflowError as exc:
        raise ValidationError({"process": [f"办理流程无法启动:{exc}"]}) from exc
    case.submitted_at = _now()
    case.form_data = json.dumps(data, ensure_ascii=False)
    outcome = instance_data(instance) if wf.get_engine().is_completed(instance) else {}
    instant = outcome.get("instant_result") == "grant"
    if instant:
        case.accepted_at = case.submitted_at
        case.due_date = case.warn_date = case.statutory_due_date = _today()
    _apply_engine_outcome(case, instance)
    _save_engine(case, instance)
    case.number = _next_number(case.listing, _today())
    case.save()
    _materialize(case, instance, actor)
    _event(case, actor, "submitted", details={"number": case.number})
    _notify(
        case,
        case.applicant,
        "case.submitted",
        f"申请已提交:{case.listing.name}",
        f"办件编号 {case.number},可在“我的办件”查看进度。",
        "submitted",
    )
    if instant:
        case.decision_rule = str(outcome.get("instant_rule"))[:300]
        case.status, case.concluded_at = Status.CONCLUDED, case.decided_at
        case.save()
        _event(case, None, "instant", details={"rule": case.decision_rule})
        signals.case_concluded.send(sender=Case, case=case, actor=None)
        _notify(
            case,
            case.applicant,
            "case.decided",
            f"审批通过:{case.listing.name}",
            f"办件 {case.number} 已由秒批规则自动审批通过({case.decision_rule})。",
            "decided",
        )
    _audit(actor, "cases.submit", case, before)
    return case


@transaction.atomic
def resubmit(actor: User, case: Case, data: Mapping[str, Any] | None = None) -> Case:
    """The applicant's 补正: everything asked for at once, then the process goes on."""
    case = _lock(case)
    if case.applicant_id != actor.pk:
        raise PermissionDenied("只能补正本人的申请")
    if case.status != Status.CORRECTION:
        raise ValidationError({"status": ["该办件当前不需要补正"]})
    values = _merge_form(case, actor, data or {})
    _check_complete(case, values)
    task = case.tasks.filter(completed_at__isnull=True, role="applicant").first()
    if task is None:
        raise ValidationError({"status": ["该办件当前不需要补正"]})
    before = snapshot(case, fields=AUDIT_FIELDS)
    instance = _load_instance(case)
    try:
        wf.get_engine().complete(instance, task.engine_task_id, _engine_data(case, values))
    except wf.WorkflowError as exc:
        raise ValidationError({"process": [f"补正无法提交:{exc}"]}) from exc
    _close(task, actor, "resubmit", "")
    case.form_data = json.dumps(values, ensure_ascii=False)
    case.correction_items = []
    _resume_clock(case)
    _apply_engine_outcome(case, instance)
    _save_engine(case, instance)
    case.save()
    _materialize(case, instance, actor)
    _event(case, actor, "resubmitted")
    _audit(actor, "cases.resubmit", case, before)
    return case


@transaction.atomic
def withdraw(actor: User, case: Case, reason: str = "") -> Case:
    """The applicant takes back an application that is not yet decided."""
    case = _lock(case)
    if case.applicant_id != actor.pk:
        raise PermissionDenied("只能撤回本人的申请")
    if case.status not in (Status.SUBMITTED, Status.CORRECTION, Status.ACCEPTED):
        raise ValidationError({"status": [f"办件当前状态为“{case.get_status_display()}”,不能撤回"]})
    before = snapshot(case, fields=AUDIT_FIELDS)
    case.tasks.filter(completed_at__isnull=True).update(
        completed_at=_now(), completed_by=actor, action="withdrawn"
    )
    case.status, case.withdrawn_at, case.paused_at = Status.WITHDRAWN, _now(), None
    case.save()
    _event(case, actor, "withdrawn", opinion=reason[:2000])
    _audit(actor, "cases.withdraw", case, before)
    return case


# ---------------------------------------------------------------- staff side


def _close(task: Task, actor: Any, action: str, opinion: str) -> None:
    task.completed_at = _now()
    task.completed_by = actor if getattr(actor, "pk", None) else None
    task.action = action
    task.opinion = opinion
    task.save(update_fields=["completed_at", "completed_by", "action", "opinion"])


def _lock_task(task: Task | int) -> tuple[Case, Task]:
    pk = task.pk if isinstance(task, Task) else task
    case_id = Task.objects.values_list("case_id", flat=True).get(pk=pk)
    case = _lock(case_id)
    return case, Task.objects.select_related("case").get(pk=pk)


def _clean_items(items: Iterable[Mapping[str, Any]] | None, case: Case) -> list[dict[str, str]]:
    codes = {r.code: r.name for r in case.listing.materials.all()}
    cleaned = []
    for item in items or []:
        if not isinstance(item, Mapping):
            raise ValidationError({"items": ["补正事项格式不正确"]})
        reason = str(item.get("reason", "")).strip()
        material = str(item.get("material", "") or "").strip()
        field = str(item.get("field", "") or "").strip()
        if material and material not in codes:
            raise ValidationError({"items": [f"材料编码 {material} 不属于本事项"]})
        if not reason:
            raise ValidationError({"items": ["每一项补正都要写明需要补正的内容和原因"]})
        cleaned.append(
            {
                "material": material,
                "material_name": codes.get(material, ""),
                "field": field,
                "reason": reason[:500],
            }
        )
    if not cleaned:
        raise ValidationError({"items": ["请一次性列出所有需要补正的内容(至少一项)"]})
    return cleaned


@transaction.atomic
def act(
    actor: User,
    task: Task | int,
    action: str,
    *,
    opinion: str = "",
    items: Iterable[Mapping[str, Any]] | None = None,
    legal_basis: str = "",
    attachments: Iterable[UploadedFile] = (),
) -> Case:
    """Do one step of a case: accept, refuse, request correction, review, decide."""
    case, task = _lock_task(task)
    if not task.is_open:
        raise ValidationError({"task": ["该环节已办理,请刷新后查看最新状态"]})
    if not can_act(actor, task):
        if (
            task.assignee_id
            and task.assignee_id != actor.pk
            and has_role(actor, task.department_id, task.role)
        ):
            raise PermissionDenied(f"该环节已由 {task.assignee} 认领,只有认领人可以办理")
        raise PermissionDenied(f"您没有“{task.title}”环节的办理权限")
    offered = {a.name: a for a in actions_for(task)}
    if action not in offered:
        names = "、".join(f"{a.name}({a.label})" for a in offered.values())
        raise ValidationError({"action": [f"“{task.title}”环节不能执行 {action!r},可选:{names}"]})
    chosen = offered[action]
    opinion = (opinion or "").strip()[:4000]
    if "opinion" in chosen.needs and not opinion:
        raise ValidationError({"opinion": [f"“{chosen.label}”必须填写理由"]})
    if "decision" in chosen.needs and not (legal_basis or "").strip():
        raise ValidationError({"legal_basis": ["作出决定必须写明法律依据"]})
    cleaned_items = _clean_items(items, case) if "items" in chosen.needs else []
    kind = step_kind(task.step)
    before = snapshot(case, fields=AUDIT_FIELDS)
    data = dict(chosen.data)
    if action == "correct":
        data["correction_from"] = kind
    instance = _load_instance(case)
    try:
        wf.get_engine().complete(instance, task.engine_task_id, data)
    except wf.TransitionNotAllowed as exc:
        raise ValidationError({"task": [str(exc)]}) from exc
    except wf.WorkflowError as exc:
        raise ValidationError({"action": [f"流程无法继续:{exc}"]}) from exc
    _close(task, actor, action, opinion)
    if kind == "accept" and action == "accept":
        _start_clock(case)
    if action == "correct":
        case.correction_items = cleaned_items
        if case.accepted_at and case.paused_at is None:
            case.paused_at, case.pause_kind = _now(), "correction"
    if kind == "decision":
        case.decision_reason = opinion
        case.legal_basis = legal_basis.strip()[:4000]
    _apply_engine_outcome(case, instance)
    _save_engine(case, instance)
    case.save()
    _materialize(case, instance, actor)
    event_kind = f"{kind}.{action}"
    event = _event(
        case,
        actor,
        event_kind,
        step=task.step,
        opinion=opinion,
        details={
            "items": cleaned_items,
            "legal_basis": case.legal_basis if kind == "decision" else "",
        },
        public_text=_public_text(event_kind, opinion),
    )
    for upload in attachments:
        _store_file(case, actor, upload, CaseFile.Kind.ATTACHMENT, event=event)
    _notify_step(case, event_kind, event.pk)
    _audit(actor, f"cases.{event_kind}", case, before)
    return case


def _public_text(event_kind: str, opinion: str) -> str:
    text = EVENT_TEXT.get(event_kind, "")
    if event_kind in ("accept.refuse", "precheck.return", "decision.deny") and opinion:
        text = f"{text}:{opinion}"[:300]
    return text


def _notify_step(case: Case, event_kind: str, event_id: int) -> None:
    messages = {
        "accept.accept": ("case.accepted", "申请已受理", f"承诺办结日期 {case.due_date}。"),
        "accept.correct": (
            "case.correction",
            "需要补正",
            "请在“我的办件”中查看补正告知并一次性补齐。",
        ),
        "review.correct": (
            "case.correction",
            "需要补正",
            "请在“我的办件”中查看补正告知并一次性补齐。",
        ),
        "accept.refuse": ("case.decided", "不予受理", "请在“我的办件”中查看理由。"),
        "precheck.return": ("case.decided", "预审退回", "请在“我的办件”中查看理由。"),
        "decision.grant": ("case.decided", "审批通过", "请在“我的办件”中查看办理结果。"),
        "decision.deny": ("case.decided", "审批未通过", "请在“我的办件”中查看理由。"),
    }
    if event_kind not in messages:
        return
    topic, title, body = messages[event_kind]
    key = f"{event_kind}:{event_id}"
    _notify(
        case,
        case.applicant,
        topic,
        f"{title}:{case.listing.name}",
        f"办件 {case.number}。{body}",
        key,
    )


CONCLUDE_ROLES = (StaffRole.Role.INTAKE, StaffRole.Role.DECISION)


def conclude(
    actor: User, case: Case, note: str = "", result_file: UploadedFile | None = None
) -> Case:
    """办结: the decision is issued (result document attached) and the case closes."""
    try:
        return _conclude(actor, case, note, result_file)
    except signals.ConclusionRefused as exc:
        # After the rollback; kept unless a caller's own transaction rolls back too.
        with transaction.atomic():
            record(
                actor,
                "cases.conclude_refused",
                case,
                after={"reason": "; ".join(exc.messages)[:1000]},
            )
        raise


@transaction.atomic
def _conclude(actor: User, case: Case, note: str, result_file: UploadedFile | None) -> Case:
    case = _lock(case)
    if not can_handle_case(actor, case, CONCLUDE_ROLES):
        raise PermissionDenied("只有本部门受理或决定岗位可以办结")
    if case.status != Status.DECIDED:
        raise ValidationError(
            {"status": [f"办件当前状态为“{case.get_status_display()}”,只有已决定的办件可以办结"]}
        )
    before = snapshot(case, fields=AUDIT_FIELDS)
    case.status, case.concluded_at = Status.CONCLUDED, _now()
    case.save()
    event = _event(case, actor, "concluded", opinion=note.strip()[:2000])
    if result_file is not None:
        _store_file(case, actor, result_file, CaseFile.Kind.RESULT, event=event)
    signals.case_concluded.send(sender=Case, case=case, actor=actor)
    _notify(
        case,
        case.applicant,
        "case.concluded",
        f"已办结:{case.listing.name}",
        f"办件 {case.number} 已办结,欢迎对本次服务作出评价。",
        "concluded",
    )
    _audit(actor, "cases.conclude", case, before)
    return case


@transaction.atomic
def deliver(actor: User, case: Case, method: str, note: str = "") -> Case:
    case = _lock(case)
    if not can_handle_case(actor, case, (StaffRole.Role.INTAKE,)):
        raise PermissionDenied("只有本部门受理岗位可以登记送达")
    if method not in DELIVERY_METHODS:
        raise ValidationError({"method": [f"送达方式应为:{'、'.join(DELIVERY_METHODS.values())}"]})
    if case.status != Status.CONCLUDED:
        raise ValidationError({"status": ["只有已办结的办件可以送达"]})
    before = snapshot(case, fields=AUDIT_FIELDS)
    case.status, case.delivered_at, case.delivery_method = Status.DELIVERED, _now(), method
    case.save()
    _event(
        case,
        actor,
        "delivered",
        opinion=note.strip()[:2000],
        public_text=f"办理结果已送达({DELIVERY_METHODS[method]})",
    )
    _audit(actor, "cases.deliver", case, before)
    return case


SPECIAL_PROCEDURES = {
    "hearing": gettext_noop("听证"),
    "inspection": gettext_noop("检验、检测、检疫"),
    "appraisal": gettext_noop("鉴定"),
    "expert_review": gettext_noop("专家评审"),
    "publicity": gettext_noop("公示"),
}
SPECIAL_ROLES = (StaffRole.Role.REVIEW, StaffRole.Role.DECISION)


@transaction.atomic
def start_special_procedure(actor: User, case: Case, kind: str, reason: str) -> Case:
    """特别程序 (hearing, testing, expert review...): the time it takes is not counted."""
    case = _lock(case)
    if not can_handle_case(actor, case, SPECIAL_ROLES):
        raise PermissionDenied("只有本部门审查或决定岗位可以启动特别程序")
    if case.status != Status.ACCEPTED or case.paused_at is not None:
        raise ValidationError({"status": ["只有办理中且正在计时的办件可以启动特别程序"]})
    if kind not in SPECIAL_PROCEDURES:
        names = "、".join(f"{k}({v})" for k, v in SPECIAL_PROCEDURES.items())
        raise ValidationError({"kind": [f"特别程序类型应为:{names}"]})
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise ValidationError({"reason": ["请写明启动特别程序的原因和依据"]})
    before = snapshot(case, fields=AUDIT_FIELDS)
    case.paused_at, case.pause_kind = _now(), "special"
    case.save()
    label = SPECIAL_PROCEDURES[kind]
    event = _event(
        case,
        actor,
        "special.started",
        opinion=reason,
        details={"kind": kind},
        public_text=f"进入特别程序({label}),所需时间不计入办理时限",
    )
    _notify(
        case,
        case.applicant,
        "case.special_procedure",
        f"进入特别程序:{case.listing.name}",
        f"办件 {case.number} 需要{label},期间暂停计算办理时限。",
        f"special:{event.pk}",
    )
    _audit(actor, "cases.start_special_procedure", case, before)
    return case


@transaction.atomic
def end_special_procedure(actor: User, case: Case, note: str = "") -> Case:
    case = _lock(case)
    if not can_handle_case(actor, case, SPECIAL_ROLES):
        raise PermissionDenied("只有本部门审查或决定岗位可以结束特别程序")
    if case.pause_kind != "special":
        raise ValidationError({"status": ["该办件没有正在进行的特别程序"]})
    before = snapshot(case, fields=AUDIT_FIELDS)
    _resume_clock(case)
    case.save()
    _event(
        case,
        actor,
        "special.ended",
        opinion=(note or "").strip()[:2000],
        public_text=f"特别程序结束,恢复计时,承诺办结日期顺延至 {case.due_date}",
    )
    _audit(actor, "cases.end_special_procedure", case, before)
    return case


@transaction.atomic
def claim(actor: User, task: Task | int) -> Task:
    case, task = _lock_task(task)
    if not task.is_open or task.role == "applicant":
        raise ValidationError({"task": ["该环节不能认领"]})
    if not has_role(actor, task.department_id, task.role):
        raise PermissionDenied(f"您没有“{task.title}”环节的办理权限")
    if task.assignee_id and task.assignee_id != actor.pk:
        raise ValidationError({"task": [f"该环节已由 {task.assignee} 认领"]})
    task.assignee = actor
    task.save(update_fields=["assignee"])
    _event(case, actor, "claimed", step=task.step, public_text="")
    record(
        actor, "cases.claim", task, after={"assignee": actor.pk}, department_id=task.department_id
    )
    return task


@transaction.atomic
def unclaim(actor: User, task: Task | int) -> Task:
    case, task = _lock_task(task)
    if not task.is_open or task.assignee_id is None:
        raise ValidationError({"task": ["该环节没有被认领"]})
    if task.assignee_id != actor.pk and not is_department_admin(actor, task.department_id):
        raise PermissionDenied("只有认领人或部门管理员可以取消认领")
    before = {"assignee": task.assignee_id}
    task.assignee = None
    task.save(update_fields=["assignee"])
    _event(case, actor, "unclaimed", step=task.step, public_text="")
    record(
        actor,
        "cases.unclaim",
        task,
        before=before,
        after={"assignee": None},
        department_id=task.department_id,
    )
    return task


@transaction.atomic
def transfer(actor: User, task: Task | int, to_user: User, note: str = "") -> Task:
    """Hand a step to a colleague holding the same role in the same department."""
    case, task = _lock_task(task)
    if not task.is_open or task.role == "applicant":
        raise ValidationError({"task": ["该环节不能转办"]})
    may_hand_over = (
        task.assignee_id == actor.pk
        or is_department_admin(actor, task.department_id)
        or (task.assignee_id is None and has_role(actor, task.department_id, task.role))
    )
    if not may_hand_over:
        raise PermissionDenied("只有认领人、本岗位人员或部门管理员可以转办")
    if not has_role(to_user, task.department_id, task.role):
        raise ValidationError({"to_user": [f"{to_user} 在该部门没有“{task.title}”环节的岗位"]})
    before = {"assignee": task.assignee_id}
    task.assignee = to_user
    task.save(update_fields=["assignee"])
    _event(
        case,
        actor,
        "transferred",
        step=task.step,
        opinion=note.strip()[:2000],
        details={"to": to_user.pk, "to_name": str(to_user)},
        public_text="",
    )
    record(
        actor,
        "cases.transfer",
        task,
        before=before,
        after={"assignee": to_user.pk},
        department_id=task.department_id,
    )
    return task


def escalate_overdue(today: dt.date | None = None) -> int:
    """督办: once a day, each overdue open case is reported to its department's lead."""
    today = today or _today()
    ids = list(
        Case.objects.filter(
            status__in=(Status.SUBMITTED, Status.ACCEPTED),
            due_date__lt=today,
            paused_at__isnull=True,
        )
        .exclude(escalated_on__gte=today)
        .values_list("pk", flat=True)[:1000]
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            case = _lock(pk)
            if case.escalated_on and case.escalated_on >= today:
                continue
            before = snapshot(case, fields=["escalated_on"])
            case.escalated_on = today
            case.save(update_fields=["escalated_on", "updated_at"])
            days = (today - case.due_date).days
            _event(
                case,
                None,
                "escalated",
                details={"overdue_since": str(case.due_date)},
                public_text="",
            )
            for user in _leads(case.department):
                _notify(
                    case,
                    user,
                    "case.overdue",
                    f"办件超期督办:{case.number}",
                    f"{case.listing.name} 已超过承诺办结日期 {case.due_date}"
                    f"({days} 天),请督促办理。",
                    f"overdue:{today}",
                )
            record(
                None,
                "cases.escalate",
                case,
                before=before,
                after=snapshot(case, fields=["escalated_on"]),
                department_id=case.department_id,
            )
            done += 1
    return done


def _leads(department: Department) -> list[User]:
    users = {
        u.pk: u
        for u in User.objects.filter(
            staff_roles__department=department, staff_roles__role=StaffRole.Role.ADMIN
        )
    }
    if department.lead_id:
        users[department.lead_id] = department.lead
    return list(users.values())


def consistency_problems(case: Case) -> list[str]:
    """Where the stored status or open steps disagree with the engine state (empty if none)."""
    if case.engine_state is None:
        return [] if case.status == Status.DRAFT else ["已提交的办件没有流程状态"]
    instance = _load_instance(case)
    problems = []
    ready = {t.task_id for t in wf.get_engine().ready_user_tasks(instance)}
    open_rows = set(
        case.tasks.filter(completed_at__isnull=True).values_list("engine_task_id", flat=True)
    )
    if case.status != Status.WITHDRAWN and ready != open_rows:
        problems.append(f"待办环节与流程不一致:流程 {sorted(ready)},待办 {sorted(open_rows)}")
    if case.status in (Status.SUBMITTED, Status.CORRECTION, Status.ACCEPTED):
        expected = Case(accepted_at=case.accepted_at)
        _apply_engine_outcome(expected, instance)
        if expected.status != case.status:
            problems.append(f"状态为 {case.status},流程表明应为 {expected.status}")
    return problems


@transaction.atomic
def configure_listing(
    actor: User,
    listing: ServiceListing,
    *,
    process_key: str,
    form_schema: dict,
    step_days: Mapping[str, int] | None = None,
    is_active: bool = True,
) -> ListingProcess:
    """Set how a listing is applied for online; refused whole if any part is unusable."""
    from yiwang.workflow.models import ProcessDefinition

    errors: dict[str, list[str]] = {}
    if not ProcessDefinition.objects.filter(key=process_key, is_active=True).exists():
        errors["process_key"] = [f"流程“{process_key}”没有启用的版本,请先上传流程定义"]
    problems = formschema.check_schema(form_schema) if isinstance(form_schema, dict) else None
    if problems is None:
        errors["form_schema"] = ["申请表必须是 JSON 对象"]
    elif problems:
        errors["form_schema"] = problems
    steps = dict(step_days or {})
    bad = [
        k
        for k, v in steps.items()
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int) or v < 0
    ]
    known = set()
    if "process_key" not in errors:
        known = {step.name for step in workflow.user_steps(workflow.latest(process_key))}
    unknown = [k for k in steps if k not in known] if known else []
    if bad:
        errors["step_days"] = [f"环节时限必须是非负整数(工作日):{'、'.join(map(str, bad))}"]
    elif unknown:
        errors["step_days"] = [
            f"流程中没有这些环节:{'、'.join(map(str, unknown))};可用:{'、'.join(sorted(known))}"
        ]
    elif sum(steps.values()) > listing.statutory_days and listing.statutory_days:
        errors["step_days"] = ["各环节时限之和超过了法定办结时限"]
    if errors:
        raise ValidationError(errors)
    setup, created = ListingProcess.objects.select_for_update().get_or_create(
        listing=listing,
        defaults={"process_key": process_key, "form_schema": form_schema, "step_days": steps},
    )
    before = None if created else snapshot(setup)
    setup.process_key, setup.form_schema = process_key, form_schema
    setup.step_days, setup.is_active = steps, is_active
    setup.save()
    record(
        actor,
        "cases.configure_listing",
        setup,
        before=before,
        after=snapshot(setup),
        department_id=listing.department_id,
    )
    return setup


def remove_orphan_files(older_than: dt.timedelta = dt.timedelta(hours=6)) -> int:
    """Stored bytes that no CaseFile row names (a rolled-back upload) go after six hours."""
    known = set(CaseFile.objects.values_list("file", flat=True))
    return remove_orphans("cases", known, older_than)
