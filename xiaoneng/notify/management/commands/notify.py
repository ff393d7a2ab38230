from django.core.management.base import BaseCommand

from xiaoneng.notify.outbox import retry_failed


class Command(BaseCommand):
    help = "通知发件箱：retry 重发失败或未发送的通知。Outbox: `notify retry` sends failed or pending messages again."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["retry"])
        parser.add_argument("--limit", type=int, default=1000, help="at most this many messages (default 1000)")

    def handle(self, *args, action, limit, **options):
        sent, failed = retry_failed(limit=limit)
        self.stdout.write(f"sent {sent}, still failing {failed}")
