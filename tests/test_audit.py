"""The audit log: append-only, hash-chained, written from every channel, verifiable."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from xiaoneng.audit.log import acting_as, record, verify
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.models import Unit

pytestmark = pytest.mark.django_db


def test_each_entry_holds_the_hash_of_the_one_before(world):
    entries = list(AuditEntry.objects.order_by("id"))
    assert len(entries) > 5
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash


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
    entries = list(AuditEntry.objects.order_by("id"))
    victim = entries[3]
    AuditEntry.objects.filter(pk=victim.pk).update(object_repr="tampered")  # bypasses save(), as SQL would
    checked, broken, reason = verify()
    assert broken.pk == victim.pk and checked == 3 and "hash" in reason
    with pytest.raises(CommandError, match=f"#{victim.pk}"):
        call_command("audit", "verify")


def test_verify_notices_a_removed_entry(world):
    entries = list(AuditEntry.objects.order_by("id"))
    AuditEntry.objects.filter(pk=entries[2].pk).delete()  # queryset delete bypasses the model guard
    _checked, broken, _reason = verify()
    assert broken.pk == entries[3].pk


def test_verify_notices_entries_cut_from_the_end(world):
    last = AuditEntry.objects.latest("id")
    AuditEntry.objects.filter(pk=last.pk).delete()
    _checked, broken, reason = verify()
    assert broken is None and "head" in reason


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
