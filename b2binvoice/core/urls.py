from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from b2binvoice.home.views import home

from . import compliance, language, twofactor, views

app_name = "core"
urlpatterns = [
    path("", home, name="home"),
    path("about/compliance/", compliance.declaration, name="compliance"),
    path("login/verify/", twofactor.verify, name="otp_verify"),
    path("account/", views.account, name="account"),
    path("language/", language.set_language, name="set_language"),
    path("account/two-factor/", twofactor.two_factor, name="two_factor"),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("core:password_change_done")),
        name="password_change",
    ),
    path("account/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
