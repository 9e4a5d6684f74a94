from . import admin_receipts  # noqa: F401
