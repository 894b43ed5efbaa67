from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SealsConfig(AppConfig):
    name = "yiwang.seals"
    verbose_name = _("电子印章")
