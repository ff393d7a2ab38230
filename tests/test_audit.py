"""The audit log: append-only, hash-chained under a key kept outside the database, written from every
channel, verifiable, and written by concurrent writers without one lock they all queue on."""
import hashlib
import threading
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from xiaoneng.audit.log import acting_as, checkpoint, record, verify
from xiaoneng.audit.models import AuditEntry, ChainHead, Checkpoint
from xiaoneng.orgs.models import Unit

pytestmark = pytest.mark.django_db


@contextmanager
def attacker():
    """Someone with full database access: on PostgreSQL they first drop the append-only triggers
    (disabled in the test's transaction, so the next test has them again)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no pending foreign-key check
            cur.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
            cur.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
    yield connection.cursor()


def sql_rewrite(entries, first: int, mac, **content):
    """Edit entries[first] with SQL and recompute every later hash of its chain, and the chain's head,
    with `mac` — all someone without the audit key can do."""
    prev = entries[first].prev_hash
    with attacker() as cur:
        for n, entry in enumerate(entries[first:]):
            if n == 0:
                for name, value in content.items():
                    setattr(entry, name, value)
            entry.prev_hash = prev
            entry.hash = mac(entry)
            cur.execute("UPDATE audit_auditentry SET object_repr = %s, prev_hash = %s, hash = %s WHERE id = %s",
                        [entry.object_repr, entry.prev_hash, entry.hash, entry.pk])
            prev = entry.hash
        cur.execute("UPDATE audit_chainhead SET last_hash = %s WHERE id = %s", [prev, entries[-1].chain])


def one_chain():
    """The entries of the chain this test's writes went to (one process, one thread: one chain)."""
    chain = AuditEntry.objects.latest("id").chain
    return list(AuditEntry.objects.filter(chain=chain).order_by("seq"))


def test_each_entry_holds_the_hash_of_the_one_before_in_its_chain(world):
    entries = list(AuditEntry.objects.order_by("chain", "seq"))
    assert len(entries) > 5
    for before, after in zip(entries, entries[1:], strict=False):
        if after.chain == before.chain:
            assert (after.seq, after.prev_hash) == (before.seq + 1, before.hash)
    assert all(e.hash == e.compute_mac() for e in entries)


def test_a_model_change_records_who_what_and_before_after(world):
    unit = Unit.objects.create(organ=world.tianhe_bureau, name="办公室")
    with acting_as(world.admin, channel="admin", ip="10.0.0.1"):
        unit.name = "综合办公室"
        unit.save()
    entry = AuditEntry.objects.filter(object_type="orgs.unit", action="update").latest("id")
    assert entry.actor == world.admin and entry.channel == "admin" and entry.ip == "10.0.0.1"
    assert entry.changes == {"name": ["办公室", "综合办公室"]}


def test_deletions_are_recorded_too(world):
    unit = Unit.objects.create(organ=world.tianhe_bureau, name="临时专班")
    pk = unit.pk
    unit.delete()
    assert AuditEntry.objects.filter(object_type="orgs.unit", object_id=str(pk), action="delete").exists()


def test_entries_cannot_be_changed_or_deleted_through_the_model(world):
    entry = AuditEntry.objects.latest("id")
    entry.action = "forged"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def test_verify_passes_on_an_intact_chain(world):
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact" in out.getvalue()


def test_verify_names_the_first_edited_entry(world):
    entries = one_chain()
    victim = entries[3]
    with attacker():
        AuditEntry.objects.filter(pk=victim.pk).update(object_repr="tampered")  # bypasses save(), as SQL would
    checked, broken, reason = verify()
    assert broken.pk == victim.pk and checked == 3 and "hash" in reason
    with pytest.raises(CommandError, match=f"#{victim.pk}"):
        call_command("audit", "verify")


