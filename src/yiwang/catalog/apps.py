from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "yiwang.catalog"
    verbose_name = "政务服务事项目录"

    def ready(self) -> None:
        from yiwang.catalog.indexing import KIND, listing_documents
        from yiwang.search.services import register_provider

        register_provider(KIND, listing_documents)
