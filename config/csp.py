"""The Content-Security-Policy: this site only, plus Stripe's script, frames and API (DESIGN 9).

django-csp writes the header from ``CONTENT_SECURITY_POLICY`` (settings). Stripe's origins are
added per response from the current ``STRIPE_JS_URL`` and ``STRIPE_API_BASE``, so the same policy
allows localstripe in development and tests (everything from its one origin) and js.stripe.com,
hooks.stripe.com and api.stripe.com in production. No page has inline script: scripts are static
files, their parameters ``data-`` attributes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_sources(*, js_url: str, api_base: str) -> dict[str, list[str]]:
    """The sources Stripe.js needs: its script and frames, and the API it calls."""
    js = _origin(js_url)
    sources = {"script-src": [js], "frame-src": [js], "connect-src": [_origin(api_base)]}
    if urlsplit(js_url).hostname == "js.stripe.com":
        # Real Stripe.js loads more of itself and its frames from subdomains of js.stripe.com,
        # and shows 3-D Secure challenges from hooks.stripe.com (Stripe's CSP guidance).
        sources["script-src"].append("https://*.js.stripe.com")
        sources["frame-src"] += ["https://*.js.stripe.com", "https://hooks.stripe.com"]
    return sources


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with Stripe's origins from the settings of the moment."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only:
            update = stripe_sources(
                js_url=settings.STRIPE_JS_URL, api_base=settings.STRIPE_API_BASE
            )
            for directive, values in (parts.update or {}).items():
                update[directive] = [*update.get(directive, []), *values]
            parts.update = update
        return parts
