from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.crypto.fields import EncryptedTextField


class OutboxMessage(models.Model):
    """A message to leave the process, written in the business transaction (DESIGN.md)."""

    topic = models.CharField(_("主题"), max_length=40, db_index=True)
    channel = models.CharField(_("渠道"), max_length=20)
    payload = EncryptedTextField(_("内容"))
    dedupe_key = models.CharField(_("去重键"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outbox_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic}/{self.channel} {self.dedupe_key}"


class Message(models.Model):
    """An in-app message (站内消息), created by the outbox worker from an "inapp" row.

    Title and body are the platform's own wording ("您的办件已受理"); callers keep
    personal data (ID numbers, phone numbers) out of them, so they are stored plain.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="notify_messages",
    )
    topic = models.CharField(_("主题"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="message_inbox"),
            models.Index(
                fields=["user"], condition=models.Q(read_at__isnull=True), name="message_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
