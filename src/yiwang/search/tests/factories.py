import factory

from yiwang.search import services


class IndexedDocumentFactory(factory.Factory):
    """A document put into the index through the public service, like an app would."""

    class Meta:
        model = services.Document

    object_id = factory.Sequence(lambda n: 1000 + n)
    title = factory.Sequence(lambda n: f"测试事项{n}")
    keywords = factory.LazyFunction(list)
    body = ""
    facets = factory.LazyFunction(dict)
    kind = "listing"

    @classmethod
    def _create(cls, model_class, *args, kind="listing", **kwargs):
        document = model_class(**kwargs)
        services.index_document(
            kind,
            document.object_id,
            title=document.title,
            keywords=document.keywords,
            body=document.body,
            facets=document.facets,
        )
        return document
