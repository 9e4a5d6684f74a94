"""Issue 15: the license admin looks a customer's licenses up by a whole address
(``owner__email__iexact``, PostgreSQL: ``UPPER(email::text) = UPPER(...)``). auth_user has no
index for that; this one serves it over a million licenses (bench/admin.py). PostgreSQL only:
SQLite compares with LIKE, which this index would not serve."""

from django.db import migrations

INDEX = "licenses_user_email_upper_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON auth_user (UPPER(email))")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("licenses", "0007_licenseevent_kinds_merged"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
