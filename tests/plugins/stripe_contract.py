"""pytest plugin: the contract with today's Stripe API (issue 10, point 1; DESIGN 5.1).

localstripe speaks a 2017 API and accepts things the real API refuses (and the other way round),
so passing tests against it proves little about production. This plugin records every request
the gateway sends during every test of the session (method, path, ``Stripe-Version`` header,
form or query parameters) through a recording ``stripe.HTTPClient`` put under the gateway's
client, and fails the test when a request

- names an endpoint the shop has no business calling,
- carries a parameter (nested ones included) that the pinned SDK's typed params for that
  endpoint (``stripe.params.PaymentIntentCreateParams`` and friends, generated from Stripe's
  OpenAPI spec for the SDK's API version) do not list, or a value its type cannot take, or
- sends no ``Stripe-Version`` or another one than ``STRIPE_API_VERSION`` (= the SDK's version).

Requests made in other processes (the Celery worker of the fault tests) are not seen here;
the same code paths run in-process in the other tests.
"""

from __future__ import annotations

import re
import sys
import threading
import types
import typing
import urllib.parse
from dataclasses import dataclass, field

import pytest
import stripe
import typing_extensions
from django.conf import settings
from stripe import params as stripe_params
from stripe._request_options import RequestOptions

from orders.payments import gateway

#: What the shop may call: method, path, and the SDK's params for it.
ENDPOINTS: list[tuple[str, str, str]] = [
    ("POST", r"/v1/customers", "CustomerCreateParams"),
    ("GET", r"/v1/customers/[^/]+", "CustomerRetrieveParams"),
    ("POST", r"/v1/setup_intents", "SetupIntentCreateParams"),
    ("GET", r"/v1/setup_intents/[^/]+", "SetupIntentRetrieveParams"),
    ("POST", r"/v1/setup_intents/[^/]+/cancel", "SetupIntentCancelParams"),
    ("GET", r"/v1/payment_methods/[^/]+", "PaymentMethodRetrieveParams"),
    ("POST", r"/v1/payment_methods/[^/]+/detach", "PaymentMethodDetachParams"),
    ("POST", r"/v1/payment_intents", "PaymentIntentCreateParams"),
    ("GET", r"/v1/payment_intents/[^/]+", "PaymentIntentRetrieveParams"),
    ("POST", r"/v1/payment_intents/[^/]+/cancel", "PaymentIntentCancelParams"),
    ("GET", r"/v1/charges/[^/]+", "ChargeRetrieveParams"),
    ("POST", r"/v1/refunds", "RefundCreateParams"),
    ("GET", r"/v1/refunds", "RefundListParams"),
    ("GET", r"/v1/refunds/[^/]+", "RefundRetrieveParams"),
    ("GET", r"/v1/disputes/[^/]+", "DisputeRetrieveParams"),
]
_REQUEST_OPTIONS = set(RequestOptions.__annotations__)
# Annotations that only wrap alternatives: NotRequired[X], Optional[X], X | Y.
_WRAPPERS = {
    typing_extensions.NotRequired,
    typing_extensions.Required,
    typing.Union,
    types.UnionType,
}


@dataclass(frozen=True)
class StripeRequest:
    method: str
    path: str
    version: str | None
    params: tuple[tuple[str, str], ...]

    @property
    def endpoint(self) -> str | None:
        """The SDK params class name of this request's endpoint, or None if it is not ours."""
        for method, pattern, params in ENDPOINTS:
            if method == self.method and re.fullmatch(pattern, self.path):
                return params
        return None


@dataclass
class Recorder:
    requests: list[StripeRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, url: str, headers, post_data) -> None:
        parts = urllib.parse.urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else post_data or ""
        params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        params += urllib.parse.parse_qsl(body, keep_blank_values=True)
        header = {name.lower(): value for name, value in (headers or {}).items()}
        with self._lock:
            self.requests.append(
                StripeRequest(
                    method=method.upper(),
                    path=parts.path,
                    version=header.get("stripe-version"),
                    params=tuple(params),
                )
            )

    def problems(self) -> list[str]:
        return [problem for request in self.requests for problem in contract_problems(request)]


class RecordingClient(stripe.RequestsClient):
    """The gateway's HTTP client, recording each request before sending it for real."""

    def __init__(self, recorder: Recorder, **kwargs):
        super().__init__(**kwargs)
        self.recorder = recorder

    def request(self, method, url, headers, post_data=None):
        self.recorder.record(method, url, headers, post_data)
        return super().request(method, url, headers, post_data)


