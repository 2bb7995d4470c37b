from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "b2brouter_sim"
    label = "b2brouter_sim"
    verbose_name = "B2Brouter simulator"
