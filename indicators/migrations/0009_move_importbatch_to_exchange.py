# Written by hand: ImportBatch moved to the exchange app (exchange/migrations/0001_initial.py takes it over).
# Only Django's record of the models changes; the table indicators_importbatch stays as it is, with its rows.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0008_text_limits'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ImportBatch')],
            database_operations=[],
        ),
    ]
