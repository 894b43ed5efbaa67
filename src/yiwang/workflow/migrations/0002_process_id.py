from django.db import migrations, models
from django.db.models import F


def fill_process_id(apps, schema_editor):
    apps.get_model("workflow", "ProcessDefinition").objects.update(process_id=F("key"))


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="processdefinition",
            name="process_id",
            field=models.CharField(
                default="",
                help_text="BPMN 文件中要运行的流程的 id",
                max_length=100,
                verbose_name="BPMN 流程 id",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_process_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="processdefinition",
            name="key",
            field=models.SlugField(
                help_text="办事事项引用的编号,如 instant_approval_elderly",
                max_length=100,
                verbose_name="流程编号",
            ),
        ),
    ]
