from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "yiwang.catalog"
    verbose_name = "政务服务事项目录"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from yiwang.catalog.indexing import KIND, department_saved, listing_documents
        from yiwang.identity.models import Department
        from yiwang.search.services import register_provider

        register_provider(KIND, listing_documents)
        post_save.connect(department_saved, sender=Department, dispatch_uid="catalog-reindex")
