from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "yiwang.crypto"
    verbose_name = "密码服务"
