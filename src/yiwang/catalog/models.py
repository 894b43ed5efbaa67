"""The service catalog (GB/T 39046-2020): basic items, department listings, materials.

A `ServiceItem` is a kind of service with its national 基本编码; a
`ServiceListing` is how one department implements it (实施清单), identified by
its 31-character 实施编码. Field-level rules live here (validators and
`clean()`), backed by database CHECK constraints where SQL can express them.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiwang.catalog.codes import (
    Audience,
    CaseKind,
    ExerciseLevel,
    HandlingForm,
    ItemType,
    ListingStatus,
    Scope,
    ServiceObject,
)

BASIC_CODE_RE = re.compile(r"^[0-9A-Z]{12}$")
IMPLEMENTATION_CODE_RE = re.compile(r"^[0-9A-Z]{18}[1-7][0-9A-Z]{12}$")

validate_basic_code = RegexValidator(
    BASIC_CODE_RE,
    _("基本编码应为 12 位数字或大写字母(如 000104002000),请核对"),
    code="basic_code",
)
validate_implementation_code = RegexValidator(
    IMPLEMENTATION_CODE_RE,
    _("实施编码应为 31 位:实施主体统一社会信用代码(18 位)+ 行使层级(1 位)+ 基本编码(12 位)"),
    code="implementation_code",
)


def implementation_code_for(credit_code: str, level: int, basic_code: str) -> str:
    """实施编码 = 实施主体统一社会信用代码 + 行使层级 + 基本编码 (STANDARDS.md)."""
    return f"{credit_code}{level}{basic_code}"


def _code_list(value: Any, choices: type[models.Choices], label: str) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("%(label)s应为代码列表") % {"label": label}, code="wrong_shape")
    allowed = {str(v) for v in choices.values}
    wrong = [str(v) for v in value if str(v) not in allowed or not isinstance(v, str | int)]
    if wrong:
        options = str(_("、")).join(f"{v} {name}" for v, name in choices.choices)
        raise ValidationError(
            _("%(label)s代码 %(wrong)s 不在代码表中,可选:%(options)s")
            % {"label": label, "wrong": str(_("、")).join(wrong), "options": options},
            code="code_not_in_table",
        )
    if len(set(map(str, value))) != len(value):
        raise ValidationError(_("%(label)s代码有重复,请删去重复项") % {"label": label})


def validate_levels(value: Any) -> None:
    if isinstance(value, list) and any(
        not isinstance(v, int) or isinstance(v, bool) for v in value
    ):
        raise ValidationError(_("行使层级应为 1 到 7 的整数列表,如 [3, 4]"), code="wrong_shape")
    _code_list(value, ExerciseLevel, _("行使层级"))
    if not value:
        raise ValidationError(_("请至少填写一个行使层级"), code="empty_list")


def validate_service_objects(value: Any) -> None:
    _code_list(value, ServiceObject, _("服务对象"))


def validate_handling_forms(value: Any) -> None:
    _code_list(value, HandlingForm, _("办理形式"))


def validate_text_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError(_("应为非空文字的列表,每项一条"), code="wrong_shape")


def validate_faq(value: Any) -> None:
    ok = isinstance(value, list) and all(
        isinstance(q, dict)
        and set(q) == {"question", "answer"}
        and all(isinstance(q[k], str) and q[k].strip() for k in q)
        for q in value
    )
    if not ok:
        raise ValidationError(
            _("常见问题应为列表,每项包含非空的 question(问题)和 answer(回答)"), code="wrong_shape"
        )


class Theme(models.Model):
    """A service theme (主题服务); life events (一件事) group items across departments."""

    code = models.SlugField(_("主题编码"), max_length=40, unique=True)
    name = models.CharField(_("主题名称"), max_length=60)
    audience = models.CharField(
        _("面向"), max_length=10, choices=Audience.choices, default=Audience.PERSON
    )
    is_life_event = models.BooleanField(_("是否一件事"), default=False)
    description = models.TextField(_("说明"), blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("服务主题")
        verbose_name_plural = _("服务主题")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portal:theme_detail", args=[self.code])


class ServiceItem(models.Model):
    """政务服务事项 (基本目录): one kind of service, with its national basic code."""

    basic_code = models.CharField(
        _("基本编码"), max_length=12, unique=True, validators=[validate_basic_code]
    )
    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=ItemType.choices)
    levels = models.JSONField(_("行使层级"), default=list, validators=[validate_levels])
    legal_basis = models.TextField(_("设定依据"), blank=True)
    service_objects = models.JSONField(
        _("服务对象"), default=list, blank=True, validators=[validate_service_objects]
    )
    keywords = models.JSONField(
        _("俗称/关键词"), default=list, blank=True, validators=[validate_text_list]
    )
    themes = models.ManyToManyField(
        Theme, verbose_name=_("服务主题"), blank=True, related_name="items"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["basic_code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.basic_code})"


class ServiceListing(models.Model):
    """实施清单: how one department implements an item; the citizen's 办事指南."""

    item = models.ForeignKey(
        ServiceItem, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="listings"
    )
    department = models.ForeignKey(
        "identity.Department",
        verbose_name=_("实施主体"),
        on_delete=models.PROTECT,
        related_name="listings",
    )
    level = models.PositiveSmallIntegerField(_("行使层级"), choices=ExerciseLevel.choices)
    implementation_code = models.CharField(
        _("实施编码"), max_length=31, unique=True, validators=[validate_implementation_code]
    )
    name = models.CharField(
        _("事项名称(本地)"), max_length=200, blank=True, help_text=_("留空则使用事项名称")
    )
    status = models.CharField(
        _("事项状态"), max_length=1, choices=ListingStatus.choices, default=ListingStatus.IN_USE
    )
    case_kind = models.CharField(
        _("办件类型"), max_length=1, choices=CaseKind.choices, default=CaseKind.COMMITTED
    )
    statutory_days = models.PositiveIntegerField(_("法定办结时限(工作日)"))
    committed_days = models.PositiveIntegerField(_("承诺办结时限(工作日)"))
    limit_explanation = models.TextField(_("时限说明"), blank=True)
    conditions = models.TextField(_("受理条件"), blank=True)
    process_steps = models.JSONField(
        _("办理流程"), default=list, blank=True, validators=[validate_text_list]
    )
    co_departments = models.ManyToManyField(
        "identity.Department",
        verbose_name=_("共同实施部门"),
        blank=True,
        related_name="co_listings",
    )
    handling_unit = models.CharField(_("承办机构"), max_length=200, blank=True)
    intermediary_service = models.TextField(_("中介服务"), blank=True)
    quantity_limit = models.TextField(_("数量限制"), blank=True)
    result_name = models.CharField(_("结果名称"), max_length=200, blank=True)
    result_sample = models.CharField(_("结果样本"), max_length=300, blank=True)
    fee_charged = models.BooleanField(_("是否收费"), default=False)
    fee_basis = models.TextField(_("收费依据"), blank=True)
    fee_standard = models.TextField(_("收费标准"), blank=True)
    scope = models.CharField(_("通办范围"), max_length=1, choices=Scope.choices, blank=True)
    service_objects = models.JSONField(
        _("服务对象"), default=list, blank=True, validators=[validate_service_objects]
    )
    handling_forms = models.JSONField(
        _("办理形式"), default=list, blank=True, validators=[validate_handling_forms]
    )
    special_procedure = models.TextField(_("特别程序"), blank=True)
    appointment = models.BooleanField(_("支持预约"), default=False)
    online_payment = models.BooleanField(_("支持网上支付"), default=False)
    express = models.BooleanField(_("支持物流快递"), default=False)
    online = models.BooleanField(_("支持网上办理"), default=False)
    visits_required = models.IntegerField(
        _("到办事现场次数"),
        default=0,
        validators=[MinValueValidator(0, _("到办事现场次数不能小于 0(0 表示一次不用跑)"))],
    )
    location = models.TextField(_("办理地点"), blank=True)
    hours = models.CharField(_("办理时间"), max_length=200, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=60, blank=True)
    supervision_phone = models.CharField(_("监督电话"), max_length=60, blank=True)
    faq = models.JSONField(_("常见问题"), default=list, blank=True, validators=[validate_faq])
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("实施清单")
        verbose_name_plural = _("实施清单")
        ordering = ["implementation_code"]
        indexes = [models.Index(fields=["department", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(committed_days__lte=models.F("statutory_days")),
                name="listing_committed_within_statutory",
                violation_error_message=_("承诺办结时限不能超过法定办结时限"),
            ),
            models.CheckConstraint(
                condition=~Q(case_kind=CaseKind.IMMEDIATE) | Q(committed_days=0),
                name="listing_immediate_committed_zero",
                violation_error_message=_("即办件的承诺办结时限应为 0"),
            ),
            models.CheckConstraint(
                condition=Q(visits_required__gte=0),
                name="listing_visits_not_negative",
                violation_error_message=_("到办事现场次数不能小于 0"),
            ),
            models.CheckConstraint(
                condition=Q(status__in=ListingStatus.values),
                name="listing_status_in_code_table",
            ),
            models.CheckConstraint(
                condition=Q(case_kind__in=CaseKind.values), name="listing_case_kind_in_code_table"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("portal:service_guide", args=[self.implementation_code])

    @property
    def display_name(self) -> str:
        return self.name or self.item.name

    def expected_implementation_code(self) -> str | None:
        item, department = self._item_set(), self._department_set()
        if item is None or department is None or not isinstance(self.level, int):
            return None
        return implementation_code_for(department.credit_code, self.level, item.basic_code)

    def _item_set(self) -> ServiceItem | None:
        return self.item if "item" in self._state.fields_cache or self.item_id else None

    def _department_set(self) -> Any:
        return (
            self.department
            if "department" in self._state.fields_cache or self.department_id
            else None
        )

    def clean(self) -> None:
        errors = listing_rule_errors(
            case_kind=self.case_kind,
            statutory_days=self.statutory_days,
            committed_days=self.committed_days,
            visits_required=self.visits_required,
        )
        item = self._item_set()
        levels = getattr(item, "levels", None)
        if isinstance(self.level, int) and isinstance(levels, list) and self.level not in levels:
            errors.setdefault("level", []).append(
                _("行使层级 %(level)s 不在事项的行使层级(%(levels)s)中,请改正")
                % {"level": self.level, "levels": str(_("、")).join(map(str, levels))}
            )
        expected = self.expected_implementation_code()
        if expected and self.implementation_code and self.implementation_code != expected:
            errors.setdefault("implementation_code", []).append(
                _(
                    "实施编码 %(given)s 与实施主体、行使层级、基本编码不一致,应为 %(expected)s"
                    "(统一社会信用代码 + 行使层级 + 基本编码)"
                )
                % {"given": self.implementation_code, "expected": expected}
            )
        if errors:
            raise ValidationError(errors)


def listing_rule_errors(
    *, case_kind: Any, statutory_days: Any, committed_days: Any, visits_required: Any
) -> dict[str, list[str]]:
    """The time-limit rules of STANDARDS.md, one message per broken rule, keyed by field."""
    errors: dict[str, list[str]] = {}

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if is_int(committed_days) and is_int(statutory_days) and committed_days > statutory_days:
        errors.setdefault("committed_days", []).append(
            _("承诺办结时限(%(c)s 个工作日)不能超过法定办结时限(%(s)s 个工作日)")
            % {"c": committed_days, "s": statutory_days}
        )
    if case_kind == CaseKind.IMMEDIATE and is_int(committed_days) and committed_days != 0:
        errors.setdefault("committed_days", []).append(
            _("即办件的承诺办结时限应为 0 个工作日(现为 %(c)s),请改为 0 或把办件类型改为承诺件")
            % {"c": committed_days}
        )
    if is_int(visits_required) and visits_required < 0:
        errors.setdefault("visits_required", []).append(
            _("到办事现场次数不能小于 0(0 表示一次不用跑)")
        )
    return errors


class MaterialRequirement(models.Model):
    """申请材料: a document the applicant must provide for one listing."""

    listing = models.ForeignKey(
        ServiceListing,
        verbose_name=_("实施清单"),
        on_delete=models.CASCADE,
        related_name="materials",
    )
    code = models.CharField(_("材料编码"), max_length=34, unique=True)
    name = models.CharField(_("材料名称"), max_length=200)
    issuer = models.CharField(_("出具机构"), max_length=200, blank=True)
    originals = models.PositiveSmallIntegerField(_("原件份数"), default=0)
    copies = models.PositiveSmallIntegerField(_("复印件份数"), default=0)
    required = models.BooleanField(_("是否必备"), default=True)
    notes = models.TextField(_("填报说明"), blank=True)
    sample = models.CharField(_("样表"), max_length=300, blank=True)
    license_type_code = models.CharField(
        _("可用电子证照"),
        max_length=21,
        blank=True,
        help_text=_("证照目录中的证照类型代码;申请人持有该类有效证照时免于提交(免证办)"),
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["listing", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "name"], name="unique_material_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.listing_id and self.code:
            prefix = self.listing.implementation_code
            if not (
                self.code.startswith(prefix) and len(self.code) == 34 and self.code[31:].isdigit()
            ):
                raise ValidationError(
                    {"code": _("材料编码应为实施编码 %(p)s 加 3 位数字") % {"p": prefix}}
                )


class ListingStatusChange(models.Model):
    """One 事项状态 change, with the reason given (history shown in the console)."""

    listing = models.ForeignKey(
        ServiceListing, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(_("原状态"), max_length=1, choices=ListingStatus.choices)
    to_status = models.CharField(_("新状态"), max_length=1, choices=ListingStatus.choices)
    reason = models.TextField(_("原因"))
    actor = models.ForeignKey(
        "identity.User",
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("事项状态变更")
        verbose_name_plural = _("事项状态变更")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.from_status} → {self.to_status}"


class PowerItem(models.Model):
    """权责清单: a power the law grants a department, with its duty and accountability."""

    code = models.CharField(_("权力编码"), max_length=60, unique=True)
    name = models.CharField(_("权力名称"), max_length=200)
    department = models.ForeignKey(
        "identity.Department",
        verbose_name=_("实施主体"),
        on_delete=models.PROTECT,
        related_name="power_items",
    )
    power_type = models.CharField(_("权力类型"), max_length=2, choices=ItemType.choices)
    duty = models.TextField(_("责任事项"), blank=True)
    accountability = models.TextField(_("追责情形"), blank=True)
    legal_basis = models.TextField(_("实施依据"), blank=True)
    items = models.ManyToManyField(
        ServiceItem, verbose_name=_("关联事项"), blank=True, related_name="power_items"
    )
    status = models.CharField(
        _("状态"), max_length=1, choices=ListingStatus.choices, default=ListingStatus.IN_USE
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("权责清单事项")
        verbose_name_plural = _("权责清单")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
