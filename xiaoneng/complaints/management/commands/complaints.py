"""`xiaoneng complaints sweep [--every SECONDS]` and `xiaoneng complaints categories load [FILE] | export`.

* ``sweep`` closes every replied complaint whose appeal window (`complaint_appeal_days`)
  has passed without a review request (`actions.close_stale`) and prints how many. Run
  it daily (cron), or keep it running with ``--every 86400`` like ``stats refresh --every``.
* ``categories load [FILE]`` checks the whole JSON file (default: the packaged
  ``xiaoneng/complaints/data/categories.json``) and upserts the categories by code; a
  bad file is refused with every problem listed (entry and field) and nothing changes.
* ``categories export`` writes the categories as JSON to stdout, in the format ``load``
  reads.
"""
import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xiaoneng.complaints import actions, categories
from xiaoneng.lib.rounds import repeat


class Command(BaseCommand):
    help = "效能投诉：sweep 自动办结逾期未申请复核的投诉；categories load/export 导入、导出投诉类别。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sweep = sub.add_parser("sweep", help="办结答复后逾期未申请复核的投诉（每日运行）")
        sweep.add_argument("--every", type=float, metavar="SECONDS", help="持续运行，每隔这么多秒清理一次")
        cats = sub.add_parser("categories", help="投诉类别 / complaint categories")
        cat_sub = cats.add_subparsers(dest="what", required=True, metavar="load|export")
        load = cat_sub.add_parser("load", help="从 JSON 文件导入（按编码新增或更新）")
        load.add_argument("file", nargs="?", default=None, help="JSON 文件（默认：内置类别文件）")
        cat_sub.add_parser("export", help="以 JSON 导出到标准输出")

    def handle(self, *args, action, **options):
        if action == "sweep":
            return self.sweep(options.get("every"))
        if options["what"] == "load":
            return self.load(options.get("file"))
        self.stdout.write(json.dumps(categories.export(), ensure_ascii=False, indent=2))

    def sweep(self, every):
        if every is not None and every <= 0:
            raise CommandError(_("--every 必须是正数（秒）"))

        def round_(_n):
            self.stderr.write(_("正在办结答复后逾期未申请复核的投诉……"))
            started = time.monotonic()
            closed = actions.close_stale()
            self.stdout.write(_("已自动办结 %(n)d 件投诉（用时 %(sec).1f 秒）。") % {
                "n": closed, "sec": time.monotonic() - started})

        repeat(round_, every)

    def load(self, path):
        source = path or str(categories.DATA_FILE)
        self.stderr.write(_("正在检查 %(file)s ……") % {"file": source})
        try:
            if path == "-":
                result = categories.upsert(categories.parse(sys.stdin.buffer.read(), "stdin"))
            else:
                result = categories.load(path)
        except categories.CategoryFileError as exc:
            raise CommandError(_("投诉类别文件有误，未做任何修改：\n%(errors)s") % {
                "errors": "\n".join(exc.errors)}) from exc
        self.stdout.write(result.summary())
