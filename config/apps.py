"""django-rest-knox as installed here: named in Chinese, with an admin in which administrators revoke tokens."""

from __future__ import annotations

from django.apps import AppConfig


class KnoxConfig(AppConfig):
    name = "knox"
    verbose_name = "API 令牌"

    def ready(self) -> None:
        model = self.get_model("AuthToken")
        # Display names only: migrations read the model's original Meta, so this changes no schema.
        model._meta.verbose_name = model._meta.verbose_name_plural = "令牌"
        from config import token_admin

        token_admin.register()
