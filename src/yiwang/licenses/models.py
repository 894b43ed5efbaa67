"""Electronic licences (电子证照): the catalogue of licence types and the licences issued.

Metadata follow GB/T 36903 and identifiers GB/T 36904 (STANDARDS.md). A licence's
signed form is an SD-JWT (RFC 9901) made with the issuing department's seal key:
the always-visible claims are the metadata a verifier needs, every holder field is
a selective disclosure, so a QR code can show "over 18" without the ID number.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.crypto.fields import EncryptedTextField


class HolderCodeType(models.TextChoices):
    ID_NUMBER = "111", _("公民身份号码")
    CREDIT_CODE = "001", _("统一社会信用代码")


class LicenseType(models.Model):
    """证照目录 entry: what a licence of this kind holds and how long it is valid."""

    code = models.CharField(
        _("证照类型代码"),
        max_length=21,
        unique=True,
        help_text=_("定义机构统一社会信用代码(18位)+ 3 位顺序码"),
    )
    name = models.CharField(_("证照名称"), max_length=100)
    defining_authority = models.CharField(_("定义机构"), max_length=200)
    defining_authority_code = models.CharField(_("定义机构代码"), max_length=18)
    holder_type = models.CharField(
        _("持证主体代码类型"), max_length=3, choices=HolderCodeType.choices
    )
    fields = models.JSONField(
        _("照面信息项"),
        default=list,
        blank=True,
        help_text=_('例如 [{"name": "address", "label": "住所", "type": "string"}]'),
    )
    validity_years = models.PositiveSmallIntegerField(
        _("有效期(年)"), null=True, blank=True, help_text=_("留空表示长期有效")
    )
    issuing_departments = models.ManyToManyField(
        "identity.Department",
        blank=True,
        related_name="license_types",
        verbose_name=_("颁发部门"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照目录")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class IssuanceRule(models.Model):
    """Which licence a granted case of a listing produces, and where its fields come from."""

    listing = models.OneToOneField(
        "catalog.ServiceListing",
        on_delete=models.CASCADE,
        related_name="issuance_rule",
        verbose_name=_("实施清单"),
    )
    license_type = models.ForeignKey(
        LicenseType, on_delete=models.PROTECT, related_name="rules", verbose_name=_("证照类型")
    )
    field_map = models.JSONField(
        _("字段映射"),
        default=dict,
        blank=True,
        help_text=_('证照字段 → 申请表字段,例如 {"address": "shop_address"}'),
    )
    is_active = models.BooleanField(_("办结时自动签发"), default=True)

    class Meta:
        verbose_name = _("证照签发规则")
        verbose_name_plural = _("证照签发规则")

    def __str__(self) -> str:
        return f"{self.listing} → {self.license_type}"


class LicenseSerial(models.Model):
    """Per type, issuer and year counter behind the identifier's 流水号."""

    license_type = models.ForeignKey(LicenseType, on_delete=models.CASCADE, related_name="+")
    issuer_code = models.CharField(max_length=18)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["license_type", "issuer_code", "year"], name="unique_license_serial"
            )
        ]

    def __str__(self) -> str:
        return f"{self.issuer_code} {self.year}: {self.last}"


