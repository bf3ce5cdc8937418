# Written by hand: Notification moved to the planning app (planning/migrations/0007 takes it over), beside the
# reviewed-entry workflow that now sends most notifications. The table indicators_notification stays, with its rows.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0010_move_report_to_reports'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Notification')],
            database_operations=[],
        ),
    ]
