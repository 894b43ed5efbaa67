from django.db import migrations, models


def install(apps, schema_editor):
    from yiwang.search import backends

    backends.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from yiwang.search import backends

    backends.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    """Result-card payloads; run `manage.py search_reindex` afterwards to fill them.

    On SQLite, adding a column rebuilds the table and drops the FTS5 triggers with the
    old one, so the full-text index is taken down first and rebuilt after.
    """

    dependencies = [("search", "0002_fulltext")]
    operations = [
        migrations.RunPython(uninstall, install),
        migrations.AddField(
            model_name="searchdocument",
            name="payload",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(install, uninstall),
    ]
