"""Receipt URLs, included at ``orders/`` beside the order pages (``""`` and ``"<number>/"``)."""

from django.urls import path

from . import views_receipts

app_name = "receipts"

urlpatterns = [
    path("<str:number>/receipt/", views_receipts.receipt_page, name="detail"),
    path("<str:number>/receipt/request/", views_receipts.request_receipt, name="request"),
    path("<str:number>/receipt.pdf", views_receipts.download_receipt, name="download"),
]
