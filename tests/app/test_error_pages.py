"""Error pages in production (DEBUG off): in the visitor's language, styled by the site's stylesheet."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import include, path

from b2binvoice.invoices.models import Invoice
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    company,
    customer,
    make_invoice,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db
PRODUCTION = {"DEBUG": False, "ROOT_URLCONF": __name__}
SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view broke")


# The app's own URLs, and two views that fail as a bug or a refused permission would.
urlpatterns = [
    path("_test/forbidden/", forbidden),
    path("_test/broken/", broken),
    path("", include("b2binvoice.urls")),
]


def styled_without_inline_styles(html: str) -> None:
    assert 'href="/static/b2binvoice/app.css"' in html
    assert "style=" not in html and "<style" not in html and "<script>" not in html


@override_settings(**PRODUCTION)
def test_a_missing_page_is_a_translated_404(client: HttpClient) -> None:
    response = client.get("/nope/", **SPANISH)
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "<h1>Página no encontrada</h1>" in html and "Not Found" not in html
    assert "Ir a la página de inicio" in html
    styled_without_inline_styles(html)


@override_settings(**PRODUCTION)
def test_a_logged_in_user_gets_the_404_inside_the_site(web: HttpClient, company) -> None:
    response = web.get("/invoices/999999/", HTTP_ACCEPT_LANGUAGE="ca")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Pàgina no trobada" in html
    assert 'class="site-header' in html and "Lingua" in html  # the header with the user's company


@override_settings(**PRODUCTION)
def test_a_refused_permission_is_a_translated_403(client: HttpClient) -> None:
    response = client.get("/_test/forbidden/", **SPANISH)
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Acceso denegado</h1>" in html and "403 Forbidden" not in html
    styled_without_inline_styles(html)


@override_settings(**PRODUCTION)
def test_a_server_error_is_a_translated_500_that_needs_no_database(django_assert_num_queries) -> None:
    client = HttpClient(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get("/_test/broken/", **SPANISH)
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="es">' in html and "<h1>Error del servidor</h1>" in html
    assert "Server Error (500)" not in html and "the view broke" not in html
    styled_without_inline_styles(html)


@override_settings(**PRODUCTION)
def test_the_locked_invoice_keeps_its_own_403_page(web: HttpClient, company, customer, vat) -> None:
    invoice = make_invoice(company, customer, taxes=[vat])
    Invoice.objects.filter(pk=invoice.pk).update(status="issued")
    response = web.get(f"/invoices/{invoice.pk}/delete/", **SPANISH)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Acceso denegado" not in html
    assert re.search(r"INV-0001", html)
