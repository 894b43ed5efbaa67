"""12345 hotline tickets (工单, GB/T 33358) and the dispatch catalogue (派单目录).

A ticket's status only changes through `services.act`, which follows the explicit
table `services.TRANSITIONS`; each change is a `TicketEvent` and an audit event.
Figures the dashboard counts over a million tickets (on time, satisfied, returned)
are kept on the ticket itself when the step happens, so metrics read one table.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.common.codes import SatisfactionLevel
from yiwang.crypto.fields import EncryptedTextField


class LimitUnit(models.TextChoices):
    HOURS = "hours", _("工作小时")
    DAYS = "days", _("工作日")


class Category(models.Model):
    """One node of the category tree; leaves carry the responsible department and limits."""

    code = models.CharField(_("分类编码"), max_length=20, unique=True)
    name = models.CharField(_("分类名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级分类"),
    )
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hotline_categories",
        verbose_name=_("承办部门(派单目录)"),
    )
    sign_limit = models.DecimalField(_("签收时限"), max_digits=5, decimal_places=1, default=3.5)
    sign_unit = models.CharField(
        _("签收时限单位"), max_length=5, choices=LimitUnit.choices, default=LimitUnit.HOURS
    )
    handle_limit = models.DecimalField(_("办结时限"), max_digits=5, decimal_places=1, default=5)
    handle_unit = models.CharField(
        _("办结时限单位"), max_length=5, choices=LimitUnit.choices, default=LimitUnit.DAYS
    )
    keywords = models.CharField(
        _("检索词"), max_length=200, blank=True, help_text=_("群众的说法,以空格分隔")
    )
    description = models.CharField(_("说明"), max_length=300, blank=True)
    is_public = models.BooleanField(
        _("对外公开"), default=True, help_text=_("在门户和 Open311 接口中可选")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("工单分类")
        verbose_name_plural = _("工单分类")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def path_name(self) -> str:
        """“城市管理 / 路灯不亮或损坏”: the name an operator recognizes in a list."""
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class Area(models.Model):
    """A district or street of the city (行政区划), with its outline for maps and hot spots."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级区划"),
    )
    # GeoJSON geometry (Polygon or MultiPolygon, WGS 84 longitude/latitude).
    geometry = models.JSONField(_("边界"), default=dict, blank=True)

    class Meta:
        verbose_name = _("区划")
        verbose_name_plural = _("区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        WEB = "web", _("网站")
        APP = "app", _("移动端")
        MINI = "mini", _("小程序")
        OPEN311 = "open311", _("Open311 接口")
        INSPECTOR = "inspector", _("监督员上报")
        COMPANY_LINE = "company", _("12345 企业专线")

    class Kind(models.TextChoices):
        CONSULT = "consult", _("咨询")
        HELP = "help", _("求助")
        COMPLAINT = "complaint", _("投诉")
        REPORT = "report", _("举报")
        SUGGESTION = "suggestion", _("建议")

    class Status(models.TextChoices):
        REPORTED = "reported", _("待核实")
        VERIFIED = "verified", _("已核实")
        REGISTERED = "registered", _("待派单")
        DISPATCHED = "dispatched", _("待签收")
        SIGNED = "signed", _("处置中")
        HANDLED = "handled", _("待核查")
        CHECKED = "checked", _("待回访")
        CLOSED = "closed", _("已结案")
        REJECTED = "rejected", _("不予立案")
        MERGED = "merged", _("已合并")
        ANSWERED = "answered", _("已当场答复")

    number = models.CharField(_("工单编号"), max_length=20, unique=True)
    query_code = models.CharField(_("查询码"), max_length=6, blank=True)
    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("诉求类型"), max_length=10, choices=Kind.choices)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("分类"),
    )
    description = models.TextField(_("诉求内容"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    area = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("所属区域"),
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("反映人账号"),
    )
    is_anonymous = models.BooleanField(_("匿名"), default=False)
    reporter_name = models.CharField(_("反映人"), max_length=60, blank=True)
    reporter_phone = EncryptedTextField(_("联系电话"), blank=True)
    reporter_phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.REPORTED
    )
    lead_department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hotline_tickets",
        verbose_name=_("主办部门"),
    )
    supporting_departments = models.ManyToManyField(
        "identity.Department", blank=True, related_name="+", verbose_name=_("协办部门")
    )
    related = models.ManyToManyField("self", blank=True, verbose_name=_("关联工单"))
    repeat_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="repeats",
        verbose_name=_("重复诉求(首次工单)"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged",
        verbose_name=_("合并至"),
    )
    # Deadlines of the step the ticket is in, and when each step happened.
    dispatch_due = models.DateTimeField(_("派单期限"), null=True, blank=True)
    sign_due = models.DateTimeField(_("签收期限"), null=True, blank=True)
    handle_due = models.DateTimeField(_("办结期限"), null=True, blank=True)
    check_due = models.DateTimeField(_("核查回访期限"), null=True, blank=True)
    # The deadline of the step the ticket waits in, and when its 黄灯 turns on: inboxes
    # sort and colour by these two indexed columns.
    due_at = models.DateTimeField(_("当前环节期限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    registered_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    checked_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    # Kept when the step happens, so metrics never recompute calendars.
    signed_on_time = models.BooleanField(_("按时签收"), null=True, blank=True)
    handled_on_time = models.BooleanField(_("按时办结"), null=True, blank=True)
    result = models.TextField(_("处置结果"), blank=True)
    objections = models.PositiveSmallIntegerField(_("退单次数"), default=0)
    returns = models.PositiveSmallIntegerField(_("发回重办次数"), default=0)
    reopens = models.PositiveSmallIntegerField(_("重新办理次数"), default=0)
    postponed_days = models.DecimalField(_("已延期"), max_digits=5, decimal_places=1, default=0)
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), default=0)
    # 回访: the last follow-up's answer (None: not followed up yet).
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    solved = models.BooleanField(_("问题已解决"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("满意度"), choices=SatisfactionLevel.choices, null=True, blank=True
    )
    # What the routing model suggested when the ticket was registered (its live accuracy).
    suggested_department = models.ForeignKey(
        "identity.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("智能派单建议"),
    )
    suggestion_confidence = models.FloatField(_("建议置信度"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["lead_department", "status", "due_at"], name="ticket_dept_status_due"
            ),
            models.Index(fields=["status", "due_at"], name="ticket_status_due"),
            models.Index(fields=["status", "created_at"], name="ticket_status_created"),
            models.Index(fields=["created_at"], name="ticket_created"),
            models.Index(fields=["lead_department", "created_at"], name="ticket_dept_created"),
            # 重复诉求: the same category within 30 days (the reporting path).
            models.Index(fields=["category", "created_at"], name="ticket_category_created"),
            # Inboxes in their own order, so the first page stops after 20 rows.
            models.Index(
                fields=["lead_department", "due_at", "created_at", "id"],
                condition=models.Q(status__in=["dispatched", "signed"]),
                name="ticket_department_inbox",
            ),
            models.Index(
                fields=["due_at", "created_at", "id"],
                condition=models.Q(
                    status__in=["reported", "verified", "registered", "handled", "checked"]
                ),
                name="ticket_centre_queue",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES


CLOSED_STATUSES = (
    Ticket.Status.CLOSED,
    Ticket.Status.REJECTED,
    Ticket.Status.MERGED,
    Ticket.Status.ANSWERED,
)


class TicketEvent(models.Model):
    """One step of a ticket's closed loop, with who did it and why."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("说明"), blank=True)
    # Time since the ticket's previous event, for per-step durations.
    seconds = models.PositiveIntegerField(_("用时(秒)"), null=True, blank=True)

    class Meta:
        verbose_name = _("工单流转记录")
        verbose_name_plural = _("工单流转记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"


class TicketFile(models.Model):
    """A photo or attachment; its kind is decided from its bytes, its SHA-256 kept."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("现场照片")
        ATTACHMENT = "attachment", _("附件")
        RESULT = "result", _("处置结果照片")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="files"
    )
    file = models.FileField(_("文件"), upload_to="hotline/%Y/%m/")
    filename = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工单附件")
        verbose_name_plural = _("工单附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Postponement(models.Model):
    """延期: the lead department asks for more time; the centre's dispatcher decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已同意")
        REFUSED = "refused", _("不同意")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="postponements")
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="+"
    )
    days = models.DecimalField(_("延期工作日"), max_digits=4, decimal_places=1)
    reason = models.TextField(_("延期理由"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    old_due = models.DateTimeField(_("原办结期限"), null=True, blank=True)
    new_due = models.DateTimeField(_("新办结期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(status="pending"),
                name="one_pending_postponement",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket} +{self.days}"


class Escalation(models.Model):
    """督办: an overdue step pushed to the department lead (1), then the platform supervisor (2)."""

    class Step(models.TextChoices):
        DISPATCH = "dispatch", _("派单")
        SIGN = "sign", _("签收")
        HANDLE = "handle", _("办结")
        CHECK = "check", _("核查回访")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    step = models.CharField(_("环节"), max_length=10, choices=Step.choices)
    level = models.PositiveSmallIntegerField(_("督办级别"))
    due = models.DateTimeField(_("被督办的期限"))
    at = models.DateTimeField(_("督办时间"))
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipients = models.TextField(_("督办对象"), blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "step", "level", "due"], name="unique_escalation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket} {self.step} L{self.level}"


class FollowUp(models.Model):
    """回访: was it solved, and how satisfied is the reporter (the five 好差评 levels)."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信链接")
        WEB = "web", _("网站")
        PHONE = "phone", _("电话回访")

    class Outcome(models.TextChoices):
        CLOSED = "closed", _("结案")
        RETURNED = "returned", _("发回重办")
        NOT_REACHED = "not_reached", _("未联系上")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="follow_ups")
    at = models.DateTimeField(_("回访时间"))
    channel = models.CharField(_("回访方式"), max_length=6, choices=Channel.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回访人"),
    )
    reached = models.BooleanField(_("联系上"), default=True)
    solved = models.BooleanField(_("问题已解决"), null=True, blank=True)
    level = models.PositiveSmallIntegerField(
        _("满意度"), choices=SatisfactionLevel.choices, null=True, blank=True
    )
    comment = models.TextField(_("意见"), blank=True)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket} {self.get_outcome_display()}"