@pytest.mark.parametrize("mac", [
    pytest.param(lambda e: hashlib.sha256((e.prev_hash + e.canonical()).encode()).hexdigest(), id="sha256"),
    pytest.param(lambda e: e.compute_mac(b"a key guessed by the attacker"), id="hmac-with-another-key"),
])
def test_a_rewritten_entry_is_named_even_when_every_later_hash_was_recomputed(world, mac):
    entries = one_chain()
    victim = entries[2]
    sql_rewrite(entries, 2, mac, object_repr="改写后的记录")
    checked, broken, reason = verify()
    assert broken.pk == victim.pk and checked == 2 and "rewritten" in reason
    with pytest.raises(CommandError, match=rf"entry #{victim.pk} \(chain {victim.chain}, entry {victim.seq},"):
        call_command("audit", "verify")


def test_the_database_refuses_to_update_or_delete_an_entry(world):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only triggers are PostgreSQL's")
    entry = AuditEntry.objects.order_by("id").first()
    for statement in ("UPDATE audit_auditentry SET object_repr = 'x' WHERE id = %s",
                      "DELETE FROM audit_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr
    cp = checkpoint("")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Checkpoint.objects.filter(pk=cp.pk).delete()


def test_verify_notices_a_removed_entry_when_the_triggers_were_dropped(world):
    entries = one_chain()
    with attacker():
        AuditEntry.objects.filter(pk=entries[2].pk).delete()  # queryset delete bypasses the model guard
    _checked, broken, reason = verify()
    assert broken.pk == entries[3].pk and "missing" in reason


def test_verify_notices_entries_cut_from_the_end(world):
    last = AuditEntry.objects.latest("id")
    with attacker():
        AuditEntry.objects.filter(pk=last.pk).delete()
    _checked, broken, reason = verify()
    assert broken is None and "head" in reason


def cut_the_end_and_move_the_head_back(chain: int):
    entries = list(AuditEntry.objects.filter(chain=chain).order_by("seq"))
    with attacker() as cur:
        cur.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[-1].pk])
        cur.execute("UPDATE audit_chainhead SET last_seq = %s, last_hash = %s, last_entry = %s WHERE id = %s",
                    [entries[-2].seq, entries[-2].hash, entries[-2].pk, chain])


def test_a_signed_checkpoint_catches_entries_cut_from_the_end_with_the_head_moved_back(world):
    cp = checkpoint("")
    chain = AuditEntry.objects.latest("id").chain
    cut_the_end_and_move_the_head_back(chain)
    _checked, broken, reason = verify()
    assert broken is None and f"checkpoint #{cp.pk}" in reason and "removed" in reason


def test_a_checkpoint_edited_without_the_key_is_refused(world):
    cp = checkpoint("")
    chain = AuditEntry.objects.latest("id").chain
    cut_the_end_and_move_the_head_back(chain)
    head = ChainHead.objects.get(pk=chain)
    with attacker() as cur:
        cur.execute("UPDATE audit_checkpoint SET heads = jsonb_set(heads::jsonb, %s, %s)::text::jsonb WHERE id = %s"
                    if connection.vendor == "postgresql" else
                    "UPDATE audit_checkpoint SET heads = json_set(heads, %s, json(%s)) WHERE id = %s",
                    [f"{{{chain}}}" if connection.vendor == "postgresql" else f'$."{chain}"',
                     f'[{head.last_seq}, "{head.last_hash}"]', cp.pk])
    _checked, broken, reason = verify()
    assert broken is None and f"checkpoint #{cp.pk}" in reason and "signature" in reason


def test_the_checkpoint_file_outside_the_database_catches_what_the_database_no_longer_shows(world, tmp_path):
    book = tmp_path / "audit-checkpoints.jsonl"
    first = checkpoint(str(book))
    record("test.after_checkpoint", object_type="x", object_id="1")
    call_command("audit", "checkpoint", "--file", str(book), stdout=StringIO())
    assert len(book.read_text().splitlines()) == 2 and verify(str(book)) == (AuditEntry.objects.count(), None, "")
    chain = AuditEntry.objects.latest("id").chain
    cut_the_end_and_move_the_head_back(chain)
    with attacker():
        Checkpoint.objects.filter(pk__gt=first.pk).delete()  # the database's record of the later checkpoint
    assert "removed" not in verify("")[2]  # the database alone cannot tell (SQLite: nothing at all)
    _checked, broken, reason = verify(str(book))
    assert broken is None and "in the checkpoint file" in reason and "removed" in reason


