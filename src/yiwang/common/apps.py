from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "yiwang.common"
    verbose_name = "公共"
