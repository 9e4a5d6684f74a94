from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from licenses.demo import demo_code, demo_codes_table, load_demo_data


class Command(BaseCommand):
    help = "Load the demo catalog, accounts and licenses (idempotent; refused when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with published passwords; it is refused when DEBUG is off."
            )
        result = load_demo_data()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {result['products']} products, "
                f"{result['licenses_created']} new licenses."
            )
        )
        serial = "MAMO-SHOP-0001-FREE"
        self.stdout.write(
            f"A license bought in a store, to register from My licenses: {serial}, "
            f"activation code {demo_code(serial)}"
        )
        self.stdout.write("Activation codes to add on the license pages (K5–K8):")
        self.stdout.write(demo_codes_table())
