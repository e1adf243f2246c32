"""wrk runs against gunicorn, with every response outside 200-299 counted.

wrk itself only reports "Non-2xx or 3xx responses", so a page that redirects to the
login form would look healthy; the Lua script below counts anything not 2xx. It also
sends the session cookies given after ``--`` in turn, one per request.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")

COUNT_NON_2XX = """
local threads = {}
local cookies = {}
local turn = 0
function setup(thread) table.insert(threads, thread) end
function init(args)
  non2xx = 0
  for i, cookie in ipairs(args) do cookies[i] = cookie end
end
function request()
  if #cookies == 0 then return wrk.format() end
  turn = turn % #cookies + 1
  return wrk.format(nil, nil, {Cookie = cookies[turn]})
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("non2xx") end
  io.write(string.format("BENCH non2xx=%d\\n", total))
  io.write(string.format("BENCH p50_ms=%.2f p99_ms=%.2f\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


@dataclass
class LoadRun:
    path: str
    requests_per_second: float
    requests: int
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float = 0.0

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and self.socket_errors == 0 and self.requests > 0


def write_script(folder: Path) -> Path:
    script = folder / "count_non_2xx.lua"
    script.write_text(COUNT_NON_2XX)
    return script


def run_wrk(
    wrk: str,
    script: Path,
    base: str,
    path: str,
    *,
    cookies: list[str],
    seconds: int,
    threads: int = 2,
    connections: int = 16,
) -> LoadRun:
    args = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    args += ["-s", str(script), base + path, "--", *cookies]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return parse(path, output)


def parse(path: str, output: str) -> LoadRun:
    def number(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else default

    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return LoadRun(
        path=path,
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        requests=int(number(r"(\d+) requests in")),
        non_2xx=int(number(r"BENCH non2xx=(\d+)", "-1")),
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        p50_ms=float(number(r"p50_ms=([\d.]+)")),
        p99_ms=float(number(r"p99_ms=([\d.]+)")),
    )


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU time of each live process, from /proc/<pid>/stat."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that started during the run counts from zero.
    return sum(total - before.get(pid, 0.0) for pid, total in after.items())
