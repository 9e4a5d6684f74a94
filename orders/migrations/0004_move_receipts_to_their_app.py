"""Receipts move to their own nested app (``orders.receipts``, label ``receipts``).

The tables are renamed to the new app's names and the models leave this app's state; the receipts
app's first migration takes them over without touching the database.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0003_sentmail'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name='receipt', table='receipts_receipt'),
                migrations.AlterModelTable(name='receiptevent', table='receipts_receiptevent'),
                migrations.AlterModelTable(name='receiptcounter', table='receipts_receiptcounter'),
            ],
            state_operations=[
                migrations.RemoveField(
                    model_name='receipt',
                    name='issued_by',
                ),
                migrations.RemoveField(
                    model_name='receipt',
                    name='order',
                ),
                migrations.RemoveField(
                    model_name='receipt',
                    name='requested_by',
                ),
                migrations.RemoveField(
                    model_name='receiptevent',
                    name='receipt',
                ),
                migrations.DeleteModel(
                    name='ReceiptCounter',
                ),
                migrations.RemoveField(
                    model_name='receiptevent',
                    name='actor',
                ),
                migrations.DeleteModel(
                    name='Receipt',
                ),
                migrations.DeleteModel(
                    name='ReceiptEvent',
                ),
            ],
        ),
    ]