def contract_problems(request: StripeRequest) -> list[str]:
    """What is wrong with one request under the pinned SDK's contract (nothing: [])."""
    where = f"{request.method} {request.path}"
    problems = []
    if request.version != settings.STRIPE_API_VERSION or request.version != gateway.SDK_API_VERSION:
        problems.append(
            f"{where}: Stripe-Version {request.version!r}, expected "
            f"{settings.STRIPE_API_VERSION!r} (the SDK's {gateway.SDK_API_VERSION!r})"
        )
    name = request.endpoint
    if name is None:
        return [*problems, f"{where}: not an endpoint the shop calls"]
    params_class = getattr(stripe_params, name)
    for key, value in request.params:
        path = _key_path(key)
        annotation = params_class.__annotations__.get(path[0])
        if annotation is None or path[0] in _REQUEST_OPTIONS:
            problems.append(f"{where}: {key} is not in stripe.params.{name}")
        elif not _accepts(annotation, path[1:], value, params_class):
            problems.append(f"{where}: {key}={value!r} does not fit stripe.params.{name}")
    return problems


def _key_path(key: str) -> list[str]:
    """``automatic_payment_methods[allow_redirects]`` → ``[automatic_payment_methods,
    allow_redirects]``; ``expand[0]`` → ``[expand, 0]``."""
    head, _, rest = key.partition("[")
    return [head, *re.findall(r"([^\[\]]*)\]", "[" + rest)] if rest else [head]


def _accepts(annotation, path: list[str], value: str, owner) -> bool:
    """Whether a form value at ``path`` below a field of type ``annotation`` fits the type."""
    return any(
        _member_accepts(member, path, value, owner) for member in _members(annotation, owner)
    )


def _members(annotation, owner) -> list:
    """The alternatives of a (possibly forward-referenced, NotRequired, Union) annotation."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        namespace = {**vars(typing), **vars(sys.modules[owner.__module__])}
        try:
            annotation = eval(annotation, namespace)  # noqa: S307 - the SDK's own type text
        except NameError:
            return [typing.Any]
    if typing.get_origin(annotation) in _WRAPPERS:
        return [m for arg in typing.get_args(annotation) for m in _members(arg, owner)]
    return [annotation]


def _member_accepts(member, path: list[str], value: str, owner) -> bool:
    if member is typing.Any:
        return True
    origin = typing.get_origin(member)
    if typing_extensions.is_typeddict(member):
        if not path:
            return value == ""  # an empty value unsets a hash
        return path[0] in member.__annotations__ and _accepts(
            member.__annotations__[path[0]], path[1:], value, member
        )
    if origin in (list, typing.List):  # noqa: UP006 - the SDK's annotations use typing.List
        if not path:
            return value == ""
        return path[0].isdigit() and _accepts(typing.get_args(member)[0], path[1:], value, owner)
    if origin in (dict, typing.Dict) or getattr(origin, "__name__", "") == "UntypedStripeObject":  # noqa: UP006
        if not path:
            return value == ""
        args = typing.get_args(member)
        return len(path) == 1 if len(args) < 2 else _accepts(args[1], path[1:], value, owner)
    if path:
        return False  # a nested key under a plain value
    if origin is typing.Literal:
        return value in {_form_value(choice) for choice in typing.get_args(member)}
    if member is bool:
        return value in ("true", "false")
    if member is int:
        return re.fullmatch(r"-?\d+", value) is not None
    if member is float:
        return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None
    return member is str or (member is type(None) and value == "")


def _form_value(choice) -> str:
    return str(choice).lower() if isinstance(choice, bool) else str(choice)


@pytest.fixture(autouse=True)
def stripe_contract(monkeypatch) -> Recorder:
    """Every test: record what the gateway sends to Stripe and check it when the test ends."""
    recorder = Recorder()
    monkeypatch.setattr(
        gateway,
        "_http_client",
        lambda: RecordingClient(recorder, timeout=gateway.TIMEOUT_SECONDS),
    )
    gateway._client_for.cache_clear()
    yield recorder
    gateway._client_for.cache_clear()
    problems = recorder.problems()
    if problems:
        pytest.fail(
            "Requests outside the pinned Stripe API contract:\n" + "\n".join(problems),
            pytrace=False,
        )
