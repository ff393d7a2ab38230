import json
import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.calendar.models import CalendarDay, CalendarRevision, CalendarYear
from xiaoneng.clocks.calculator import CalculatorError, build_query, calculate
from xiaoneng.lib.dbready import tables_exist


def _one_line_error(message):
    """argparse prints its usage block before the error; the calculator says one line."""
    sys.stderr.write(f"xiaoneng deadline: error: {message}\n")
    sys.exit(2)


class Command(BaseCommand):
    help = (
        "计算时限到期日并说明理由。Compute a deadline on the official calendar: "
        "the start day is not counted; N working days end at 24:00 of the N-th working day after it."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = _one_line_error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="the day of the act (not counted)")
        parser.add_argument("--days", required=True, metavar="N", help="the limit")
        parser.add_argument("--unit", default="working", metavar="working|calendar", help="default: working")
        parser.add_argument(
            "--pause", action="append", default=[], metavar="YYYY-MM-DD:YYYY-MM-DD",
            help="the clock stands still on these dates, inclusive (repeatable)",
        )
        parser.add_argument("--extend", default="0", metavar="N", help="days added after the limit")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        try:
            query = build_query(options["start"], options["days"], options["unit"], options["pause"], options["extend"])
            cal = None
            if not tables_exist(CalendarDay, CalendarYear, CalendarRevision):
                # The calculator needs no database: without one it counts on the calendar installed with
                # the program (what `migrate` would load), and says so on stderr so stdout stays the answer.
                import chinese_calendar

                cal = calendar_engine.bundled()
                sys.stderr.write(_("注意：数据库尚未初始化或无法连接，按随程序安装的日历（chinesecalendar %(version)s）"
                                   "计算，未含管理员导入或修改的日期") % {"version": chinese_calendar.__version__} + "\n")
            result = calculate(query, cal)
        except CalculatorError as exc:
            sys.stderr.write(f"xiaoneng deadline: error: {exc.message}\n")
            sys.exit(2)
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stdout.write(result["explanation"])
