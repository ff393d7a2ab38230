"""`xiaoneng exchange-source create CODE --organ <credit code>... [--name N]` and friends.

`create` and `rotate-key` print the new key on their LAST line, alone, so a script can
take it with `tail -n 1`; it is shown only this once (only its hash is stored).
"""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xiaoneng.approvals.exchange import keys
from xiaoneng.approvals.models import ExchangeSource


class Command(BaseCommand):
    help = "数据交换来源：create 新建并输出密钥；rotate-key 更换密钥；list 列出；deactivate/activate 停用/启用；organs 设置可报送机关。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="新建来源，最后一行输出 API 密钥")
        create.add_argument("code")
        create.add_argument("--organ", action="append", required=True, metavar="CREDIT_CODE",
                            help="可报送的机关（统一社会信用代码），可重复")
        create.add_argument("--name", default="")
        rotate = sub.add_parser("rotate-key", help="更换密钥（旧密钥立即失效），最后一行输出新密钥")
        rotate.add_argument("code")
        organs = sub.add_parser("organs", help="重新设置可报送的机关")
        organs.add_argument("code")
        organs.add_argument("--organ", action="append", required=True, metavar="CREDIT_CODE")
        for name in ("deactivate", "activate"):
            sub.add_parser(name, help="停用" if name == "deactivate" else "启用").add_argument("code")
        sub.add_parser("list", help="列出来源")

    def handle(self, *args, action, **options):
        try:
            if action == "create":
                source, key = keys.do_create_source(code=options["code"], organ_codes=options["organ"],
                                                    name=options["name"])
                self.stdout.write(_("已创建数据交换来源 %(code)s（%(name)s），可报送机关：%(organs)s") % {
                    "code": source.code, "name": source.name,
                    "organs": "、".join(source.organs.order_by("credit_code").values_list("credit_code", flat=True))})
                self.stdout.write(_("API 密钥只显示这一次，请妥善保存："))
                self.stdout.write(key)
            elif action == "list":
                for s in ExchangeSource.objects.order_by("code").prefetch_related("organs"):
                    state = _("有效") if s.is_active else _("已停用")
                    organs = ",".join(o.credit_code for o in s.organs.all())
                    self.stdout.write(f"{s.code}\t{s.name}\t{state}\t{s.key_prefix}\t{organs}")
            else:
                source = ExchangeSource.objects.filter(code=options["code"]).first()
                if source is None:
                    raise CommandError(_("没有编码为 %(code)s 的数据交换来源") % {"code": options["code"]})
                if action == "rotate-key":
                    key = keys.do_rotate_key(source)
                    self.stdout.write(_("已更换 %(code)s 的密钥，旧密钥已失效。新密钥只显示这一次：") % {"code": source.code})
                    self.stdout.write(key)
                elif action == "organs":
                    keys.do_set_source_organs(source, options["organ"])
                    self.stdout.write(_("已更新 %(code)s 的可报送机关") % {"code": source.code})
                else:
                    keys.do_set_source_active(source, action == "activate")
                    self.stdout.write(_("已%(what)s来源 %(code)s") % {
                        "what": _("启用") if action == "activate" else _("停用"), "code": source.code})
        except keys.SourceError as exc:
            raise CommandError(exc.message) from None
