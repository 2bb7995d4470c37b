from django.contrib import admin

from .models import Invoice, InvoiceAdjustment, InvoiceLine, InvoiceTax


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


admin.site.register(InvoiceLine)
admin.site.register(InvoiceTax)
admin.site.register(InvoiceAdjustment)
