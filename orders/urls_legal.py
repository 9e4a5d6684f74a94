from django.urls import path

from . import views

app_name = "legal"

urlpatterns = [
    path("terms/", views.legal_document, {"document": "terms"}, name="terms"),
    path("privacy/", views.legal_document, {"document": "privacy"}, name="privacy"),
    path("tokushoho/", views.legal_document, {"document": "tokushoho"}, name="tokushoho"),
]
