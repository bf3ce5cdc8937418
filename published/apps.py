from django.apps import AppConfig


class PublishedConfig(AppConfig):
    name = "published"
    verbose_name = "公开数据"
