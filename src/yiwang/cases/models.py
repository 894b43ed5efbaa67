"""Cases (办件): one application for one listing by one applicant.

The engine's serialized state on `Case.engine_state` says where the process is;
`Task` rows materialize its ready user tasks so inboxes, counts and deadline
colours read indexed tables and never the engine (DESIGN.md). Both are written
in the same transaction.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.crypto.fields import EncryptedTextField


class ListingProcess(models.Model):
    """How a listing is applied for online: its process, form and step limits."""

    listing = models.OneToOneField(
        "catalog.ServiceListing",
        on_delete=models.CASCADE,
        related_name="process_setup",
        verbose_name=_("实施清单"),
    )
    process_key = models.SlugField(
        _("流程编号"), max_length=100, help_text=_("新办件使用该流程的最新启用版本")
    )
    form_schema = models.JSONField(_("申请表(JSON Schema)"), default=dict, blank=True)
    step_days = models.JSONField(
        _("环节时限(工作日)"),
        default=dict,
        blank=True,
        help_text=_('例如 {"precheck": 1, "accept": 2};未列出的环节以办件时限为准'),
    )
    is_active = models.BooleanField(_("开放网上申请"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("网上办理配置")
        verbose_name_plural = _("网上办理配置")

    def __str__(self) -> str:
        return f"{self.listing} → {self.process_key}"


class Case(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待受理")
        CORRECTION = "correction", _("待补正")
        ACCEPTED = "accepted", _("办理中")
        DECIDED = "decided", _("已决定")
        CONCLUDED = "concluded", _("已办结")
        DELIVERED = "delivered", _("已送达")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Result(models.TextChoices):
        NONE = "", _("—")
        GRANTED = "granted", _("准予")
        DENIED = "denied", _("不予")
        REFUSED = "refused", _("不予受理")
        RETURNED = "returned", _("预审退回")

    class ApplicantKind(models.TextChoices):
        PERSON = "person", _("自然人")
        COMPANY = "company", _("法人")

    number = models.CharField(_("办件编号"), max_length=48, unique=True, null=True, blank=True)
    listing = models.ForeignKey(
        "catalog.ServiceListing",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("实施清单"),
    )
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("实施主体"),
    )
    process = models.ForeignKey(
        "workflow.ProcessDefinition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("流程版本"),
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("申请人账号"),
    )
    applicant_kind = models.CharField(_("申请人类型"), max_length=10, choices=ApplicantKind.choices)
    applicant_name = models.CharField(_("申请人"), max_length=200)
    applicant_id_number = EncryptedTextField(_("证件号码"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    result = models.CharField(
        _("办理结果"), max_length=10, choices=Result.choices, default="", blank=True
    )
    form_data = EncryptedTextField(_("申请表"), default="{}")
    # Text, not jsonb: PostgreSQL reorders jsonb keys and SpiffWorkflow's state depends on order.
    engine_state = models.TextField(_("流程状态"), null=True, blank=True)
    correction_items = models.JSONField(_("补正告知"), default=list, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    legal_basis = models.TextField(_("法律依据"), blank=True)
    decision_rule = models.CharField(_("秒批规则"), max_length=300, blank=True)
    delivery_method = models.CharField(_("送达方式"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    due_date = models.DateField(_("承诺办结日期"), null=True, blank=True)
    warn_date = models.DateField(_("预警日期"), null=True, blank=True)
    statutory_due_date = models.DateField(_("法定办结日期"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停计时起"), null=True, blank=True)
    pause_kind = models.CharField(
        _("暂停原因"),
        max_length=12,
        blank=True,
        help_text=_("correction 补正 / special 特别程序"),
    )
    paused_working_days = models.PositiveIntegerField(_("已暂停工作日"), default=0)
    escalated_on = models.DateField(_("最近督办日期"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["applicant", "-created_at"], name="case_applicant"),
            models.Index(fields=["department", "status", "due_date"], name="case_department"),
            models.Index(
                fields=["due_date"],
                condition=models.Q(status__in=["submitted", "correction", "accepted"]),
                name="case_open_due",
            ),
            # Inbox search by prefix (LIKE 'x%'); the opclass matters on PostgreSQL only.
            models.Index(
                fields=["applicant_name"],
                name="case_applicant_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["number"], name="case_number_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"草稿 #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


OPEN_STATUSES = (Case.Status.SUBMITTED, Case.Status.CORRECTION, Case.Status.ACCEPTED)


class Task(models.Model):
    """One user task of the process, materialized for inboxes (DESIGN.md)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    engine_task_id = models.CharField(_("引擎任务"), max_length=36)
    step = models.CharField(_("环节"), max_length=64)
    title = models.CharField(_("环节名称"), max_length=100)
    role = models.CharField(_("角色"), max_length=20)
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_tasks",
        verbose_name=_("办理部门"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_tasks",
        verbose_name=_("办理人"),
    )
    created_at = models.DateTimeField(_("到达时间"))
    due_date = models.DateField(_("环节时限"), null=True, blank=True)
    warn_date = models.DateField(_("预警日期"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("完成人"),
    )
    action = models.CharField(_("办理动作"), max_length=20, blank=True)
    opinion = models.TextField(_("办理意见"), blank=True)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "engine_task_id"], name="unique_case_task")
        ]
        # Inbox orders: soonest deadline first, then arrival (docs/benchmarks.md "Cases").
        indexes = [
            models.Index(
                fields=["department", "role", "due_date", "created_at", "id"],
                condition=models.Q(completed_at__isnull=True),
                name="task_open_queue",
            ),
            models.Index(
                fields=["department", "due_date", "created_at", "id"],
                condition=models.Q(completed_at__isnull=True),
                name="task_open_department",
            ),
            models.Index(
                fields=["assignee", "department", "due_date", "created_at", "id"],
                condition=models.Q(completed_at__isnull=True),
                name="task_open_assignee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.title}"

    @property
    def is_open(self) -> bool:
        return self.completed_at is None


class CaseEvent(models.Model):
    """One line of the timeline: who did what, when, with which opinion."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("办理人"),
    )
    kind = models.CharField(_("事件"), max_length=30)
    step = models.CharField(_("环节"), max_length=64, blank=True)
    public_text = models.CharField(_("申请人可见说明"), max_length=300, blank=True)
    opinion = models.TextField(_("意见"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case} {self.kind}"


class CaseFile(models.Model):
    """A material uploaded by the applicant or an attachment added by staff."""

    class Kind(models.TextChoices):
        MATERIAL = "material", _("申请材料")
        ATTACHMENT = "attachment", _("办理附件")
        RESULT = "result", _("办理结果")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    requirement = models.ForeignKey(
        "catalog.MaterialRequirement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("材料要求"),
    )
    event = models.ForeignKey(
        CaseEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="files"
    )
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/")
    filename = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    scan_result = models.CharField(_("病毒扫描"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    is_current = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("办件文件")
        verbose_name_plural = _("办件文件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename


class CaseSerial(models.Model):
    """Daily serial per listing for case numbers (实施编码 + yyyymmdd + 4 digits)."""

    listing = models.ForeignKey("catalog.ServiceListing", on_delete=models.CASCADE)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["listing", "day"], name="unique_case_serial")
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} {self.day} #{self.last}"
