# The "unchanged" state: an identical re-upload has nothing to confirm (choices only; no schema change).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exchange', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='importbatch',
            name='state',
            field=models.CharField(choices=[('rejected', '有错误，未导入'), ('previewed', '待确认'), ('unchanged', '无变化，无需导入'), ('applying', '导入中'), ('done', '已导入'), ('failed', '导入失败，未写入')], max_length=10, verbose_name='状态'),
        ),
    ]
