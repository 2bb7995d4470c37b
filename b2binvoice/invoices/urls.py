from django.urls import path

from . import views

app_name = "invoices"
urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("new/", views.invoice_create, name="create"),
    path("new/totals/", views.invoice_totals, name="totals"),
    path("clients/", views.client_options, name="client_options"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/edit/", views.invoice_edit, name="edit"),
    path("<int:pk>/totals/", views.invoice_totals, name="edit_totals"),
    path("<int:pk>/duplicate/", views.invoice_duplicate, name="duplicate"),
    path("<int:pk>/delete/", views.invoice_delete, name="delete"),
    path("<int:pk>/credit-note/", views.credit_note_create, name="credit_note"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="pdf"),
    path("<int:pk>/payments/", views.payment_create, name="payment_create"),
    path("<int:pk>/payments/<int:payment_pk>/delete/", views.payment_delete, name="payment_delete"),
    path("<int:pk>/payments/b2brouter/", views.payment_retry_b2brouter, name="payment_retry_b2brouter"),
    path("<int:pk>/payments/b2brouter/unpaid/", views.payment_unpaid_b2brouter, name="payment_unpaid_b2brouter"),
]
