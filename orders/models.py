"""Orders, payments, webhook events and receipts (built by the checkout issues)."""
