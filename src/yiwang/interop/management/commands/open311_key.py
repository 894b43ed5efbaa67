"""`manage.py open311_key issue NAME | revoke ID | list` (docs/open311.md "Client keys")."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yiwang.interop import services
from yiwang.interop.models import Open311Client
from yiwang.interop.text import mask_personal


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "-"


class Command(BaseCommand):
    help = "签发、吊销、列出 Open311 客户端的 api_key;密钥只在签发时显示一次。"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        issue = actions.add_parser("issue", help="为一个客户端应用签发新密钥")
        issue.add_argument("name", help="客户端应用名称")
        issue.add_argument("--contact", default="", help="对接人及联系方式")
        issue.add_argument("--rate", type=int, default=None, help="每分钟上报上限(默认系统值)")
        revoke = actions.add_parser("revoke", help="吊销密钥(按 list 中的编号)")
        revoke.add_argument("id", type=int)
        actions.add_parser("list", help="列出所有密钥(不含密钥本身)")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(";".join(exc.messages)) from exc

    def _issue(self, name: str, contact: str, rate: int | None, **options) -> None:
        client, key = services.issue_key(None, name, contact, rate_per_minute=rate)
        self.stdout.write(self.style.SUCCESS(f"已签发 #{client.pk} {client.name}"))
        self.stdout.write(f"api_key(只显示这一次,请妥善交给对接方):{key}")

    def _revoke(self, id: int, **options) -> None:
        client = Open311Client.objects.filter(pk=id).first()
        if client is None:
            raise CommandError(f"没有编号为 {id} 的密钥,请先用 list 查看")
        client = services.revoke_key(None, client)
        self.stdout.write(self.style.SUCCESS(f"已吊销 #{client.pk} {client.name}"))

    def _list(self, **options) -> None:
        clients = Open311Client.objects.order_by("id")
        if not clients:
            self.stdout.write("还没有签发任何密钥")
        for c in clients:
            state = "有效" if c.is_active else f"已吊销 {_when(c.revoked_at)}"
            self.stdout.write(
                f"#{c.pk}\t{c.name}\t{c.key_prefix}…\t{state}\t签发 {_when(c.created_at)}"
                f"\t最近使用 {_when(c.last_used_at)}\t{mask_personal(c.contact)}"
            )
