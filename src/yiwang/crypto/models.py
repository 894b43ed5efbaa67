from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredKey(models.Model):
    """A signing key held by `DatabaseKeyStore`; the private half is SM4-GCM encrypted.

    Rows are never deleted: once destroyed the private key is gone but the public
    key stays, so signatures made before remain verifiable.
    """

    handle = models.CharField(_("密钥句柄"), max_length=64, primary_key=True)
    suite = models.CharField(_("签名算法"), max_length=20)
    public_der = models.BinaryField(_("公钥"))
    # field-key id ":" base64(nonce ‖ SM4-GCM ciphertext ‖ tag); "" once destroyed.
    private_encrypted = models.TextField(_("加密私钥"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    destroyed_at = models.DateTimeField(_("销毁时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.suite} {self.handle}"
