"""Count the open flags of every plan that exists when FlagCount arrives (later plans are counted as they load)."""

from django.db import migrations


def count_flags(apps, schema_editor):  # type: ignore[no-untyped-def]
    # The app's own rebuild (indicators.summaries), so the rows are exactly those the readers expect; on a new
    # database there are no plans yet and this does nothing.
    from indicators.summaries import flag_counts_rebuild

    for plan_id in apps.get_model("planning", "Plan").objects.values_list("pk", flat=True):
        flag_counts_rebuild(plan_id)


class Migration(migrations.Migration):
    dependencies = [("indicators", "0016_status_region_year_index")]

    operations = [migrations.RunPython(count_flags, migrations.RunPython.noop)]
