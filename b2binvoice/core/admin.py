"""The admin's view of authenticator apps: who has one, never the secret."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuthenticatorDevice

# django-otp's own TOTP devices are not used (their secret is stored in plain text; migration core 0003
# moved them to AuthenticatorDevice): keep the admin from offering to create one.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    """List, inspect and delete (for a lost phone) users' authenticator apps; no secret is shown or set here."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count",
              "throttling_failure_timestamp"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:  # its user adds one, with the QR code
        return False
