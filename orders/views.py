from django.shortcuts import render

from .legal import DOCUMENT_VERSIONS


def legal_document(request, document: str):
    return render(request, f"legal/{document}.html", {"version": DOCUMENT_VERSIONS[document]})
