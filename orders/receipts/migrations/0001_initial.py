"""The receipt models, taken over from ``orders`` (``orders.0004``): state only, the tables exist."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MODELS = ("receipt", "receiptevent", "receiptcounter")


def move_content_types(apps, schema_editor, *, source="orders", target="receipts"):
    """Permissions (``issue_receipt``, the views) follow the models to the new app label, so
    the support group keeps them."""
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model in MODELS:
        if not rows.filter(app_label=target, model=model).exists():
            rows.filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="receipts", target="orders")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('orders', '0004_move_receipts_to_their_app'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReceiptCounter',
                    fields=[
                        ('year', models.PositiveSmallIntegerField(primary_key=True, serialize=False, verbose_name='year')),
                        ('last_number', models.PositiveIntegerField(default=0, verbose_name='last number used')),
                    ],
                    options={
                        'verbose_name': 'receipt number counter',
                        'verbose_name_plural': 'receipt number counters',
                    },
                ),
                migrations.CreateModel(
                    name='Receipt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('state', models.CharField(choices=[('requested', 'Requested'), ('issued', 'Issued'), ('declined', 'Declined')], default='requested', max_length=20, verbose_name='state')),
                        ('addressee', models.CharField(max_length=40, verbose_name='addressee')),
                        ('proviso', models.CharField(max_length=60, verbose_name='proviso')),
                        ('number', models.CharField(blank=True, editable=False, max_length=20, null=True, unique=True, verbose_name='receipt number')),
                        ('issue_count', models.PositiveSmallIntegerField(default=0, help_text='1 for the original; each reissue adds one.', verbose_name='times issued')),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='requested at')),
                        ('issued_at', models.DateTimeField(blank=True, null=True, verbose_name='first issued at')),
                        ('last_issued_at', models.DateTimeField(blank=True, help_text='The issue date printed on the receipt; a reissue moves it.', null=True, verbose_name='last issued at')),
                        ('decline_reason', models.TextField(blank=True, verbose_name='reason for declining')),
                        ('pdf', models.FileField(blank=True, editable=False, upload_to='receipts/%Y/', verbose_name='PDF')),
                        ('pdf_issue_count', models.PositiveSmallIntegerField(default=0, editable=False, verbose_name='PDF rendered for issue')),
                        ('issued_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='last issued by')),
                        ('order', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='orders.order', verbose_name='order')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                    ],
                    options={
                        'verbose_name': 'receipt',
                        'verbose_name_plural': 'receipts',
                        'ordering': ['-requested_at', '-id'],
                        'permissions': [('issue_receipt', 'Can issue, reissue and decline receipts')],
                    },
                ),
                migrations.CreateModel(
                    name='ReceiptEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('requested', 'Requested'), ('issued', 'Issued'), ('reissued', 'Reissued'), ('declined', 'Declined'), ('rendered', 'PDF stored')], max_length=20, verbose_name='kind')),
                        ('issue_count', models.PositiveSmallIntegerField(default=0, verbose_name='times issued')),
                        ('note', models.TextField(blank=True, verbose_name='note')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                        ('mailed_at', models.DateTimeField(blank=True, null=True, verbose_name='customer mailed at')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                        ('receipt', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='receipts.receipt', verbose_name='receipt')),
                    ],
                    options={
                        'verbose_name': 'receipt event',
                        'verbose_name_plural': 'receipt events',
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='receipt',
                    index=models.Index(fields=['state', 'requested_at'], name='receipt_queue_idx'),
                ),
                migrations.AddConstraint(
                    model_name='receipt',
                    constraint=models.UniqueConstraint(condition=models.Q(('state', 'requested')), fields=('order',), name='receipt_one_open_request_per_order'),
                ),
                migrations.AddConstraint(
                    model_name='receipt',
                    constraint=models.UniqueConstraint(condition=models.Q(('state', 'issued')), fields=('order',), name='receipt_one_issued_per_order'),
                ),
                migrations.AddConstraint(
                    model_name='receipt',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('issue_count__gte', 1), ('issued_at__isnull', False), ('last_issued_at__isnull', False), ('number__isnull', False), ('state', 'issued')), models.Q(models.Q(('state', 'issued'), _negated=True), ('issue_count', 0), ('number__isnull', True)), _connector='OR'), name='receipt_number_exactly_when_issued'),
                ),
                migrations.AddConstraint(
                    model_name='receipt',
                    constraint=models.CheckConstraint(condition=models.Q(('pdf_issue_count__lte', models.F('issue_count'))), name='receipt_pdf_not_ahead_of_issue'),
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
