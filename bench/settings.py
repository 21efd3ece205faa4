"""Settings for whole-request benchmarks only: Morgue's settings plus the floor views and a query counter.

`bench/bench_requests.py` serves Morgue with these under gunicorn; nothing
in production names this module, so the floors are never mounted there.
"""

from morgue.settings import *  # noqa: F403
from morgue.settings import MIDDLEWARE

ROOT_URLCONF = "bench.floor_urls"
# First, so the session and user lookups are counted with the page's own queries.
MIDDLEWARE = ["bench.floor.QueryCountMiddleware", *MIDDLEWARE]