class KnowledgeArticle(models.Model):
    """知识库: answers operators read out for 咨询, so a simple question is done on the call."""

    title = models.CharField(_("标题"), max_length=120)
    question = models.TextField(_("常见问法"), blank=True)
    answer = models.TextField(_("答复口径"))
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("分类"),
    )
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提供部门"),
    )
    keywords = models.CharField(_("检索词"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("知识库条目")
        verbose_name_plural = _("知识库")
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class Call(models.Model):
    """One inbound call as the telephony system (CTI) reports it; 接通率 counts these."""

    call_id = models.CharField(_("话单编号"), max_length=64, unique=True)
    line = models.CharField(
        _("线路"),
        max_length=10,
        choices=[("citizen", _("12345 市民热线")), ("company", _("12345 企业专线"))],
        default="citizen",
    )
    caller_phone = EncryptedTextField(_("来电号码"), blank=True)
    caller_phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    started_at = models.DateTimeField(_("呼入时间"), db_index=True)
    answered_at = models.DateTimeField(_("接通时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("挂机时间"), null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )

    class Meta:
        verbose_name = _("来电记录")
        verbose_name_plural = _("来电记录")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.call_id


class RoutingModel(models.Model):
    """A trained routing suggester (docs/hotline-routing.md); the newest active one serves.

    `blob` is an .npz of the fitted numbers, not a pickle: loading it runs no code."""

    created_at = models.DateTimeField(_("训练时间"), auto_now_add=True)
    algorithm = models.CharField(_("算法"), max_length=100)
    trained_on = models.PositiveIntegerField(_("训练样本数"))
    tested_on = models.PositiveIntegerField(_("测试样本数"))
    top1 = models.FloatField(_("首选准确率"))
    top3 = models.FloatField(_("前三准确率"))
    report = models.JSONField(_("评估报告"), default=dict, blank=True)
    blob = models.BinaryField(_("模型"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("智能派单模型")
        verbose_name_plural = _("智能派单模型")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.created_at:%Y-%m-%d %H:%M}"


class TicketSerial(models.Model):
    """Per-day counter behind ticket numbers."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"
