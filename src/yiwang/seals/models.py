"""Electronic seals modelled on GB/T 38540-2020 (docs/seals.md).

A `Seal` carries the signed seal info (SES_SealInfo as canonical JSON); its
`SealKey`s are references into the key store, never private keys. The seal maker
(制章者) is a platform key (`SealMaker`) whose signature binds the seal info.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.crypto.keystore import KeyRef


class Seal(models.Model):
    class Kind(models.TextChoices):
        OFFICIAL = "official", _("公章")
        BUSINESS = "business", _("业务专用章")
        CONTRACT = "contract", _("合同专用章")

    department = models.ForeignKey(
        "identity.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        related_name="seals",
    )
    name = models.CharField(_("印章名称"), max_length=100)
    kind = models.CharField(_("印章类型"), max_length=10, choices=Kind.choices)
    # <6-digit region code>ES<8-digit serial = pk>; see docs/seals.md "esID".
    es_id = models.CharField(_("印章编码"), max_length=40, unique=True)
    picture = models.BinaryField(_("印模图片"))
    picture_width_mm = models.PositiveSmallIntegerField(_("印模宽度(毫米)"), default=42)
    picture_height_mm = models.PositiveSmallIntegerField(_("印模高度(毫米)"), default=42)
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期止"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("吊销原因"), max_length=500, blank=True)
    seal_info = models.TextField(_("印章信息"), help_text=_("SES_SealInfo,规范化 JSON"))
    maker_key_id = models.CharField(_("制章者密钥"), max_length=16)
    maker_signature = models.TextField(_("制章者签名"), help_text=_("base64"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("制作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("制作时间"), default=timezone.now)

    class Meta:
        verbose_name = _("电子印章")
        verbose_name_plural = _("电子印章")
        ordering = ["department_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name}({self.es_id})"

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day <= self.valid_until


class SealKey(models.Model):
    """One signing key of a seal. Retired keys still verify earlier signatures; a
    revocation invalidates every signature made at or after `revoked_at`."""

    seal = models.ForeignKey(
        Seal, verbose_name=_("印章"), on_delete=models.PROTECT, related_name="keys"
    )
    store = models.CharField(_("密钥库"), max_length=40)
    handle = models.CharField(_("密钥句柄"), max_length=200)
    suite = models.CharField(_("算法"), max_length=20)
    key_id = models.CharField(_("密钥标识"), max_length=16, unique=True)
    public_der = models.BinaryField(_("公钥"))
    activated_at = models.DateTimeField(_("启用时间"))
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销生效时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("吊销原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("印章密钥")
        verbose_name_plural = _("印章密钥")
        ordering = ["seal_id", "activated_at", "id"]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.suite})"

    @property
    def ref(self) -> KeyRef:
        return KeyRef(self.store, self.handle, self.suite, self.key_id)

    def status_at(self, when) -> str:
        """ "revoked", "retired" or "active" as seen at `when` (for lists and the JWKS)."""
        if self.revoked_at is not None and self.revoked_at <= when:
            return "revoked"
        if self.retired_at is not None and self.retired_at <= when:
            return "retired"
        return "active"


class SealMaker(models.Model):
    """The platform's seal-maker key (制章者); exactly one row is active."""

    store = models.CharField(_("密钥库"), max_length=40)
    handle = models.CharField(_("密钥句柄"), max_length=200)
    suite = models.CharField(_("算法"), max_length=20)
    key_id = models.CharField(_("密钥标识"), max_length=16, unique=True)
    public_der = models.BinaryField(_("公钥"))
    active = models.BooleanField(_("在用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("制章者密钥")
        verbose_name_plural = _("制章者密钥")
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="one_active_seal_maker"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.suite})"

    @property
    def ref(self) -> KeyRef:
        return KeyRef(self.store, self.handle, self.suite, self.key_id)
