from django.db import migrations


def install(apps, schema_editor):
    from yiwang.search import backends

    backends.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from yiwang.search import backends

    backends.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    """The vendor's full-text index: FTS5 on SQLite, tsvector + text[] with GIN on PostgreSQL."""

    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
