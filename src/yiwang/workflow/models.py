from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcessDefinition(models.Model):
    """One uploaded version of a process; never edited, so running cases keep theirs."""

    key = models.SlugField(
        _("流程编号"), max_length=100, help_text=_("办事事项引用的编号,如 instant_approval_elderly")
    )
    # One generic BPMN can be stored under several keys, each with its own DMN (秒批 per listing).
    process_id = models.CharField(
        _("BPMN 流程 id"), max_length=100, help_text=_("BPMN 文件中要运行的流程的 id")
    )
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=200)
    bpmn = models.TextField(_("BPMN 文件"))
    dmn = models.TextField(_("DMN 文件"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("流程定义")
        verbose_name_plural = _("流程定义")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="unique_process_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key} v{self.version})"
