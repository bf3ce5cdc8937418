"""Two more periodic jobs (django-celery-beat, so administrators can change them): the daily deadline reminders and
the catch-up of mail and group-robot messages the on-commit tasks could not deliver."""

from django.db import migrations

JOBS = [
    # name, task, crontab (minute, hour), description
    (
        "填报截止提醒",
        "indicators.tasks.deadline_reminders",
        ("0", "8"),
        "每天8:00：填报截止前14天、前3天和截止后第二天，提醒每位填报员其尚未提交审核的项目数（每人每个提醒只发一次）。",
    ),
    (
        "补发通知邮件与群机器人消息",
        "planning.tasks.catch_up_deliveries",
        ("*/10", "*"),
        "每10分钟补发一天内因邮件服务器、群机器人或消息队列故障而未能送达的通知邮件和群机器人消息。",
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
        ("indicators", "0012_target_adjustments_and_predecessors"),
        ("planning", "0008_notifications_webhooks_progress_questions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
