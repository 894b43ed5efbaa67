"""GB/T 39046-2020 code tables used by the catalog (STANDARDS.md).

Values are the standard's codes as strings, exactly as they travel in the
exchange format (docs/catalog-format.md). 行使层级 and 实施主体性质 are shared with
identity and live in `yiwang.identity.codes`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.identity.codes import ExerciseLevel, ImplementerNature

__all__ = [
    "Audience",
    "CaseKind",
    "ExerciseLevel",
    "HandlingForm",
    "ImplementerNature",
    "ItemType",
    "ListingStatus",
    "Scope",
    "ServiceObject",
]


class ItemType(models.TextChoices):
    """事项类型."""

    LICENSING = "01", _("行政许可")
    PENALTY = "02", _("行政处罚")
    ENFORCEMENT = "03", _("行政强制")
    LEVY = "04", _("行政征收")
    BENEFIT = "05", _("行政给付")
    INSPECTION = "06", _("行政检查")
    CONFIRMATION = "07", _("行政确认")
    REWARD = "08", _("行政奖励")
    ADJUDICATION = "09", _("行政裁决")
    OTHER_POWER = "10", _("其他行政权力")
    PUBLIC_SERVICE = "20", _("公共服务")


class ServiceObject(models.TextChoices):
    """服务对象."""

    PERSON = "1", _("自然人")
    ENTERPRISE = "2", _("企业法人")
    INSTITUTION = "3", _("事业法人")
    SOCIAL_ORGANIZATION = "4", _("社会组织法人")
    UNINCORPORATED = "5", _("非法人企业")
    GOVERNMENT = "6", _("行政机关")
    OTHER = "9", _("其他组织")


class HandlingForm(models.TextChoices):
    """办理形式."""

    COUNTER = "1", _("窗口办理")
    ONLINE = "2", _("网上办理(电脑端)")
    MOBILE = "3", _("移动端")
    POST = "4", _("快递申请")
    OTHER = "9", _("其他")


class CaseKind(models.TextChoices):
    """办件类型."""

    IMMEDIATE = "1", _("即办件")
    COMMITTED = "2", _("承诺件")
    OTHER = "9", _("其他")


class Scope(models.TextChoices):
    """通办范围."""

    NATION = "1", _("全国")
    PROVINCE = "2", _("全省")
    CITY = "3", _("全市")
    COUNTY = "4", _("全县")
    TOWNSHIP = "5", _("全镇")
    VILLAGES = "6", _("跨村")


class ListingStatus(models.TextChoices):
    """事项状态."""

    IN_USE = "1", _("在用")
    SUSPENDED = "2", _("暂停")
    CANCELLED = "3", _("取消")


class Audience(models.TextChoices):
    """Who a service theme is for: 个人 or 法人 (portal sections)."""

    PERSON = "person", _("个人")
    COMPANY = "company", _("法人")
