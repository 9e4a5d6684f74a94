"""Refund ids kept on payments before refunds had rows of their own become ``Refund`` rows."""

from django.db import migrations


def payments_to_refunds(apps, schema_editor):
    Payment = apps.get_model("orders", "Payment")
    Refund = apps.get_model("orders", "Refund")
    for payment in Payment.objects.exclude(stripe_refund="").exclude(stripe_payment_intent=None):
        Refund.objects.get_or_create(
            stripe_id=payment.stripe_refund,
            defaults={
                "order_id": payment.order_id,
                "stripe_payment_intent": payment.stripe_payment_intent,
                "amount": payment.amount,
                "status": "succeeded",
                "reason": "operator",
            },
        )
    Order = apps.get_model("orders", "Order")
    for order in Order.objects.filter(status="refunded", amount_refunded=0):
        order.amount_refunded = order.amount
        order.save(update_fields=["amount_refunded"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_stripe_payment_methods_refunds_disputes")]

    operations = [
        migrations.RunPython(payments_to_refunds, migrations.RunPython.noop),
        migrations.RemoveField(model_name="payment", name="stripe_refund"),
    ]
