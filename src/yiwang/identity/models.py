from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.crypto.fields import EncryptedTextField, blind_index
from yiwang.identity.codes import ExerciseLevel, ImplementerNature


class Department(models.Model):
    """部门 / 实施主体: a node in the city → district → street tree."""

    name = models.CharField(_("部门名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(_("行使层级"), choices=ExerciseLevel.choices)
    nature = models.PositiveSmallIntegerField(
        _("实施主体性质"), choices=ImplementerNature.choices, default=ImplementerNature.STATUTORY
    )
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    credit_code_override = models.CharField(
        _("校验码例外原因"), max_length=200, blank=True, help_text=_("工作人员记录的例外原因")
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12, blank=True)
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    supervision_phone = models.CharField(_("监督电话"), max_length=40, blank=True)
    office_hours = models.CharField(_("办公时间"), max_length=200, blank=True)
    website = models.URLField(_("网站"), blank=True)
    lead = models.ForeignKey(
        "identity.User",
        verbose_name=_("分管负责人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """One account for citizens (自然人), company agents (法人) and staff."""

    class Kind(models.TextChoices):
        CITIZEN = "citizen", _("自然人")
        COMPANY = "company", _("法人")
        STAFF = "staff", _("工作人员")

    kind = models.CharField(
        _("用户类型"), max_length=10, choices=Kind.choices, default=Kind.CITIZEN
    )
    real_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = EncryptedTextField(_("手机号码"), blank=True)
    phone_index = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    phone_verified_at = models.DateTimeField(_("手机验证时间"), null=True, blank=True)
    id_number = EncryptedTextField(_("居民身份证号码"), blank=True)
    id_number_index = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    real_name_verified_at = models.DateTimeField(_("实名核验时间"), null=True, blank=True)
    company_name = models.CharField(_("单位名称"), max_length=200, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, db_index=True)
    credit_code_override = models.CharField(
        _("校验码例外原因"), max_length=200, blank=True, help_text=_("工作人员记录的例外原因")
    )
    failed_logins = models.PositiveSmallIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.real_name or self.username

    @property
    def is_real_name_verified(self) -> bool:
        return self.real_name_verified_at is not None

    @property
    def is_locked(self) -> bool:
        from django.utils import timezone

        return self.locked_until is not None and self.locked_until > timezone.now()

    def save(self, *args, **kwargs):
        # The blind indexes always follow the plain values, so lookups and
        # uniqueness can never drift from what is stored encrypted.
        self.phone_index = blind_index(self.phone, "phone") if self.phone else None
        self.id_number_index = blind_index(self.id_number, "id_number") if self.id_number else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            extra = {"phone": "phone_index", "id_number": "id_number_index"}
            kwargs["update_fields"] = {
                *update_fields,
                *(extra[f] for f in extra if f in update_fields),
            }
        super().save(*args, **kwargs)


class StaffRole(models.Model):
    """A staff member's role in one department; later issues check these."""

    class Role(models.TextChoices):
        INTAKE = "intake", _("受理")
        REVIEW = "review", _("审查")
        DECISION = "decision", _("决定")
        ADMIN = "admin", _("管理员")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)
    granted_at = models.DateTimeField(_("授予时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("岗位角色")
        verbose_name_plural = _("岗位角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"], name="unique_staff_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department} ({self.get_role_display()})"


class OneTimeCode(models.Model):
    """A short-lived SMS code; only its hash is kept, keyed by the phone's blind index."""

    class Purpose(models.TextChoices):
        REGISTER = "register", _("注册")
        LOGIN = "login", _("登录")
        RESET = "reset", _("重置密码")

    phone_index = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(_("用途"), max_length=20, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("过期时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    verified_at = models.DateTimeField(_("验证时间"), null=True, blank=True)
    consumed_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [
            models.Index(fields=["phone_index", "purpose", "-created_at"], name="otp_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M}"


class RealNameVerification(models.Model):
    """One attempt to bind an account to a verified identity, by one verifier backend."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="real_name_checks")
    backend = models.CharField(_("核验渠道"), max_length=40)
    real_name = models.CharField(_("姓名"), max_length=60)
    id_number_index = models.CharField(max_length=64, db_index=True)
    passed = models.BooleanField(_("是否通过"))
    reference = models.CharField(_("核验流水号"), max_length=100, blank=True)
    detail = models.CharField(_("说明"), max_length=200, blank=True)
    checked_at = models.DateTimeField(_("核验时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("实名核验记录")
        verbose_name_plural = _("实名核验记录")
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.real_name} {self.backend} {'✓' if self.passed else '✗'}"
