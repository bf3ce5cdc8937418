# Written by hand: Notification, created by indicators/migrations/0003, now belongs here. The table keeps its name
# (Meta.db_table), so only Django's record of the model changes; the content type moves to the new app label.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, old='indicators', new='planning'):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model='notification').exists():
        ContentType.objects.using(db).filter(app_label=old, model='notification').update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old='planning', new='indicators')


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0011_move_notification_to_planning'),
        ('planning', '0006_plan_public_page'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200, verbose_name='标题')),
                        ('body', models.TextField(verbose_name='内容')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='时间')),
                        ('read_at', models.DateTimeField(blank=True, null=True, verbose_name='已读时间')),
                        ('unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='planning.unit', verbose_name='单位')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL, verbose_name='用户')),
                    ],
                    options={
                        'db_table': 'indicators_notification',
                        'verbose_name': '通知',
                        'verbose_name_plural': '通知',
                        'ordering': ['-created_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
