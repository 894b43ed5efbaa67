from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditBlock(models.Model):
    """A sealed batch of events: block hash = SM3(previous block hash ‖ Merkle root)."""

    number = models.PositiveBigIntegerField(_("区块号"), primary_key=True)
    prev_hash = models.CharField(_("前一区块哈希"), max_length=64)
    merkle_root = models.CharField(_("默克尔根"), max_length=64)
    block_hash = models.CharField(_("区块哈希"), max_length=64)
    event_ids = models.JSONField(_("事件编号"))
    sealed_at = models.DateTimeField(_("封存时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审计区块")
        verbose_name_plural = _("审计区块")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"#{self.number} {self.block_hash[:12]}"


class AuditEvent(models.Model):
    """One change, written by the service that made it, in the same transaction.

    Rows are insert-only: database triggers refuse UPDATE (except the sealer
    setting `block` once) and DELETE.
    """

    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人编号"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(_("操作人"), max_length=150)
    action = models.CharField(_("操作"), max_length=80, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=80)
    object_id = models.CharField(_("对象编号"), max_length=64)
    object_label = models.CharField(_("对象"), max_length=200, blank=True)
    department_id = models.BigIntegerField(_("部门编号"), null=True, blank=True, db_index=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True)
    event_hash = models.CharField(_("事件哈希"), max_length=64)
    block = models.ForeignKey(
        AuditBlock, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(
                fields=["id"], condition=models.Q(block__isnull=True), name="audit_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
