"""Code tables shared by several domains."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SatisfactionLevel(models.IntegerChoices):
    """The five 好差评 levels (STANDARDS.md); 4 and 5 are 差评. Cases and 12345 tickets
    are rated on the same scale so the figures compare."""

    VERY_SATISFIED = 1, _("非常满意")
    SATISFIED = 2, _("满意")
    FAIRLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 4, _("不满意")
    VERY_DISSATISFIED = 5, _("非常不满意")
