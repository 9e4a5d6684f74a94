"""Lighthouse over every customer page, signed in and signed out, on a phone: ``make audit``.

    .venv/bin/python bench/audit.py [--only licenses,choose] [--runs 3] [--output docs/audit.md]

The shop is served as in production: gunicorn, ``DEBUG`` off, WhiteNoise serving the collected
static files, PostgreSQL (a throwaway database with the demo data and orders at each checkout
step), localstripe for Stripe.js and the API. Lighthouse (npm, pinned in
bench/lighthouse/package.json, installed into bench/lighthouse/node_modules on first run) drives
Debian's Chromium (``CHROME_PATH``, default /usr/bin/chromium) with its default mobile emulation
(Moto G Power viewport, simulated slow 4G and 4x CPU slowdown). Signed-in pages get the demo
customer's session cookie through ``--extra-headers``. The four category scores per page go to
``docs/audit.md`` (each page audited ``--runs`` times, the median run reported), with the audits
that cost points; the full JSON reports stay in
``var/audit/``.

Targets (the smartphone issue): accessibility, best practices and SEO 100 on every page,
performance at least 95. Not part of ``make test``: it needs Node 20 and takes some minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import common

LIGHTHOUSE_DIR = common.ROOT / "bench" / "lighthouse"
LIGHTHOUSE = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
REPORTS = common.ROOT / "var" / "audit"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu"
DEMO = "demo@example.com"
ATTEMPTS = 3  # Lighthouse runs per page and run before the audit gives up


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    signed_in: bool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--output", default=str(common.ROOT / "docs" / "audit.md"))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per page; the run with the median performance"
    )
    args = parser.parse_args()
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    install_lighthouse()
    REPORTS.mkdir(parents=True, exist_ok=True)

    with common.workdir() as tmp, common.fresh_database("bench_audit") as database:
        stripe_port = common.free_port()
        env = common.environment(
            database=database, workdir=Path(tmp), stripe_api=f"http://127.0.0.1:{stripe_port}"
        )
        # No worker runs: the broker only has to take messages (the setup runs tasks eagerly).
        env["CELERY_BROKER_URL"] = "filesystem://"
        with common.Processes(workdir=Path(tmp), env=env) as processes:
            common.localstripe(processes, port=stripe_port)
            common.setup_django(env, collectstatic=True)
            pages, cookie = demo_pages()
            if args.only:
                wanted = set(args.only.split(","))
                pages = [page for page in pages if page.name in wanted]
            port = common.gunicorn(processes, workers=args.workers)
            print(f"{common.machine()}; gunicorn --workers {args.workers}, DEBUG off, WhiteNoise")
            results = []
            for page in pages:
                started = time.monotonic()
                runs = [
                    lighthouse(page, port=port, cookie=cookie, chrome=chrome, run=run)
                    for run in range(args.runs)
                ]
                scores, losses = median_run(runs)
                results.append((page, scores, losses))
                print(
                    f"{page.name:<28} {'in ' if page.signed_in else 'out'} "
                    + " ".join(f"{scores[c]:>3}" for c in CATEGORIES)
                    + f"  ({time.monotonic() - started:.0f} s)"
                )
            processes.check("gunicorn")
    Path(args.output).write_text(
        report(results, version=lighthouse_version(), chrome=chrome, runs=args.runs)
    )
    print(f"Written: {args.output}")


def install_lighthouse() -> None:
    if LIGHTHOUSE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is missing: the audit needs Node 20 and npm (apt-get install npm).")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=LIGHTHOUSE_DIR, check=True)


def lighthouse_version() -> str:
    package = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "package.json"
    return json.loads(package.read_text())["version"]


def demo_pages() -> tuple[list[Page], str]:
    """The demo data, an order at each checkout step, and the pages to audit (call after
    ``setup_django``). Returns the pages and the demo customer's session cookie."""
    from django.contrib.auth import get_user_model

    from config.celery import app
    from licenses.demo import load_demo_data
    from licenses.reminders.links import unsubscribe_token

    app.conf.task_always_eager = True  # fulfilment and mails run here, at once
    load_demo_data()
    user = get_user_model().objects.get(email=DEMO)
    draft = checkout_order(user)
    confirmable = checkout_order(user, card="4242424242424242")
    authenticating = checkout_order(user, card="4000002760003184", confirm=True)
    paid = checkout_order(user, card="4242424242424242", confirm=True)
    signed_out = [
        Page("home", "/", False),
        Page("home (English)", "/en/", False),
        Page("sign-in", "/accounts/login/", False),
        Page("sign-up", "/accounts/signup/", False),
        Page("password reset", "/accounts/password_reset/", False),
        Page("renew (serial entry)", "/renew/", False),
        Page("help", "/help/", False),
        Page("terms", "/legal/terms/", False),
        Page("privacy", "/legal/privacy/", False),
        Page("tokushoho", "/legal/tokushoho/", False),
        Page("reminder opt-out", f"/reminders/unsubscribe/{unsubscribe_token(user=user)}/", False),
    ]
    signed_in = [
        Page("home", "/", True),
        Page("licenses", "/licenses/", True),
        Page("licenses (English)", "/en/licenses/", True),
        Page("license", "/licenses/MAMO-DEMO-0002-3DEV/", True),
        Page("license (add a code)", "/licenses/MAMO-DEMO-0006-ANDR/", True),
        Page("choose", "/renew/MAMO-DEMO-0008-TSST/", True),
        Page("choose (twin pack)", "/renew/MAMO-DEMO-0001-TWIN/", True),
        Page("choose (version-up)", "/renew/MAMO-DEMO-0004-W011/", True),
        Page("details (card field)", f"/checkout/{draft.number}/details/", True),
        Page("confirm", f"/checkout/{confirmable.number}/confirm/", True),
        Page("3-D Secure", f"/checkout/{authenticating.number}/authenticate/", True),
        Page("complete", f"/checkout/{paid.number}/complete/", True),
        Page("orders", "/orders/", True),
        Page("order (receipt panel)", f"/orders/{paid.number}/", True),
        Page("account", "/account/", True),
        Page("saved cards", "/account/cards/", True),
        Page("help", "/help/", True),
    ]
    return signed_out + signed_in, session_cookie(user)


