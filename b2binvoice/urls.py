"""URL configuration."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from b2binvoice.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # Unnamespaced because settings.LOGIN_URL / LOGOUT_REDIRECT_URL name them "login".
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("b2binvoice.core.urls")),
    path("clients/", include("b2binvoice.clients.urls")),
    path("invoices/", include("b2binvoice.invoices.urls")),
    path("settings/", include("b2binvoice.companies.urls")),
    path("", include("b2binvoice.einvoicing.urls")),
]

if settings.SIMULATOR_ENABLED:
    urlpatterns.append(path("sim/", include("b2brouter_sim.urls")))
