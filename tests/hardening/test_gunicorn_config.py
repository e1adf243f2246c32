"""deploy/gunicorn.conf.py: each worker leaves the app's own objects out of the collector's
full passes (a pass over all of them paused every thread of a worker for 60-120 ms under
load: bench/README.md), once loaded and again once its first requests have warmed it."""

from __future__ import annotations

import gc
import runpy
from types import SimpleNamespace

from tests.hardening.conftest import BASE_DIR


def test_a_worker_freezes_what_it_has_loaded_and_again_once_warm():
    config = runpy.run_path(str(BASE_DIR / "deploy" / "gunicorn.conf.py"))
    worker = SimpleNamespace()
    gc.unfreeze()
    try:
        config["post_worker_init"](worker)
        loaded = gc.get_freeze_count()
        assert loaded > 0
        made_while_serving = [[n] for n in range(1000)]  # tracked objects of "requests"
        # Frozen objects freed meanwhile (by any thread) shrink the count a little: the
        # objects made while serving are frozen only by the warm request's freeze.
        half = len(made_while_serving) // 2
        for _ in range(config["WARM_REQUESTS"] - 1):
            config["post_request"](worker, None, {}, None)
        assert gc.get_freeze_count() < loaded + half
        config["post_request"](worker, None, {}, None)
        assert gc.get_freeze_count() > loaded + half
    finally:
        gc.unfreeze()
