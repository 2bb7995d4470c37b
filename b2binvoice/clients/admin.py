from django.contrib import admin

from .models import Client


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "tin", "country", "city", "email"]
    list_filter = ["company", "country"]
    search_fields = ["name", "tin"]
    filter_horizontal = ["default_taxes"]
