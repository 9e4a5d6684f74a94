"""Webhook ingestion vs the floor write and a bare view: throughput and latency (DESIGN 10).

    .venv/bin/python bench/webhook_ingest.py [--requests 3000] [--workers 4]

One gunicorn (sync workers, DEBUG off, PostgreSQL, Redis broker) serves the shop, the bare
view ``/bench/bare/`` and the floor write ``/bench/floor/write/`` (stores the body as one row
and commits; ``bench/floors.py``). Budget: the webhook at least 0.5 x the floor write. The load generator POSTs signed, distinct ``payment_intent.succeeded``
events for PaymentIntents the shop does not know. Each is verified, stored (one row), and its
processing task published to Redis by ``transaction.on_commit`` inside the request. No worker
runs, so the queue only grows (the run checks it holds one task per event). The bare view and
the floor get the same bodies. Rounds alternate between the three so drift hits them alike.

``--broker-down`` points the shop at a closed loopback port instead of Redis (DESIGN 6: the
event is still stored and answered 200; the sweep queues it later).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import common

ROUNDS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per endpoint and level")
    parser.add_argument("--concurrency", default="1,8", help="client levels, comma-separated")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--max-seconds", type=float, default=20, help="per round and endpoint")
    parser.add_argument("--broker-down", action="store_true", help="no broker listening")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]

    with (
        common.workdir() as tmp,
        common.fresh_database("bench_webhook") as database,
        common.fresh_redis() as redis,
    ):
        env = common.environment(database=database, workdir=Path(tmp))
        if args.broker_down:
            env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{common.free_port()}/9"
        common.setup_django(env)
        with common.Processes(workdir=Path(tmp), env=env) as processes:
            port = common.gunicorn(processes, workers=args.workers)
            broker = "broker unreachable" if args.broker_down else "Redis"
            print(
                f"{common.machine()}; gunicorn --workers {args.workers} (sync), PostgreSQL, {broker}"
            )
            events = EventMaker()
            warm_up(port, events)
            rows = []
            for concurrency in levels:
                results = {name: common.Load() for name, _path in ENDPOINTS}
                per_round = -(-args.requests // ROUNDS)
                for _ in range(ROUNDS):
                    bodies = [events.next() for _ in range(per_round)]
                    for name, path in ENDPOINTS:
                        results[name].add(
                            common.load(
                                port,
                                lambda i, path=path, bodies=bodies: post(path, *bodies[i]),
                                count=per_round,
                                concurrency=concurrency,
                                max_seconds=args.max_seconds,
                            )
                        )
                processes.check("gunicorn")
                processes.report_errors("gunicorn", results.values())
                bare = results["bare view"].per_second
                floor = results["floor write"].per_second
                for name, result in results.items():
                    rows.append(row(concurrency, name, result, bare=bare, floor=floor))
            print(f"after the run: {common.load_average()}")
            stored, queued = stored_and_queued(redis)
            print(f"request body {len(events.next()[0])} bytes")
            print(
                common.table(
                    [
                        "clients",
                        "endpoint",
                        "ok",
                        "errors",
                        "req/s",
                        "p50 ms",
                        "p99 ms",
                        "vs bare",
                        "vs floor",
                        "≥ 0.5 floor",
                    ],
                    rows,
                )
            )
            print(f"webhook events stored: {stored}; processing tasks queued in Redis: {queued}")


WEBHOOK = "/stripe/webhook/"
FLOOR = "/bench/floor/write/"
ENDPOINTS = (("bare view", "/bench/bare/"), ("floor write", FLOOR), ("webhook", WEBHOOK))
BUDGET = 0.5


class EventMaker:
    """Distinct events shaped like Stripe's ``payment_intent.succeeded`` (about 1.5 kB), signed
    just before use (the shop refuses signatures older than five minutes)."""

    def __init__(self) -> None:
        self.count = 0
        self.run = int(time.time())

    def next(self) -> tuple[bytes, str]:
        from django.conf import settings

        from orders.payments.testing import event, sign_event

        self.count += 1
        intent = f"pi_bench{self.run}x{self.count:07d}"
        payload = event(f"evt_bench{self.run}x{self.count:07d}", "payment_intent.succeeded", {
            "id": intent, "object": "payment_intent", "amount": 4790, "amount_received": 4790,
            "capture_method": "automatic", "client_secret": f"{intent}_secret_{'x' * 24}",
            "confirmation_method": "automatic", "created": self.run, "currency": "jpy",
            "customer": "cus_bench0000000000", "latest_charge": "ch_bench0000000000000",
            "livemode": False, "metadata": {"order": "R26-BENCH-0000"},
            "payment_method": "pm_bench000000000000",
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "status": "succeeded", "last_payment_error": None, "next_action": None,
            "description": None, "receipt_email": None, "review": None, "setup_future_usage": None,
            "shipping": None, "statement_descriptor": None, "transfer_data": None,
        })  # fmt: skip
        payload.update(
            {"api_version": settings.STRIPE_API_VERSION, "created": self.run, "livemode": False}
        )
        payload["request"] = {"id": None, "idempotency_key": None}
        payload["pending_webhooks"] = 1
        return sign_event(payload, secret=common.WEBHOOK_SECRET)


def post(path: str, body: bytes, signature: str) -> bytes:
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
    return common.http_request("POST", path, body=body, headers=headers)


def warm_up(port: int, events: EventMaker) -> None:
    """Every gunicorn worker opens its database and broker connections before we measure."""
    for _name, path in ENDPOINTS:
        bodies = [events.next() for _ in range(100)]
        common.load(port, lambda i, p=path, b=bodies: post(p, *b[i]), count=100, concurrency=8,
                    max_seconds=30)  # fmt: skip


def row(concurrency: int, name: str, result: common.Load, *, bare: float, floor: float) -> list:
    ratio = result.per_second / floor
    return [
        concurrency,
        name,
        len(result.latencies),
        result.errors,
        f"{result.per_second:.0f}",
        common.ms(common.percentile(result.latencies, 50)),
        common.ms(common.percentile(result.latencies, 99)),
        f"{result.per_second / bare:.2f}",
        f"{ratio:.2f}",
        "-" if name != "webhook" else ("yes" if ratio >= BUDGET else "NO"),
    ]


def stored_and_queued(redis) -> tuple[int, int]:
    from orders.models import WebhookEvent

    return WebhookEvent.objects.count(), common.queued(redis)


if __name__ == "__main__":
    common.run(main)
