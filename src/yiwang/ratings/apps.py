from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    name = "yiwang.ratings"
    verbose_name = _("好差评")
