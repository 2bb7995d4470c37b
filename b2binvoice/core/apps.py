from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "b2binvoice.core"
    label = "core"

    def ready(self) -> None:
        from b2binvoice.core.catalogues import compile_if_stale

        compile_if_stale()
