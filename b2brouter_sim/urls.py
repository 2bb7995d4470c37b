"""Routes of the simulator, mounted at /sim/ while SIMULATOR_ENABLED."""

from django.urls import path, re_path

from . import pages
from . import views as v

app_name = "b2brouter_sim"

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

urlpatterns = [
    # The API (contract section 2): versioned, keyed, subject to the account's faults.
    path("accounts", v.endpoint(GET=v.list_accounts), name="accounts"),
    path("accounts/<int:account_id>", v.endpoint(GET=v.get_account, PUT=v.update_account), name="account"),
    path("accounts/<int:account_id>/contacts", v.endpoint(GET=v.list_contacts, POST=v.create_contact), name="contacts"),
    path("accounts/<int:account_id>/invoices", v.endpoint(GET=v.list_invoices, POST=v.create_invoice), name="invoices"),
    path(
        "contacts/<int:contact_id>",
        v.endpoint(GET=v.get_contact, PUT=v.update_contact, DELETE=v.delete_contact),
        name="contact",
    ),
    path("invoices/send_invoice/<int:invoice_id>", v.endpoint(POST=v.send_invoice), name="invoice-send"),
    path(
        "invoices/<int:invoice_id>",
        v.endpoint(GET=v.get_invoice, PUT=v.update_invoice, DELETE=v.delete_invoice),
        name="invoice",
    ),
    path("invoices/<int:invoice_id>/validate", v.endpoint(GET=v.validate_invoice), name="invoice-validate"),
    path("invoices/<int:invoice_id>/mark_as", v.endpoint(POST=v.mark_as), name="invoice-mark-as"),
    path("invoices/<int:invoice_id>/as/<str:document_type>", v.endpoint(GET=v.download), name="invoice-download"),
    path("web_hooks", v.endpoint(GET=v.list_webhooks, POST=v.create_webhook_view), name="web-hooks"),
    path("web_hooks/<int:hook_id>", v.endpoint(GET=v.get_webhook, DELETE=v.delete_webhook), name="web-hook"),
    # Control surface for tests and demos (exists only while the simulator is mounted).
    path("_control/accounts", v.endpoint("control", POST=v.control_create_account), name="control-accounts"),
    path(
        "_control/accounts/<int:account_id>/faults",
        v.endpoint("control", GET=v.control_get_faults, PUT=v.control_set_faults),
        name="control-faults",
    ),
    path("_control/invoices/<int:invoice_id>/advance", v.endpoint("control", POST=v.control_advance), name="control-advance"),
    path("openapi.yaml", v.endpoint("static", GET=v.openapi), name="openapi"),
    # Read-only stand-in for B2Brouter's web app.
    path("app/", pages.accounts, name="app-accounts"),
    path("app/accounts/<int:account_id>", pages.account, name="app-account"),
    path("app/invoices/<int:invoice_id>", pages.invoice, name="app-invoice"),
    path("app/invoices/<int:invoice_id>/pdf", pages.invoice_pdf, name="app-invoice-pdf"),
    re_path(r"^app/(?P<path>.*)$", pages.page_not_found),
    # Anything else under /sim/ answers a JSON 404 with a request id, like the API does.
    re_path(r"^(?P<path>.*)$", v.endpoint("static", **{m: v.not_found for m in ALL_METHODS}), name="not-found"),
]
