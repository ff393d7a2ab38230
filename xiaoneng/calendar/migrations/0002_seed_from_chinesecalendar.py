from django.db import migrations


def seed(apps, schema_editor):
    """Load every year the pinned `chinesecalendar` knows, so a new database is usable."""
    from xiaoneng.calendar.sources import package_years

    CalendarDay = apps.get_model("workcalendar", "CalendarDay")
    CalendarYear = apps.get_model("workcalendar", "CalendarYear")
    CalendarRevision = apps.get_model("workcalendar", "CalendarRevision")
    import chinese_calendar

    source = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')}".strip()
    rows = []
    for year, days in package_years().items():
        CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
        rows.extend(
            CalendarDay(date=d.date, is_working=d.is_working, kind=d.kind, name=d.name, source=source) for d in days
        )
    CalendarDay.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    CalendarRevision.objects.update_or_create(pk=1, defaults={"number": 1})


class Migration(migrations.Migration):
    dependencies = [("workcalendar", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
