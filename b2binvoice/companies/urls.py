from django.urls import path

from . import views

app_name = "companies"
urlpatterns = [
    path("company/", views.company_settings, name="company"),
    path("company/switch/", views.switch_company, name="switch"),
    path("taxes/", views.tax_list, name="taxes"),
    path("taxes/new/", views.tax_edit, name="tax_create"),
    path("taxes/<int:pk>/edit/", views.tax_edit, name="tax_edit"),
    path("payment-methods/", views.payment_method_list, name="payment_methods"),
    path("payment-methods/new/", views.payment_method_edit, name="payment_method_create"),
    path("payment-methods/<int:pk>/edit/", views.payment_method_edit, name="payment_method_edit"),
]
