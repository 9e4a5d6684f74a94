"""Receipt mails are recorded like every order mail, as ``orders.SentMail`` rows keyed by event
(``receipt_issued:<event>``, ``receipt_declined:<event>``): the mails already sent are copied
there before ``ReceiptEvent.mailed_at`` goes, so none is sent again."""

from django.db import migrations


def copy_mailed_events(apps, schema_editor):
    db = schema_editor.connection.alias
    receipt_event = apps.get_model("receipts", "ReceiptEvent")
    sent_mail = apps.get_model("orders", "SentMail")
    mailed = receipt_event.objects.using(db).filter(mailed_at__isnull=False)
    sent_mail.objects.using(db).bulk_create(
        [
            sent_mail(
                order_id=event.receipt.order_id,
                key=f"receipt_{'declined' if event.kind == 'declined' else 'issued'}:{event.pk}",
                to=event.receipt.order.email or getattr(event.receipt.order.customer, "email", ""),
                sent_at=event.mailed_at,
            )
            for event in mailed.select_related("receipt__order__customer")
        ],
        ignore_conflicts=True,
    )


def copy_sent_mails_back(apps, schema_editor):
    db = schema_editor.connection.alias
    receipt_event = apps.get_model("receipts", "ReceiptEvent")
    sent_mail = apps.get_model("orders", "SentMail")
    for mail in sent_mail.objects.using(db).filter(key__startswith="receipt_"):
        event_id = int(mail.key.rpartition(":")[2])
        receipt_event.objects.using(db).filter(pk=event_id).update(mailed_at=mail.sent_at)


class Migration(migrations.Migration):

    dependencies = [
        ('receipts', '0001_initial'),
        ('orders', '0004_move_receipts_to_their_app'),
    ]

    operations = [
        migrations.RunPython(copy_mailed_events, copy_sent_mails_back),
        migrations.RemoveField(
            model_name='receiptevent',
            name='mailed_at',
        ),
    ]
