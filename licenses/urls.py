from django.urls import path

from . import views

app_name = "licenses"

urlpatterns = [
    path("", views.license_list, name="list"),
    path("register/", views.register_license, name="register"),
    path("<str:serial>/", views.license_detail, name="detail"),
    path("<str:serial>/codes/", views.add_code, name="add_code"),
    path("<str:serial>/reserve/switch/", views.switch_reserve, name="switch_reserve"),
]
