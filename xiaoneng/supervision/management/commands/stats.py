"""`xiaoneng stats refresh [--since DATE | --days N | --full] [--every SECONDS]`.

Rebuilds the supervision roll-ups (xiaoneng.supervision.stats) a month at a time,
printing progress. Without options it recomputes from the day before the last refresh
began (everything, the first time). Run it every few minutes for a live dashboard
(`--every 300` keeps it running), and nightly with `--days 35` so that late-reported
data (an exchange event about a case received days ago) is folded in; after a bulk
load, `--full`.
"""
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.lib.rounds import repeat
from xiaoneng.supervision import stats


class Command(BaseCommand):
    help = "电子监察统计：refresh 重算预汇总（按机关、日、月）。Rebuilds the dashboard's roll-ups."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        refresh = sub.add_parser("refresh", help="重算统计 / recompute the roll-ups")
        when = refresh.add_mutually_exclusive_group()
        when.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                          help="从该日起重算（默认：上次刷新开始的前一天）")
        when.add_argument("--days", type=int, metavar="N", help="重算最近 N 天")
        when.add_argument("--full", action="store_true", help="全部重算（批量导入数据后使用）")
        refresh.add_argument("--every", type=float, metavar="SECONDS",
                             help="持续运行，每隔这么多秒刷新一次（增量）")

    def handle(self, *args, action, since=None, days=None, full=False, every=None, **options):
        if days is not None:
            if days < 0:
                raise CommandError(_("--days 不能为负数"))
            since = timezone.localdate() - timedelta(days=days)
        verbose = options["verbosity"] > 0
        # Later rounds are incremental.
        repeat(lambda n: self.run_once(since if n == 0 else None, full and n == 0, verbose=verbose), every)

    def run_once(self, since, full, verbose):
        def progress(done, total, month):
            if verbose:
                self.stdout.write(f"[{done}/{total}] {month}")

        try:
            run = stats.refresh(since, full=full, progress=progress)
        except stats.Busy:
            self.stderr.write(_("另一个统计刷新正在运行，本次跳过。"))
            return
        scope = _("全部") if run.since is None else _("自 %(day)s 起") % {"day": run.since}
        self.stdout.write(_("统计已刷新（%(scope)s）：%(rows)d 行日统计，用时 %(sec).1f 秒。") % {
            "scope": scope, "rows": run.rows, "sec": run.seconds})
