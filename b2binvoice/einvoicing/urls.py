from django.urls import path

from . import views, views_bulk, views_health, views_probe

app_name = "einvoicing"
urlpatterns = [
    path("settings/integrations/b2brouter/", views.settings_page, name="settings"),
    path("settings/integrations/b2brouter/check/", views.settings_check, name="settings_check"),
    path("settings/integrations/b2brouter/apply/", views.settings_apply, name="settings_apply"),
    path("settings/integrations/b2brouter/webhook/", views.settings_webhook, name="settings_webhook"),
    path("settings/integrations/b2brouter/webhook/secret/", views.settings_webhook_secret,
         name="settings_webhook_secret"),
    path("settings/integrations/b2brouter/probe/", views_probe.settings_probe, name="settings_probe"),
    path("settings/integrations/b2brouter/health/", views_health.health_panel, name="health"),
    path("settings/integrations/b2brouter/sync/", views_health.sync_now, name="sync_now"),
    path("webhooks/b2brouter/<str:token>/", views.webhook, name="webhook"),
    path("invoices/<int:pk>/b2brouter/", views.invoice_page, name="invoice"),
    path("invoices/<int:pk>/b2brouter/create/", views.invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/b2brouter/reconcile/", views.invoice_reconcile, name="invoice_reconcile"),
    path("invoices/<int:pk>/b2brouter/refresh/", views.invoice_refresh, name="invoice_refresh"),
    path("invoices/<int:pk>/b2brouter/send/", views.invoice_send, name="invoice_send"),
    path("invoices/<int:pk>/b2brouter/unlink/", views.invoice_unlink, name="invoice_unlink"),
    path("invoices/<int:pk>/b2brouter/recreate/", views.invoice_recreate, name="invoice_recreate"),
    path("invoices/<int:pk>/b2brouter/delete/", views.invoice_delete_remote, name="invoice_delete_remote"),
    path("invoices/<int:pk>/b2brouter/link/", views.invoice_link, name="invoice_link"),
    path("invoices/<int:pk>/b2brouter/download/<str:kind>/", views.invoice_download, name="invoice_download"),
    path("invoices/b2brouter/bulk/", views_bulk.bulk_confirm, name="bulk_confirm"),
    path("invoices/b2brouter/bulk/start/", views_bulk.bulk_start, name="bulk_start"),
    path("invoices/b2brouter/bulk/<int:pk>/", views_bulk.bulk_run_page, name="bulk_run"),
    path("clients/<int:pk>/b2brouter/match/", views.client_match, name="client_match"),
    path("clients/<int:pk>/b2brouter/contact/", views.client_create_contact, name="client_create_contact"),
    path("clients/<int:pk>/b2brouter/directory/", views.client_check_directory, name="client_check_directory"),
    path("clients/<int:pk>/b2brouter/forget/", views.client_forget_contact, name="client_forget_contact"),
    path("clients/<int:pk>/b2brouter/contact/update/", views.client_update_contact, name="client_update_contact"),
    path("clients/<int:pk>/b2brouter/contact/confirm/", views.client_confirm_contact, name="client_confirm_contact"),
    path("clients/<int:pk>/b2brouter/contacts/", views.client_choose_contact, name="client_choose_contact"),
]
