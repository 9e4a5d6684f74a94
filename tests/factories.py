"""factory_boy factories: the smallest valid rows, overridden per test."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from licenses.codes import generate_code
from licenses.models import (
    ActivationCode,
    Device,
    License,
    LicenseEvent,
    Platform,
    Price,
    PriceKind,
    Product,
    RenewalPath,
    consumption_tax_in,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    username = factory.SelfAttribute("email")
    first_name = "花子"
    last_name = "山田"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "correct-horse-2026")
        if create:
            self.save(update_fields=["password"])


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"product-{n}")
    name_ja = factory.Sequence(lambda n: f"まもり 製品 {n}")
    name_en = factory.Sequence(lambda n: f"Mamori product {n}")
    line = Product.Line.CLOUD
    edition = Product.Edition.CLOUD
    generation = 2026
    seat_limit = 3
    platform_scope = Product.PlatformScope.MULTI


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price

    product = factory.SubFactory(ProductFactory)
    term_years = 1
    kind = PriceKind.RENEWAL
    amount = 5980
    # Distinct window starts, all in the past, so factories never collide on the unique key.
    valid_from = factory.Sequence(lambda n: dt.date(2026, 1, 1) - dt.timedelta(days=n))


class RenewalPathFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RenewalPath

    from_product = factory.SubFactory(ProductFactory)
    to_product = factory.SelfAttribute("from_product")
    kind = RenewalPath.Kind.SAME


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = License

    serial = factory.Sequence(lambda n: f"MAMO-TEST-{n // 10000 % 10000:04d}-{n % 10000:04d}")
    owner = factory.SubFactory(UserFactory)
    product = factory.SubFactory(ProductFactory)
    seats = 3
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=100))
    starts_on = factory.LazyAttribute(lambda o: o.expires_on - dt.timedelta(days=365))


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    license = factory.SubFactory(LicenseFactory)
    name = factory.Sequence(lambda n: f"PC {n}")
    platform = Platform.WINDOWS
    program_generation = 2026
    program_version = "18.0.1205"


class ActivationCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivationCode

    code = factory.LazyFunction(generate_code)
    product = factory.SubFactory(ProductFactory)
    term_years = 1


class LicenseEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicenseEvent

    license = factory.SubFactory(LicenseFactory)
    kind = LicenseEvent.Kind.CREATED
    new_expires_on = factory.SelfAttribute("license.expires_on")
    new_product = factory.SelfAttribute("license.product")


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as the checkout leaves it; pass ``status`` and timestamps as needed."""

    class Meta:
        model = "orders.Order"

    customer = factory.SubFactory(UserFactory)
    email = factory.SelfAttribute("customer.email")
    license = factory.SubFactory(LicenseFactory, owner=factory.SelfAttribute("..customer"))
    from_product = factory.SelfAttribute("license.product")
    product = factory.SelfAttribute("license.product")
    path_kind = RenewalPath.Kind.SAME
    term_years = 1
    price = factory.SubFactory(PriceFactory, product=factory.SelfAttribute("..product"))
    price_kind = PriceKind.RENEWAL
    amount = factory.SelfAttribute("price.amount")
    tax = factory.LazyAttribute(lambda o: consumption_tax_in(o.amount))
    status = "draft"


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Payment"

    order = factory.SubFactory(OrderFactory)
    attempt = factory.Sequence(lambda n: n + 1)
    amount = factory.SelfAttribute("order.amount")
    stripe_customer_id = "cus_test"
    stripe_payment_method = "pm_test"
    card_brand = "Visa"
    card_last4 = "4242"


class StripeCustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.StripeCustomer"

    user = factory.SubFactory(UserFactory)
    stripe_id = factory.Sequence(lambda n: f"cus_test{n:08d}")


class SavedCardFactory(factory.django.DjangoModelFactory):
    """A saved card record only (no Stripe behind it): for what never charges."""

    class Meta:
        model = "orders.SavedCard"

    customer = factory.SubFactory(StripeCustomerFactory)
    stripe_payment_method = factory.Sequence(lambda n: f"pm_test{n:08d}")
    brand = "Visa"
    last4 = "4242"
    exp_month = 12
    exp_year = 2040
