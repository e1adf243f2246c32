"""Peak memory of a gunicorn worker serving one export, small against large.

Each measurement gets a fresh single-worker gunicorn, warmed with the same requests,
so the worker's high-water mark (VmHWM) differs only by what the export itself held.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass

from bench.stack import Stack, proc_status_kb

# Only pages that cost the same for both users: the difference is the export alone.
WARM_UP = ["/healthz", "/healthz"]


@dataclass
class ExportPeak:
    path: str
    sessions: int
    peak_kb: int
    bytes: int
    seconds: float


def _stream(port: int, path: str, cookie: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    size = 0
    while chunk := response.read(64 * 1024):
        size += len(chunk)
    conn.close()
    return response.status, size


def export_peak(
    stack: Stack, database: str, path: str, cookie: str, sessions: int, *, threads: int | None
) -> ExportPeak:
    server = stack.gunicorn(database, workers=1, threads=threads)
    try:
        for warm in WARM_UP:
            _stream(server.port, warm, cookie)
        started = time.perf_counter()
        status, size = _stream(server.port, path, cookie)
        seconds = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        (worker,) = server.worker_pids()
        peak = proc_status_kb(worker, "VmHWM")
    finally:
        stack.stop(server.process)
    return ExportPeak(path, sessions, peak, size, seconds)
