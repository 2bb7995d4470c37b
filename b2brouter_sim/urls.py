"""Routes of the simulator, mounted at /sim/ while SIMULATOR_ENABLED."""

from django.urls import path, re_path

from . import pages
from . import views as v

app_name = "b2brouter_sim"

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

# Ids are matched as any path segment: an id that is not a number is a missing record (404
# resource_missing), while a path the simulator has no route for is 501 not_simulated.
urlpatterns = [
    # The API (contract section 2): versioned, keyed, subject to the account's faults.
    path("accounts", v.endpoint(GET=v.list_accounts), name="accounts"),
    path("accounts/<str:account_id>", v.endpoint(GET=v.get_account, PUT=v.update_account), name="account"),
    path("accounts/<str:account_id>/contacts", v.endpoint(GET=v.list_contacts, POST=v.create_contact), name="contacts"),
    path("accounts/<str:account_id>/invoices", v.endpoint(GET=v.list_invoices, POST=v.create_invoice), name="invoices"),
    path(
        "accounts/<str:account_id>/tax_report_settings",
        v.endpoint(GET=v.list_tax_report_settings, POST=v.create_tax_report_setting),
        name="tax-report-settings",
    ),
    path(
        "accounts/<str:account_id>/tax_report_settings/<str:code>",
        v.endpoint(GET=v.get_tax_report_setting, PUT=v.update_tax_report_setting, DELETE=v.delete_tax_report_setting),
        name="tax-report-setting",
    ),
    path(
        "accounts/<str:account_id>/tax_reports",
        v.endpoint(GET=v.list_tax_reports, POST=v.create_tax_report),
        name="tax-reports",
    ),
    path(
        "tax_reports/<str:tax_report_id>",
        v.endpoint(GET=v.get_tax_report, PATCH=v.correct_tax_report, DELETE=v.annul_tax_report),
        name="tax-report",
    ),
    path("tax_reports/<str:tax_report_id>/download", v.endpoint(GET=v.download_tax_report), name="tax-report-download"),
    path(
        "contacts/<str:contact_id>",
        v.endpoint(GET=v.get_contact, PUT=v.update_contact, DELETE=v.delete_contact),
        name="contact",
    ),
    path("invoices/send_invoice/<str:invoice_id>", v.endpoint(POST=v.send_invoice), name="invoice-send"),
    path(
        "invoices/<str:invoice_id>",
        v.endpoint(GET=v.get_invoice, PUT=v.update_invoice, DELETE=v.delete_invoice),
        name="invoice",
    ),
    path("invoices/<str:invoice_id>/validate", v.endpoint(GET=v.validate_invoice), name="invoice-validate"),
    path("invoices/<str:invoice_id>/mark_as", v.endpoint(POST=v.mark_as), name="invoice-mark-as"),
    path("invoices/<str:invoice_id>/add_attachment", v.endpoint(POST=v.add_attachment), name="invoice-add-attachment"),
    path("invoices/<str:invoice_id>/as/<str:document_type>", v.endpoint(GET=v.download), name="invoice-download"),
    path(
        "directory/<str:country>/<str:scheme>/<str:identifier>",
        v.endpoint(GET=v.directory_lookup),
        name="directory-lookup",
    ),
    path("web_hooks", v.endpoint(GET=v.list_webhooks, POST=v.create_webhook_view), name="web-hooks"),
    path("web_hooks/<str:hook_id>", v.endpoint(GET=v.get_webhook, DELETE=v.delete_webhook), name="web-hook"),
    # Control surface for tests and demos (exists only while the simulator is mounted).
    path("_control/accounts", v.endpoint("control", POST=v.control_create_account), name="control-accounts"),
    path(
        "_control/accounts/<str:account_id>/options",
        v.endpoint("control", GET=v.control_get_options, PUT=v.control_set_options),
        name="control-options",
    ),
    path(
        "_control/accounts/<str:account_id>/faults",
        v.endpoint("control", GET=v.control_get_faults, PUT=v.control_set_faults),
        name="control-faults",
    ),
    path(
        "_control/accounts/<int:account_id>/deferred",
        v.endpoint("control", GET=v.control_get_deferred),
        name="control-deferred",
    ),
    path(
        "_control/accounts/<int:account_id>/deferred/apply",
        v.endpoint("control", POST=v.control_apply_deferred),
        name="control-deferred-apply",
    ),
    path("_control/invoices/<str:invoice_id>/advance", v.endpoint("control", POST=v.control_advance), name="control-advance"),
    path(
        "_control/tax_reports/<str:tax_report_id>/advance",
        v.endpoint("control", POST=v.control_advance_tax_report),
        name="control-tax-report-advance",
    ),
    path(
        "_control/directory/<str:country>/<str:scheme>/<str:identifier>",
        v.endpoint("control", PUT=v.control_directory_put, DELETE=v.control_directory_delete),
        name="control-directory",
    ),
    path("openapi.yaml", v.endpoint("static", GET=v.openapi), name="openapi"),
    # Stand-in for B2Brouter's web app.
    path("app/", pages.accounts, name="app-accounts"),
    path("app/accounts/<int:account_id>", pages.account, name="app-account"),
    path("app/accounts/<int:account_id>/developers/webhooks", pages.webhooks, name="app-webhooks"),
    path(
        "app/accounts/<int:account_id>/developers/webhooks/<int:hook_id>/delete",
        pages.webhook_delete,
        name="app-webhook-delete",
    ),
    path("app/invoices/<int:invoice_id>", pages.invoice, name="app-invoice"),
    path("app/invoices/<int:invoice_id>/pdf", pages.invoice_pdf, name="app-invoice-pdf"),
    re_path(r"^app/(?P<path>.*)$", pages.page_not_found),
    # Any other path under /sim/ is a B2Brouter route the simulator does not implement (or no
    # route at all): a JSON 501 not_simulated with a request id, like the API's other errors.
    re_path(r"^(?P<path>.*)$", v.endpoint("static", **{m: v.not_simulated for m in ALL_METHODS}), name="not-simulated"),
]
