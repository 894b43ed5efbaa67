from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    name = "yiwang.interop"
    verbose_name = _("标准接口")
