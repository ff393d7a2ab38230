import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from xiaoneng.clocks.monitor import run_pass, worker_name
from xiaoneng.lib.rounds import repeat


class Command(BaseCommand):
    help = "监控时限：认领已到预警或到期时间的时限并记录事件。Monitoring loop: claims due clocks; several may run at once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one pass and exit")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between passes (default 30)")
        parser.add_argument("--batch", type=int, default=None, help="clocks claimed per batch")

    def handle(self, *args, **options):
        name = worker_name()

        def one_pass(_n: int) -> None:
            started = time.monotonic()
            result = run_pass(batch_size=options["batch"], worker=name)
            if result.claimed or options["verbosity"] > 1:
                self.stdout.write(
                    f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {name}: claimed {result.claimed}, "
                    f"warned {result.warned}, overdue {result.overdue}, failed {result.failed} "
                    f"({time.monotonic() - started:.2f}s)"
                )

        repeat(one_pass, None if options["once"] else options["interval"])
