from django.contrib import admin

from typing import Any

from .lock import deletion_refusal, invoice_lock
from .models import Invoice, InvoiceAdjustment, InvoiceChange, InvoiceLine, InvoiceTax


class LineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0


class TaxInline(admin.TabularInline):
    model = InvoiceTax
    extra = 0


class AdjustmentInline(admin.TabularInline):
    model = InvoiceAdjustment
    extra = 0


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "company", "client", "issue_date", "currency", "status"]
    list_filter = ["company", "status", "currency"]
    search_fields = ["number", "client__name"]
    inlines = [LineInline, AdjustmentInline, TaxInline]

    # A locked invoice is corrected by a credit note, not here either (see lock.py).
    def has_change_permission(self, request: Any, obj: Invoice | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or not invoice_lock(obj).locked)

    def has_delete_permission(self, request: Any, obj: Invoice | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or deletion_refusal(obj) is None)


@admin.register(InvoiceChange)
class InvoiceChangeAdmin(admin.ModelAdmin):
    list_display = ["number", "company", "action", "user", "via", "at"]
    list_filter = ["company", "action"]
    search_fields = ["number"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


admin.site.register(InvoiceLine)
admin.site.register(InvoiceTax)
admin.site.register(InvoiceAdjustment)
