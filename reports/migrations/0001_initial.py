# Written by hand: Report, created by indicators/migrations/0005_imports_and_reports.py, now belongs here.
# The table keeps its name (Meta.db_table), so only Django's record of the models changes; the content type
# (and with it the permissions and admin log entries) moves to the new app label.

import django.db.models.deletion
import reports.models
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, old='indicators', new='reports'):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model='report').exists():
        ContentType.objects.using(db).filter(app_label=old, model='report').update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old='reports', new='indicators')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('indicators', '0010_move_report_to_reports'),
        ('planning', '0005_text_limits'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Report',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('year', models.PositiveSmallIntegerField(verbose_name='截至年度')),
                        ('kind', models.CharField(choices=[('annual', '年度监测报告'), ('midterm', '中期评估报告')], max_length=10, verbose_name='类型')),
                        ('state', models.CharField(choices=[('queued', '排队中'), ('running', '生成中'), ('done', '已生成'), ('failed', '生成失败')], default='queued', max_length=10, verbose_name='状态')),
                        ('file', models.FileField(blank=True, upload_to=reports.models.report_upload_to, verbose_name='文件')),
                        ('error', models.TextField(blank=True, verbose_name='错误')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='申请时间')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='完成时间')),
                        ('plan', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='planning.plan', verbose_name='规划')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='申请人')),
                    ],
                    options={
                        'verbose_name': '评估报告',
                        'verbose_name_plural': '评估报告',
                        'db_table': 'indicators_report',
                        'ordering': ['-created_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
