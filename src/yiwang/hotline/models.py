"""12345 hotline tickets (工单, GB/T 33358) and the dispatch catalogue (派单目录).

A ticket's status only changes through `services.act`, which follows the explicit
table in `transitions.py`; each change is a `TicketEvent` and an audit event.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.crypto.fields import EncryptedTextField


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
    sign_hours = models.DecimalField(
        _("签收时限(工作小时)"), max_digits=5, decimal_places=1, default=3.5
    )
    handle_days = models.PositiveSmallIntegerField(_("办结时限(工作日)"), default=5)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("工单分类")
        verbose_name_plural = _("工单分类")
        ordering = ["sort_order", "code"]

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
        CHECKED = "checked", _("待结案")
        CLOSED = "closed", _("已结案")
        REJECTED = "rejected", _("不予立案")
        MERGED = "merged", _("已合并")
        ANSWERED = "answered", _("已当场答复")

    number = models.CharField(_("工单编号"), max_length=20, unique=True)
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
    sign_due = models.DateTimeField(_("签收期限"), null=True, blank=True)
    handle_due = models.DateTimeField(_("办结期限"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    result = models.TextField(_("处置结果"), blank=True)
    objections = models.PositiveSmallIntegerField(_("退单次数"), default=0)
    returns = models.PositiveSmallIntegerField(_("发回重办次数"), default=0)
    reopens = models.PositiveSmallIntegerField(_("重新办理次数"), default=0)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged",
        verbose_name=_("合并至"),
    )
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
            models.Index(fields=["lead_department", "status"], name="ticket_dept_status"),
            models.Index(fields=["status", "created_at"], name="ticket_status_created"),
        ]

    def __str__(self) -> str:
        return self.number


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

    class Meta:
        verbose_name = _("工单流转记录")
        verbose_name_plural = _("工单流转记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"


class TicketSerial(models.Model):
    """Per-day counter behind ticket numbers."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"
