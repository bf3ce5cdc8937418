# Written by hand: ImportBatch, created by indicators/migrations/0005_imports_and_reports.py, now belongs here.
# The table keeps its name (Meta.db_table), so only Django's record of the models changes; the content type
# (and with it the permissions and admin log entries) moves to the new app label.

import django.db.models.deletion
import exchange.models
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, old='indicators', new='exchange'):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model='importbatch').exists():
        ContentType.objects.using(db).filter(app_label=old, model='importbatch').update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old='exchange', new='indicators')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('indicators', '0009_move_importbatch_to_exchange'),
        ('planning', '0005_text_limits'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportBatch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('file', models.FileField(upload_to=exchange.models.import_upload_to, verbose_name='文件')),
                        ('original_name', models.CharField(max_length=200, verbose_name='文件名')),
                        ('state', models.CharField(choices=[('rejected', '有错误，未导入'), ('previewed', '待确认'), ('applying', '导入中'), ('done', '已导入'), ('failed', '导入失败，未写入')], max_length=10, verbose_name='状态')),
                        ('year', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='年度')),
                        ('summary', models.JSONField(default=dict, verbose_name='检查结果')),
                        ('result', models.JSONField(default=dict, verbose_name='导入结果')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='上传时间')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='完成时间')),
                        ('plan', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='planning.plan', verbose_name='规划')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='imports', to=settings.AUTH_USER_MODEL, verbose_name='上传人')),
                    ],
                    options={
                        'verbose_name': 'Excel导入',
                        'verbose_name_plural': 'Excel导入',
                        'db_table': 'indicators_importbatch',
                        'ordering': ['-created_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
