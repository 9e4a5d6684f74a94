"""The shop's settings unchanged, with bench/urls.py (the shop plus a bare view) as URLconf."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
