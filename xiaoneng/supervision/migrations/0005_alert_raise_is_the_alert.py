"""An alert records its own raising: drop the step rows that repeated it (see AlertStep)."""
from django.db import migrations


def drop_raise_steps(apps, schema_editor):
    apps.get_model("supervision", "AlertStep").objects.filter(kind="raise").delete()


def restore_raise_steps(apps, schema_editor):
    Alert = apps.get_model("supervision", "Alert")
    AlertStep = apps.get_model("supervision", "AlertStep")
    AlertStep.objects.bulk_create(
        (AlertStep(alert_id=pk, kind="raise", to_status="raised", at=at, actor_label="system", text=message)
         for pk, at, message in Alert.objects.values_list("pk", "raised_at", "message").iterator()),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [("supervision", "0004_lean_indexes")]
    operations = [migrations.RunPython(drop_raise_steps, restore_raise_steps)]
