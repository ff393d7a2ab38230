"""`xiaoneng notify send [--every SECONDS] [--limit N]` and `xiaoneng notify retry [--limit N]`.

`send` sends the pending messages of the outbox — those the exchange inbox leaves for it,
and any whose after-commit delivery never ran (a crash right after commit). With
`--every` it keeps running, one round every SECONDS, until stopped (SIGTERM or Ctrl-C
ends it between rounds). `retry` also sends the failed ones again, once.
"""
from django.core.management.base import BaseCommand

from xiaoneng.lib.rounds import repeat
from xiaoneng.notify import outbox


class Command(BaseCommand):
    help = ("通知发件箱：send 发送待发送的通知（--every 持续运行）；retry 重发失败或未发送的通知。"
            "Outbox: `notify send` sends pending messages (`--every SECONDS` keeps running); "
            "`notify retry` sends failed or pending messages again.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["send", "retry"])
        parser.add_argument("--limit", type=int, default=1000, help="at most this many messages per round (default 1000)")
        parser.add_argument("--every", type=float, metavar="SECONDS",
                            help="send: keep running, one round every SECONDS")

    def handle(self, *args, action, limit, every=None, **options):
        if action == "retry":
            sent, failed = outbox.retry_failed(limit=limit)
            self.stdout.write(f"sent {sent}, still failing {failed}")
            return
        def round_(_n):
            sent, failed = outbox.send(limit=limit)
            if not every or sent or failed:
                self.stdout.write(f"sent {sent}, failed {failed}")

        repeat(round_, every)
