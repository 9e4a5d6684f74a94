from django.conf import settings


def shop(request):
    """Shop-wide values every template may show (name, seller, support contact)."""
    return {
        "SHOP_NAME": settings.SHOP_NAME,
        "SELLER": settings.SELLER,
        # The legal and help pages state the automatic-renewal schedule (DESIGN 6a).
        "AUTO_RENEW_DAYS_BEFORE": settings.AUTO_RENEW_DAYS_BEFORE,
        "AUTO_RENEW_NOTICE_DAYS": settings.AUTO_RENEW_NOTICE_DAYS,
    }
