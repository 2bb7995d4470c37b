from django.urls import path

app_name = "einvoicing"
urlpatterns: list = []