def test_entries_from_before_the_keyed_chains_stay_verifiable_and_are_anchored_by_a_signed_checkpoint():
    """Migration 0002 turns the old single SHA-256 chain into chain 0 and signs where it ends."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("xiaoneng.audit.migrations.0002_keyed_partitioned_chains")
    assert not AuditEntry.objects.exists()
    prev, at = "0" * 64, timezone.now() - timedelta(days=30)
    for i in range(6):  # as the old record() wrote them; seq not numbered yet (kept apart by the constraint)
        entry = AuditEntry(at=at + timedelta(minutes=i), actor_label="old", channel="system", action="old.write",
                           object_type="x", object_id=str(i), chain=0, seq=-1 - i, prev_hash=prev)
        entry.hash = entry.compute_hash()
        entry.save(force_insert=True)
        prev = entry.hash
    with attacker() as cur:  # the migration numbers the old entries before it creates the triggers
        migration.number_legacy_entries(apps, SimpleNamespace(connection=connection, execute=cur.execute))
    assert verify() == (6, None, "")
    legacy = list(AuditEntry.objects.filter(chain=0).order_by("seq"))
    assert [e.seq for e in legacy] == [1, 2, 3, 4, 5, 6]
    sql_rewrite(legacy, 1, lambda e: hashlib.sha256((e.prev_hash + e.canonical()).encode()).hexdigest(),
                object_repr="改写后的旧记录")
    _checked, broken, reason = verify()
    assert broken.pk == legacy[-1].pk and "checkpoint #" in reason and "rewritten" in reason


def test_concurrent_writers_do_not_wait_for_each_other(world):
    """No row every audited write updates: while this transaction holds its chain, another writes."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    mine = record("test.holding", object_type="x", object_id="1")  # this test's transaction keeps its head locked
    theirs = {}

    def other_writer():
        try:
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute("SET LOCAL lock_timeout = '3s'")
                theirs["entry"] = record("test.concurrent", object_type="x", object_id="2")
                transaction.set_rollback(True)  # leave the shared test database as it was
        except DatabaseError as exc:
            theirs["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_writer)
    thread.start()
    thread.join(30)
    assert "error" not in theirs, theirs.get("error")
    assert theirs["entry"].chain != mine.chain


def test_commands_are_attributed_to_the_command_channel(world):
    with acting_as(None, channel="command", label="cli:root"):
        record("calendar.test", object_type="x", object_id="1")
    entry = AuditEntry.objects.latest("id")
    assert (entry.channel, entry.actor_label) == ("command", "cli:root")


def test_an_admin_change_lands_in_the_log_with_the_admin_channel(world, client):
    client.force_login(world.admin, backend="django.contrib.auth.backends.ModelBackend")
    organ = world.tianhe_bureau
    url = f"/admin/orgs/organ/{organ.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"name": "广州市天河区市场监督管理局（更名）", "region": organ.region_id, "parent": organ.parent_id,
                 "units-TOTAL_FORMS": 0, "units-INITIAL_FORMS": 0})
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    entry = AuditEntry.objects.filter(object_type="orgs.organ", object_id=str(organ.pk), action="update").latest("id")
    assert entry.channel == "admin" and entry.actor == world.admin
    assert entry.changes["name"][1].endswith("（更名）")


def test_a_command_run_through_the_console_script_is_attributed_to_the_command_channel(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "XIAONENG_VAR_DIR": str(tmp_path)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "xiaoneng", *a], capture_output=True, text=True, env=env, timeout=120)  # noqa: E731
    assert run("migrate", "-v", "0").returncode == 0
    notice = tmp_path / "2027.txt"
    notice.write_text("year: 2027\nholiday: 2027-01-01 元旦\n", encoding="utf-8")
    assert run("calendar", "import", str(notice)).returncode == 0
    out = run("shell", "-c", "from xiaoneng.audit.models import AuditEntry as A; e=A.objects.latest('id'); print(e.channel, e.actor_label)")
    channel, label = out.stdout.strip().splitlines()[-1].split()
    assert channel == "command" and label.startswith("cli:")
