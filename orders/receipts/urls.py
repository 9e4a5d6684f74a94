"""Receipt URLs, included at ``orders/`` beside the order pages (``""`` and ``"<number>/"``)."""

from django.urls import path

from . import views

app_name = "receipts"

urlpatterns = [
    path("<str:number>/receipt/", views.receipt_page, name="detail"),
    path("<str:number>/receipt/request/", views.request_receipt, name="request"),
    path("<str:number>/receipt.pdf", views.download_receipt, name="download"),
]
