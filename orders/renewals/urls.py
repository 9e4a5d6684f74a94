from django.urls import path

from . import views

app_name = "renewals"

urlpatterns = [
    path("licenses/<str:serial>/auto-renewal/", views.switch_on, name="switch_on"),
    path("licenses/<str:serial>/auto-renewal/off/", views.switch_off, name="switch_off"),
    path("licenses/<str:serial>/auto-renewal/card/", views.replace_card, name="replace_card"),
    path("renewals/<str:number>/pay/", views.pay, name="pay"),
]
