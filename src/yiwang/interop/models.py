"""Open311 GeoReport v2 (docs/open311.md): client keys, service attributes, and what each
client submitted.

A client app's key is never stored: only its keyed hash (HMAC-SM3, blind-index key) and
its first characters, so a leaked database does not leak working keys. Tickets stay in
the hotline domain; `Open311Request` only holds what GeoReport carries beyond a ticket.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.crypto.fields import EncryptedTextField

ATTRIBUTE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,50}")


class Open311Client(models.Model):
    """A client app allowed to POST service requests; administrators issue and revoke it."""

    name = models.CharField(_("客户端名称"), max_length=100)
    contact = EncryptedTextField(_("联系人及联系方式"), blank=True)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("密钥开头"), max_length=8, editable=False)
    rate_per_minute = models.PositiveIntegerField(
        _("每分钟上报上限"), null=True, blank=True, help_text=_("留空:使用系统默认值")
    )
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签发人"),
    )
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("吊销人"),
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 客户端密钥")
        verbose_name_plural = _("Open311 客户端密钥")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class Open311Attribute(models.Model):
    """One extra question of a service (GeoReport "service definition"), e.g. 路灯 灯杆编号."""

    class Datatype(models.TextChoices):
        STRING = "string", _("单行文字")
        NUMBER = "number", _("数字")
        DATETIME = "datetime", _("日期时间")
        TEXT = "text", _("多行文字")
        SINGLE = "singlevaluelist", _("单选")
        MULTI = "multivaluelist", _("多选")

    LIST_TYPES = (Datatype.SINGLE, Datatype.MULTI)

    category = models.ForeignKey(
        "hotline.Category",
        on_delete=models.CASCADE,
        related_name="open311_attributes",
        verbose_name=_("分类"),
    )
    code = models.CharField(
        _("属性编码"), max_length=50, help_text=_("字母、数字、_ . -,客户端以 attribute[编码] 提交")
    )
    datatype = models.CharField(_("类型"), max_length=16, choices=Datatype.choices)
    required = models.BooleanField(_("必填"), default=False)
    variable = models.BooleanField(
        _("需要填写"), default=True, help_text=_("不勾选:只向用户展示说明,不收集输入")
    )
    description = models.CharField(
        _("名称"), max_length=100, help_text=_("简短的问题,也用作工单内容中的标签,如“灯杆编号”")
    )
    datatype_description = models.CharField(_("填写提示"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("顺序"), default=1)
    values = models.JSONField(
        _("选项"),
        default=list,
        blank=True,
        help_text=_('单选/多选的选项:[{"key": "1", "name": "整晚不亮"}]'),
    )

    class Meta:
        verbose_name = _("Open311 服务属性")
        verbose_name_plural = _("Open311 服务属性")
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_code"),
            models.UniqueConstraint(fields=["category", "order"], name="open311_attribute_order"),
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.description}"

    @property
    def is_list(self) -> bool:
        return self.datatype in self.LIST_TYPES

    def value_names(self) -> dict[str, str]:
        return {item["key"]: item["name"] for item in self.values or []}

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if not ATTRIBUTE_CODE.fullmatch(self.code or ""):
            errors["code"] = [_("属性编码只能由字母、数字和 _ . - 组成,最长 50 个字符")]
        if self.order < 1:
            errors["order"] = [_("顺序从 1 开始")]
        if self.required and not self.variable:
            errors["required"] = [_("只展示说明的属性不能设为必填")]
        problem = self._values_problem()
        if problem:
            errors["values"] = [problem]
        if self.category_id is not None and self.category.children.exists():
            errors["category"] = [_("只有末级分类才能在 Open311 中上报")]
        if errors:
            raise ValidationError(errors)

    def _values_problem(self) -> str:
        values = self.values
        if not self.is_list:
            return _("只有单选和多选才有选项") if values else ""
        if not isinstance(values, list) or not values:
            return _("单选和多选至少要有一个选项")
        keys = []
        for item in values:
            if (
                not isinstance(item, dict)
                or set(item) != {"key", "name"}
                or not all(isinstance(item[k], str) and item[k].strip() for k in ("key", "name"))
            ):
                return _('每个选项应为 {"key": "编码", "name": "名称"},两者都是非空文字')
            keys.append(item["key"])
        if len(set(keys)) != len(keys):
            return _("选项编码不能重复")
        return ""


class Open311Request(models.Model):
    """What a client sent with a ticket beyond the ticket itself (never shown in GET)."""

    ticket = models.OneToOneField(
        "hotline.Ticket", on_delete=models.PROTECT, related_name="open311", verbose_name=_("工单")
    )
    client = models.ForeignKey(
        Open311Client, on_delete=models.PROTECT, related_name="requests", verbose_name=_("客户端")
    )
    token = models.CharField(_("令牌"), max_length=32, unique=True)
    attributes = models.JSONField(_("属性"), default=dict, blank=True)
    address_id = models.CharField(_("地址编码"), max_length=100, blank=True)
    media_url = models.CharField(_("媒体链接"), max_length=1000, blank=True)
    email = EncryptedTextField(_("电子邮箱"), blank=True)
    device_id = models.CharField(_("设备标识"), max_length=100, blank=True)
    account_id = models.CharField(_("客户端账号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 上报记录")
        verbose_name_plural = _("Open311 上报记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "created_at"], name="open311_client_created")]

    def __str__(self) -> str:
        return f"{self.client.name} → {self.ticket.number}"
