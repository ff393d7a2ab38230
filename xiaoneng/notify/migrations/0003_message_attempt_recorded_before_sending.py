"""Each attempt is recorded before the message leaves: `sending` and `unknown` states, `attempted_at`, and an
idempotency id (`key`) handed to the gateway.

The key is added empty and filled row by row for the messages not yet sent (a default computed once by
AddField would give every existing row the same id, and a gateway de-duplicating on it would drop all but
one); messages already sent keep none.
"""
import uuid

from django.db import migrations, models


def keys_for_unsent(apps, schema_editor):
    Message = apps.get_model("notify", "Message")
    unsent = Message.objects.filter(key__isnull=True).exclude(state="sent")
    for pk in unsent.values_list("pk", flat=True).iterator(chunk_size=2000):
        Message.objects.filter(pk=pk).update(key=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0002_lean_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="attempted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="key",
            field=models.UUIDField(editable=False, null=True, verbose_name="幂等键"),
        ),
        migrations.RunPython(keys_for_unsent, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, null=True, verbose_name="幂等键"),
        ),
        migrations.AlterField(
            model_name="message",
            name="state",
            field=models.CharField(choices=[("pending", "待发送"), ("sending", "发送中"), ("sent", "已发送"),
                                            ("failed", "发送失败"), ("unknown", "结果不明")],
                                   default="pending", max_length=10, verbose_name="状态"),
        ),
        migrations.RemoveIndex(
            model_name="message",
            name="notify_unsent",
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(condition=models.Q(("state__in", ["pending", "failed", "sending", "unknown"])),
                               fields=["id"], name="notify_unsent"),
        ),
    ]
