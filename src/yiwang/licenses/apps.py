from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensesConfig(AppConfig):
    name = "yiwang.licenses"
    verbose_name = _("电子证照")

    def ready(self) -> None:
        from yiwang.licenses import services

        services.connect()
