from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "yiwang.search"
    verbose_name = "全文检索"
