from django.contrib import admin

from .models import Company, Membership, PaymentMethod, Tax


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
    list_display = ["name", "company", "kind", "rate", "amount", "category", "is_active"]
    list_filter = ["company", "kind", "category"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "type", "iban", "bic", "is_active"]
    list_filter = ["company", "type"]
