"""Code tables shared by identity and catalog (STANDARDS.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExerciseLevel(models.IntegerChoices):
    """行使层级."""

    NATIONAL = 1, _("国家级")
    PROVINCIAL = 2, _("省级")
    MUNICIPAL = 3, _("市级")
    COUNTY = 4, _("县级")
    TOWNSHIP = 5, _("镇(乡、街道)级")
    VILLAGE = 6, _("村(社区)级")
    TIERED = 7, _("分级管理")


class ImplementerNature(models.IntegerChoices):
    """实施主体性质."""

    STATUTORY = 1, _("法定机关")
    AUTHORIZED = 2, _("授权组织")
    ENTRUSTED = 3, _("受委托组织")
    OTHER = 9, _("其他")
