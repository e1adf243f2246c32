"""The production settings, with static files collected into the benchmark's temp folder.

Only STATIC_ROOT differs, so the app under test runs exactly the middleware, storage
and database options it runs in production.
"""

import os

from config.settings import *  # noqa: F403

STATIC_ROOT = os.environ["EASEBACK_BENCH_STATIC_ROOT"]
