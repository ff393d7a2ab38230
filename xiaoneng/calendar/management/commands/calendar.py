import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xiaoneng.calendar.actions import do_import_notice, do_seed_calendar
from xiaoneng.calendar.models import CalendarYear
from xiaoneng.calendar.sources import NoticeError


class Command(BaseCommand):
    help = "工作日历：seed（从 chinesecalendar 载入）、import FILE（导入国务院通知文件）、years（列出已载入年份）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("seed", help="load every year the chinesecalendar package knows")
        imp = sub.add_parser("import", help="import a year from a notice file (format: README)")
        imp.add_argument("file")
        sub.add_parser("years", help="list loaded years")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "years":
            for y in CalendarYear.objects.all():
                self.stdout.write(f"{y.year}\t{y.source}")
            return
        if action == "seed":
            outcome = do_seed_calendar()
        else:
            path = Path(options["file"])
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise CommandError(_("无法读取 %(path)s：%(why)s") % {"path": path, "why": exc.strerror}) from None
            try:
                outcome = do_import_notice(raw)
            except NoticeError as exc:
                for line in exc.errors:
                    sys.stderr.write(f"{path}: {line}\n")
                raise CommandError(_("%(n)d 处错误，未导入任何内容") % {"n": len(exc.errors)}) from None
        self.stdout.write(
            _("已载入年份：%(years)s；变动日期 %(days)d 天；重算时限 %(clocks)d 个") % {
                "years": outcome.years or "-", "days": len(outcome.changed), "clocks": outcome.clocks_recomputed}
        )