def checkout_order(user, *, card: str = "", confirm: bool = False):
    """A renewal of the demo Cloud license: a draft, with a card (at confirm), or confirmed."""
    from licenses.models import License, RenewalPath
    from orders import services
    from orders.payments.testing import confirm_card_setup

    license = License.objects.get(serial="MAMO-DEMO-0007-CLOD")
    path = RenewalPath.objects.get(from_product=license.product, kind=RenewalPath.Kind.SAME)
    order = services.start_order(license=license, path_id=path.pk, term_years=1, customer=user)
    if card:
        setup = confirm_card_setup(services.prepare_card_setup(order=order), card)
        services.enter_details(
            order=order, email=user.email, payment_method=setup["payment_method"]
        )
    if confirm:
        services.confirm_order(order=order)
    order.refresh_from_db()
    return order


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def median_run(runs: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """Lighthouse's advice for a noisy machine (its docs, "Variability"): several runs, and the
    one with the median performance score, reported whole."""
    ranked = sorted(
        runs, key=lambda run: run[0]["performance"] if run[0]["performance"] != "n/a" else -1
    )
    return ranked[len(ranked) // 2]


def lighthouse(page: Page, *, port: int, cookie: str, chrome: str, run: int) -> tuple[dict, dict]:
    """One Lighthouse run; returns the category scores (0-100) and, per category below 100,
    the titles of the audits that cost points."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in page.name).strip("-")
    output = REPORTS / f"{slug}-{'in' if page.signed_in else 'out'}-{run + 1}.json"
    argv = [
        str(LIGHTHOUSE),
        f"http://127.0.0.1:{port}{page.path}",
        "--output=json",
        f"--output-path={output}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--quiet",
    ]
    if page.signed_in:
        argv.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    for attempt in range(ATTEMPTS):
        # Lighthouse sometimes fails to record a trace (NO_NAVSTART) on a busy machine: that run
        # is repeated rather than ending the whole audit.
        done = subprocess.run(argv, env={**os.environ, "CHROME_PATH": chrome}, timeout=300)
        if done.returncode == 0:
            break
        print(f"  {page.name}: Lighthouse failed (attempt {attempt + 1} of {ATTEMPTS})")
    else:
        raise SystemExit(f"Lighthouse failed {ATTEMPTS} times on {page.path}")
    result = json.loads(output.read_text())
    scores, losses = {}, {}
    for key in CATEGORIES:
        category = result["categories"][key]
        score = category["score"]
        scores[key] = "n/a" if score is None else round(score * 100)
        failed = [
            result["audits"][ref["id"]]
            for ref in category["auditRefs"]
            if ref["weight"] > 0 and (result["audits"][ref["id"]]["score"] or 0) < 1
        ]
        if scores[key] != 100:
            losses[key] = [audit["title"] for audit in failed]
    return scores, losses


def report(results, *, version: str, chrome: str, runs: int) -> str:
    chromium = subprocess.run([chrome, "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Lighthouse audit (`make audit`)",
        "",
        f"Lighthouse {version}, {chromium}, mobile emulation (Lighthouse's defaults: Moto G Power, "
        "simulated slow 4G, 4x CPU slowdown). Served as in production: gunicorn, `DEBUG` off, "
        "WhiteNoise, PostgreSQL with the demo data (bench/audit.py). "
        + (
            f"Each page audited {runs} times, the run with the median performance score shown. "
            if runs > 1
            else "Each page audited once (`--runs 1`): performance varies with the machine's load. "
        )
        + "Machine: "
        f"{common.machine()}.",
        "",
        "Targets: performance ≥ 95, accessibility, best practices and SEO 100.",
        "",
        "| page | signed in | performance | accessibility | best practices | SEO |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for page, scores, _losses in results:
        cells = [
            str(scores[key]) if _met(key, scores[key]) else f"**{scores[key]}**"
            for key in CATEGORIES
        ]
        lines.append(
            f"| {page.name} (`{_short(page.path)}`) | {'yes' if page.signed_in else 'no'} | "
            + " | ".join(cells)
            + " |"
        )
    missed = [(page, losses) for page, _scores, losses in results if losses]
    if missed:
        lines += ["", "## What costs points", ""]
        for page, losses in missed:
            for key, titles in losses.items():
                signed = "signed in" if page.signed_in else "signed out"
                lines.append(f"- {page.name} ({signed}), {key}: {'; '.join(titles) or '-'}")
    return "\n".join(lines) + "\n"


def _met(key: str, score) -> bool:
    return isinstance(score, int) and score >= TARGETS[key]


def _short(path: str) -> str:
    """Tokens and order numbers change with every run: name the page, not the instance."""
    parts = path.split("/")
    if path.startswith("/reminders/unsubscribe/"):
        return "/reminders/unsubscribe/<token>/"
    if path.startswith("/checkout/") or (path.startswith("/orders/") and len(parts) > 3):
        parts[2] = "<order>"
    return "/".join(parts)


if __name__ == "__main__":
    common.run(main)
