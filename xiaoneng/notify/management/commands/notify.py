"""`xiaoneng notify send [--every SECONDS] [--limit N]`, `xiaoneng notify retry [--limit N]`, and for messages
whose outcome a crash left unknown `xiaoneng notify unknown`, `notify resend ID…`, `notify mark-sent ID…`.

`send` sends the pending messages of the outbox — those the exchange inbox leaves for it,
and any whose after-commit delivery never ran (a crash right after commit). With
`--every` it keeps running, one round every SECONDS, until stopped (SIGTERM or Ctrl-C
ends it between rounds). `retry` also sends the failed ones again, once. A message whose
sender died mid-send (its outcome unknown, see `outbox`) is listed by `unknown`; a person who
checked it either resends it (same idempotency id) or marks it sent.
"""
from django.core.management.base import BaseCommand, CommandError

from xiaoneng.lib.rounds import repeat
from xiaoneng.notify import outbox


class Command(BaseCommand):
    help = ("通知发件箱：send 发送待发送的通知（--every 持续运行）；retry 重发失败或未发送的通知；"
            "unknown 列出发送中断、结果不明的通知，resend ID… 重发（同一幂等键），mark-sent ID… 标记为已发送。"
            "Outbox: `notify send` sends pending messages (`--every SECONDS` keeps running); "
            "`notify retry` sends failed or pending messages again; `notify unknown` lists messages whose "
            "sending was interrupted (outcome unknown); `notify resend ID…` sends them again with the same "
            "idempotency id, `notify mark-sent ID…` records them as delivered.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["send", "retry", "unknown", "resend", "mark-sent"])
        parser.add_argument("ids", nargs="*", type=int, help="resend / mark-sent: the messages' ids")
        parser.add_argument("--limit", type=int, default=1000, help="at most this many messages per round (default 1000)")
        parser.add_argument("--every", type=float, metavar="SECONDS",
                            help="send: keep running, one round every SECONDS")

    def handle(self, *args, action, ids, limit, every=None, **options):
        if action in ("resend", "mark-sent"):
            if not ids:
                raise CommandError("请给出通知编号 (give the ids of the messages)")
            n = outbox.settle_unknown(ids, sent=action == "mark-sent")
            self.stdout.write(f"{action}: {n} of {len(ids)} (only messages of unknown outcome are changed)")
            return
        if action == "unknown":
            for m in outbox.unknown(limit):
                self.stdout.write(f"{m.pk}\t{m.kind}\t{m.to}\tattempts {m.attempts}\t"
                                  f"{m.attempted_at:%Y-%m-%d %H:%M:%S}\t{m.idempotency_key}\t{m.error}")
            return
        if action == "retry":
            sent, failed = outbox.retry_failed(limit=limit)
            self.stdout.write(f"sent {sent}, still failing {failed}")
            return
        def round_(_n):
            sent, failed = outbox.send(limit=limit)
            if not every or sent or failed:
                self.stdout.write(f"sent {sent}, failed {failed}")

        repeat(round_, every)
