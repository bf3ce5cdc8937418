# Written by hand: Report moved to the reports app (reports/migrations/0001_initial.py takes it over).
# Only Django's record of the models changes; the table indicators_report stays as it is, with its rows.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0009_move_importbatch_to_exchange'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Report')],
            database_operations=[],
        ),
    ]
