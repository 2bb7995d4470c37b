from django.urls import path

from . import views

app_name = "companies"
urlpatterns = [
    path("company/", views.company_settings, name="company"),
    path("history/", views.settings_history, name="history"),
    path("company/switch/", views.switch_company, name="switch"),
    path("taxes/", views.tax_list, name="taxes"),
    path("taxes/new/", views.tax_edit, name="tax_create"),
    path("taxes/<int:pk>/edit/", views.tax_edit, name="tax_edit"),
    path("units/", views.unit_list, name="units"),
    path("units/new/", views.unit_edit, name="unit_create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:pk>/delete/", views.unit_delete, name="unit_delete"),
    path("payment-methods/", views.payment_method_list, name="payment_methods"),
    path("payment-methods/new/", views.payment_method_edit, name="payment_method_create"),
    path("payment-methods/<int:pk>/edit/", views.payment_method_edit, name="payment_method_edit"),
]
