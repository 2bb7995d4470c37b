from django.urls import path

app_name = "b2brouter_sim"
urlpatterns: list = []
