from django.db import migrations


def recompute(apps, schema_editor):
    """Years not loaded now keep the statutory holidays: the open clocks that reach into one were
    computed by the weekend rule alone, and their stored due dates must move."""
    Clock = apps.get_model("clocks", "Clock")
    if not Clock.objects.filter(provisional=True).exclude(state="stopped").exists():
        return  # a new database, or nothing open reaches an unloaded year: the live code is not needed
    from xiaoneng.clocks import engine
    from xiaoneng.clocks.models import Clock as LiveClock

    engine.recompute(LiveClock.objects.filter(provisional=True).exclude(state=LiveClock.State.STOPPED))


class Migration(migrations.Migration):
    dependencies = [
        ("workcalendar", "0002_seed_from_chinesecalendar"),
        ("clocks", "0004_references_without_constraints"),
    ]
    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