class License(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        SUSPENDED = "suspended", _("暂扣")
        EXPIRED = "expired", _("已过期")
        REVOKED = "revoked", _("已吊销/注销")
        SUPERSEDED = "superseded", _("已变更(旧版本)")

    license_type = models.ForeignKey(
        LicenseType, on_delete=models.PROTECT, related_name="licenses", verbose_name=_("证照类型")
    )
    identifier = models.CharField(_("证照标识"), max_length=100, unique=True)
    base_identifier = models.CharField(_("证照基础标识"), max_length=100, db_index=True)
    number = models.CharField(_("证照编号"), max_length=60, db_index=True)
    version = models.PositiveSmallIntegerField(_("版本号"), default=1)
    previous = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_version",
        verbose_name=_("上一版本"),
    )
    holder_name = models.CharField(_("持证主体"), max_length=200)
    holder_code = EncryptedTextField(_("持证主体代码"))
    holder_index = models.CharField(max_length=64, db_index=True, editable=False)
    holder_code_type = models.CharField(
        _("持证主体代码类型"), max_length=3, choices=HolderCodeType.choices
    )
    issuer = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="licenses",
        verbose_name=_("颁发机构"),
    )
    issued_on = models.DateField(_("颁发日期"))
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期止"), null=True, blank=True)
    region_code = models.CharField(_("所属管辖属地编码"), max_length=12, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="licenses",
        verbose_name=_("关联办件"),
    )
    listing = models.ForeignKey(
        "catalog.ServiceListing",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关联事项"),
    )
    fields = EncryptedTextField(_("照面信息"), default="{}")
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.VALID
    )
    status_reason = models.CharField(_("状态说明"), max_length=500, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    seal = models.ForeignKey(
        "seals.Seal", on_delete=models.PROTECT, related_name="licenses", verbose_name=_("印章")
    )
    key_id = models.CharField(_("签名密钥"), max_length=32)
    token = models.TextField(_("签名凭证(SD-JWT)"))
    disclosures = EncryptedTextField(_("选择性披露项"), default="{}")
    signed_at = models.DateTimeField(_("签发时间"))
    short_code = models.CharField(_("核验短码"), max_length=16, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签发人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["holder_index", "status"], name="license_holder_status")]

    def __str__(self) -> str:
        return f"{self.license_type.name} {self.number}"


class LicenseFile(models.Model):
    """The PDF rendering, made once and sealed (GB/T 38540 signature over its bytes)."""

    license = models.OneToOneField(License, on_delete=models.CASCADE, related_name="pdf")
    content = models.BinaryField()
    sm3 = models.CharField(max_length=64, unique=True)
    seal_signature = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.license_id} PDF"


class Authorization(models.Model):
    """用证授权: the holder lets a named department or company read chosen fields, for a time."""

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="authorizations")
    grantee_name = models.CharField(_("被授权方"), max_length=200)
    grantee_code = models.CharField(_("被授权方统一社会信用代码"), max_length=18, blank=True)
    grantee_department = models.ForeignKey(
        "identity.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("被授权部门"),
    )
    purpose = models.CharField(_("用途"), max_length=200)
    fields = models.JSONField(_("授权字段"), default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    valid_until = models.DateTimeField(_("授权截止"))
    max_uses = models.PositiveIntegerField(_("最多使用次数"), null=True, blank=True)
    created_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("用证授权")
        verbose_name_plural = _("用证授权")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.grantee_name}:{self.purpose}"


class LicenseUse(models.Model):
    """One use of a licence by someone other than its holder (用证记录)."""

    class Channel(models.TextChoices):
        AUTHORIZATION = "authorization", _("授权用证")
        REUSE = "reuse", _("免证办")
        STAFF = "staff", _("工作人员查验")

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="uses")
    authorization = models.ForeignKey(
        Authorization, on_delete=models.SET_NULL, null=True, blank=True, related_name="uses"
    )
    channel = models.CharField(_("用证方式"), max_length=14, choices=Channel.choices)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    used_by_label = models.CharField(_("用证方"), max_length=200)
    purpose = models.CharField(_("用途"), max_length=200)
    fields = models.JSONField(_("读取字段"), default=list)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    used_at = models.DateTimeField(_("用证时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("用证记录")
        verbose_name_plural = _("用证记录")
        ordering = ["-used_at", "-id"]

    def __str__(self) -> str:
        return f"{self.used_by_label} {self.used_at:%Y-%m-%d %H:%M}"


class ReusedMaterial(models.Model):
    """免证办: a required material of a case provided by a licence the applicant holds."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="reused")
    requirement = models.ForeignKey(
        "catalog.MaterialRequirement", on_delete=models.PROTECT, related_name="+"
    )
    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="reused_in")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("免证办材料")
        verbose_name_plural = _("免证办材料")
        constraints = [
            models.UniqueConstraint(fields=["case", "requirement"], name="unique_reused_material")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.requirement_id} ← {self.license_id}"
