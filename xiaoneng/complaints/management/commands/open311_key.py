"""`xiaoneng open311-key create NAME` (prints the key on its LAST line), `list`, `revoke NAME`.

The key is shown only this once (only its hash is stored), alone on the last line so a
script can take it with `tail -n 1`. A revoked key stops working at once; the row stays
because the complaints filed with it refer to it.
"""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xiaoneng.complaints.models import ApiKey
from xiaoneng.complaints.open311 import keys


class Command(BaseCommand):
    help = "Open311 接口密钥：create 新建并输出密钥；list 列出；revoke 停用。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sub.add_parser("create", help="新建密钥，最后一行输出密钥").add_argument("name")
        sub.add_parser("list", help="列出密钥（不含密钥本身）")
        sub.add_parser("revoke", help="停用密钥（立即失效）").add_argument("name")

    def handle(self, *args, action, **options):
        try:
            if action == "create":
                api_key, key = keys.do_create_key(options["name"])
                self.stdout.write(_("已创建 Open311 接口密钥 %(name)s（前缀 %(prefix)s）") % {
                    "name": api_key.name, "prefix": api_key.key_prefix})
                self.stdout.write(_("密钥只显示这一次，请妥善保存："))
                self.stdout.write(key)
            elif action == "list":
                for k in ApiKey.objects.order_by("name"):
                    state = _("有效") if k.is_active else _("已停用")
                    used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "-"
                    self.stdout.write(f"{k.name}\t{state}\t{k.key_prefix}\t{used}")
            else:
                api_key = ApiKey.objects.filter(name=(options["name"] or "").strip()).first()
                if api_key is None:
                    raise CommandError(_("没有名称为 %(name)s 的 Open311 接口密钥") % {"name": options["name"]})
                if not api_key.is_active:
                    raise CommandError(_("接口密钥 %(name)s 已停用") % {"name": api_key.name})
                keys.do_revoke_key(api_key)
                self.stdout.write(_("已停用 Open311 接口密钥 %(name)s，该密钥立即失效") % {"name": api_key.name})
        except keys.ApiKeyError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
