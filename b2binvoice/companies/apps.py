from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "b2binvoice.companies"
    label = "companies"

    def ready(self) -> None:
        from . import audit  # noqa: F401 (connects the membership receivers)
