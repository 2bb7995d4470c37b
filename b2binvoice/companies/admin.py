from django.contrib import admin

from .models import Company, Membership, PaymentMethod, Tax, UnitMapping


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "tin", "country", "default_currency", "invoice_prefix", "invoice_next_number"]
    search_fields = ["name", "tin"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role"]
    list_filter = ["role"]


@admin.register(Tax)
class TaxAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "tax_type", "kind", "rate", "amount", "category", "is_active"]
    list_filter = ["company", "tax_type", "kind", "category"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "type", "iban", "bic", "is_active"]
    list_filter = ["company", "type"]


@admin.register(UnitMapping)
class UnitMappingAdmin(admin.ModelAdmin):
    list_display = ["label", "company", "code"]
    list_filter = ["company"]
