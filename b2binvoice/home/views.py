"""The home page: what is owed, what needs attention, and the last 12 months."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from b2binvoice.core.tenancy import company_required
from b2binvoice.invoices.views import ISSUED_OR_PAID

from .attention import b2brouter_problems, overdue
from .chart import bar_chart
from .owed import owed


@never_cache
@company_required
def home(request: HttpRequest) -> HttpResponse:
    """Summarise the current company's invoices per currency, the ones that need attention, and a chart."""
    company = request.company  # type: ignore[attr-defined]
    figures = owed(company)
    blocked, failed = b2brouter_problems(company)
    charts = [bar_chart(currency, figures.months, amounts) for currency, amounts in sorted(
        figures.monthly.items(), key=lambda item: (item[0] != company.default_currency, item[0]))]
    return render(request, "home/home.html", {
        "figures": figures, "charts": charts, "overdue": overdue(company, figures.today),
        "blocked": blocked, "failed": failed,
        # "Issued in <year>" leads to the list of that year's issued (and since paid) invoices.
        "issued_query": urlencode({"status": ISSUED_OR_PAID, "from": dt.date(figures.today.year, 1, 1).isoformat(),
                                   "to": dt.date(figures.today.year, 12, 31).isoformat()}),
    })
