"""The periodic jobs, stored in the database (django-celery-beat) so administrators can change them."""

from django.db import migrations

JOBS = [
    # name, task, crontab (minute, hour), description
    (
        "每日全量重算与预警",
        "indicators.tasks.nightly",
        ("30", "2"),
        "每天凌晨重算全部指标与任务的进度判定，更新预警和逾期未报，并按责任单位发送一份汇总。",
    ),
    (
        "补算待重新计算的项目",
        "indicators.tasks.recompute_pending",
        ("*/10", "*"),
        "每10分钟补算审核通过时因消息队列不可用而未能立即重算的项目。",
    ),
]


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour), description in JOBS:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="Asia/Shanghai",
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "description": description, "enabled": True}
        )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in JOBS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0003_status_flags_notifications"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
