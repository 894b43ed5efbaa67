"""好差评 (STANDARDS.md "好差评 ratings"): a rating per case and the 差评整改 loop.

Department and region are copied onto the rating when it is made, so statistics
stay as they were when the citizen rated even if the case's department is later
reorganized.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.common.codes import SatisfactionLevel


class Rating(models.Model):
    Level = SatisfactionLevel

    class Channel(models.TextChoices):
        PC = "pc", _("PC端")
        MOBILE = "mobile", _("移动端")
        QR_CODE = "qr_code", _("二维码")
        HALL_TABLET = "hall_tablet", _("大厅平板")
        HALL_TERMINAL = "hall_terminal", _("大厅其他终端")
        PHONE = "phone", _("电话")
        SMS = "sms", _("短信")

    class Sequence(models.IntegerChoices):
        FIRST = 1, _("首次评价")
        SUPPLEMENT = 2, _("补充评价")

    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ratings",
        verbose_name=_("办件"),
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="ratings",
        verbose_name=_("评价人"),
    )
    level = models.PositiveSmallIntegerField(_("满意度"), choices=Level.choices)
    channel = models.CharField(_("评价渠道"), max_length=16, choices=Channel.choices)
    comment = models.TextField(_("文字评价"), blank=True)
    sequence = models.PositiveSmallIntegerField(
        _("评价次数"), choices=Sequence.choices, default=Sequence.FIRST
    )
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)
    region_code = models.CharField(_("行政区划"), max_length=12, blank=True)
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="ratings",
        verbose_name=_("被评价部门"),
    )
    is_void = models.BooleanField(_("已撤销"), default=False)
    void_reason = models.TextField(_("撤销原因"), blank=True)
    voided_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("撤销人"),
    )

    class Meta:
        verbose_name = _("好差评")
        verbose_name_plural = _("好差评")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="unique_case_rating_sequence")
        ]
        indexes = [models.Index(fields=["department", "created_at"], name="rating_department")]

    def __str__(self) -> str:
        return f"{self.case or '—'} {self.get_sequence_display()} {self.get_level_display()}"

    @property
    def is_bad(self) -> bool:
        """差评: 不满意 and 非常不满意 open a rectification."""
        return self.level >= self.Level.DISSATISFIED


class Rectification(models.Model):
    """差评整改: the department calls the rater back, fixes the problem and replies."""

    class Status(models.TextChoices):
        OPEN = "open", _("待回访")
        CALLED_BACK = "called_back", _("已回访,整改中")
        CLOSED = "closed", _("已办结")
        VOIDED = "voided", _("差评已撤销")

    rating = models.OneToOneField(
        Rating,
        on_delete=models.PROTECT,
        related_name="rectification",
        verbose_name=_("差评"),
    )
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="rectifications",
        verbose_name=_("整改部门"),
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    due_date = models.DateField(_("整改期限"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("整改责任人"),
    )
    callback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    callback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回访人"),
    )
    callback_notes = models.TextField(_("回访记录"), blank=True)
    fixed_on_spot = models.BooleanField(_("当场整改"), default=False)
    measures = models.TextField(_("整改措施"), blank=True)
    reply = models.TextField(_("答复评价人"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("办结人"),
    )

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["department", "status", "due_date"], name="rectification_queue")
        ]

    def __str__(self) -> str:
        return f"{_('差评整改')} #{self.pk} · {self.rating.case or '—'}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.CALLED_BACK)

    @property
    def closed_on_time(self) -> bool | None:
        if self.closed_at is None:
            return None
        return timezone.localdate(self.closed_at) <= self.due_date
