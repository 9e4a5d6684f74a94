from django.conf import settings


def shop(request):
    """Shop-wide values every template may show (name, seller, support contact)."""
    return {"SHOP_NAME": settings.SHOP_NAME, "SELLER": settings.SELLER}
