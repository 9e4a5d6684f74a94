"""Migration tests: move the test database to an older state, fill it with the historical
models of that state, then migrate it forward as a deploy would."""

import datetime as dt

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone


def migrate(targets):
    """Migrate to ``targets`` ((app, migration) pairs; ``None`` unapplies the app) and return the
    historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([key for key in targets if key[1]]).apps


def migrate_to_latest() -> None:
    """Every app's last migration: the tests after this one need the whole schema back."""
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


def old_order(apps, *, number: str, serial: str, customer, **fields):
    """A fulfilled ¥4,790 Cloud renewal of a new license, made with the historical ``apps``."""
    product = apps.get_model("licenses", "Product").objects.create(
        code=f"cloud-{serial.lower()}", name_ja="クラウド", name_en="Cloud", line="cloud",
        edition="cloud", generation=2026, platform_scope="multi",
    )  # fmt: skip
    today = timezone.localdate()
    license = apps.get_model("licenses", "License").objects.create(
        serial=serial, product=product, owner=customer,
        starts_on=today - dt.timedelta(days=300), expires_on=today + dt.timedelta(days=65),
    )  # fmt: skip
    price = apps.get_model("licenses", "Price").objects.create(
        product=product, term_years=1, kind="renewal", amount=4790, valid_from=today
    )
    values = {
        "number": number, "customer": customer, "email": customer.email, "license": license,
        "from_product": product, "product": product, "path_kind": "same", "term_years": 1,
        "price": price, "price_kind": "renewal", "amount": 4790, "tax": 435,
        "status": "fulfilled", "paid_at": timezone.now(), **fields,
    }  # fmt: skip
    return apps.get_model("orders", "Order").objects.create(**values)
