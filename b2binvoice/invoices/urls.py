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
]
