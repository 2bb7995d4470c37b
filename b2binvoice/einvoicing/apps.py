from django.apps import AppConfig


class EinvoicingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "b2binvoice.einvoicing"
    label = "einvoicing"
