"""Keyed, partitioned chains (issue 11 item 9; DESIGN §6 "no global write lock").

* entries get their chain and place in it; the existing ones become chain 0's first entries,
  in id order, still checked with the plain SHA-256 they were written with;
* one head row per chain (the old single head, pk=1, becomes chain 0's);
* a checkpoint signed with the audit key says where those legacy entries end, so rewriting
  them (and recomputing their SHA-256s) no longer goes unnoticed;
* on PostgreSQL, triggers refuse UPDATE and DELETE on entries and checkpoints.
"""
from django.db import migrations, models
from django.utils import timezone

PARTITIONS = 16  # as audit.models.PARTITIONS when this migration was written

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION xiaoneng_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION xiaoneng_audit_append_only();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION xiaoneng_audit_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint;
DROP FUNCTION IF EXISTS xiaoneng_audit_append_only();
"""


def number_legacy_entries(apps, schema_editor):
    from xiaoneng.audit.models import Checkpoint as Current
    from xiaoneng.audit.models import sign

    AuditEntry = apps.get_model("audit", "AuditEntry")
    ChainHead = apps.get_model("audit", "ChainHead")
    Checkpoint = apps.get_model("audit", "Checkpoint")
    db = schema_editor.connection.alias
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE audit_auditentry e SET chain = 0, seq = r.n "
            "FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_auditentry) r WHERE e.id = r.id")
    else:
        batch, n = [], 0
        for entry in AuditEntry.objects.using(db).order_by("id").only("id").iterator(chunk_size=2000):
            n += 1
            entry.chain, entry.seq = 0, n
            batch.append(entry)
            if len(batch) == 2000:
                AuditEntry.objects.using(db).bulk_update(batch, ["chain", "seq"])
                batch = []
        AuditEntry.objects.using(db).bulk_update(batch, ["chain", "seq"])
    last = AuditEntry.objects.using(db).order_by("-seq").first()
    ChainHead.objects.using(db).all().delete()
    ChainHead.objects.using(db).bulk_create(
        [ChainHead(pk=i) for i in range(1, PARTITIONS)]
        + [ChainHead(pk=0, last_hash=last.hash if last else "0" * 64, last_entry=last.pk if last else 0,
                     last_seq=last.seq if last else 0)])
    if last:
        at, heads = timezone.now(), {"0": [last.seq, last.hash]}
        Checkpoint.objects.using(db).create(at=at, heads=heads, legacy=True,
                                            mac=sign(Current.message(at, heads, True)))


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cur:  # no parameters: the '%' are PL/pgSQL's
            cur.execute(APPEND_ONLY)


def not_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cur:
            cur.execute(DROP_APPEND_ONLY)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="auditentry", name="chain", field=models.PositiveSmallIntegerField(default=0)),
        migrations.AddField(model_name="auditentry", name="seq", field=models.BigIntegerField(default=0)),
        migrations.AddField(model_name="chainhead", name="last_seq", field=models.BigIntegerField(default=0)),
        migrations.AlterField(model_name="chainhead", name="id",
                              field=models.PositiveSmallIntegerField(default=0, primary_key=True, serialize=False)),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(verbose_name="时间")),
                ("heads", models.JSONField(default=dict)),
                ("legacy", models.BooleanField(default=False)),
                ("mac", models.CharField(max_length=64)),
            ],
            options={"verbose_name": "审计检查点", "verbose_name_plural": "审计检查点", "ordering": ["id"]},
        ),
        migrations.RunPython(number_legacy_entries, migrations.RunPython.noop),
        migrations.AddConstraint(model_name="auditentry",
                                 constraint=models.UniqueConstraint(fields=("chain", "seq"), name="audit_entry_chain_seq")),
        migrations.RunPython(append_only, not_append_only),
    ]
