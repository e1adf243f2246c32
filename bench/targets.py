"""The issue-15 targets: every page's throughput as a share of /healthz, in one run.

Under wrk (8 connections, the demo user's 16 login sessions in turn), in rounds: each
figure (anonymous /healthz, each page with nothing changed since the last view (cached), and
the htmx log POST: 8 people with the demo user's year of sessions each logging at once (the
target), and, for information, one person's 8 tabs logging at once: each save waits for
the one before, as they bump the same profile row) runs right after a signed-in /healthz
run, and the round ends with one more. Each figure's run is divided by the faster of the
two signed-in /healthz runs just before and after it (never a baseline that flatters it;
"being signed in" takes the slower, for the same reason), and the median over rounds is
the ratio. The machine's speed drifts (on the 2-CPU machine a fixed loop of pure Python took
from 350 to 740 ms within a minute): a baseline measured seconds away from the run it
divides, rather than a round earlier, keeps that drift out of the ratio.

The first view after a new session (the uncached path) cannot be driven by wrk alone, so
it is timed over one keep-alive connection: before every page request one of the eight
people logs a session through the real htmx form, then opens the page; signed-in /healthz
is timed in between. The ratio is median /healthz time over median page time. Two more
rows, for information: after the bench does by hand what a plain session does to every
cache (bumps the data version, leaving the history version, and retires the user's
cached profile row: so no plan made by the POST either), and after a write that
moves the history version too (a stop signal, a pain rise, a back-dated session, an
edit, a delete, a check-in): then the days before today and the safety record are read
again.
"""

from __future__ import annotations

import http.client
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg

from bench import load
from bench.freshness import _LogForm, _request

PAGES = ["/today/", "/progress/", "/sessions/", "/progress/report/"]
SIGNED_IN_SHARE_OF_ANONYMOUS = 0.50
CACHED_SHARE = 0.50
UNCACHED_SHARE = 0.20
TOGETHER_SHARE_OF_ANONYMOUS = 0.25
LOG_SHARE = 0.25
TAIL_MAX = 4.0
CONNECTIONS = 8

# wrk runs one connection per thread for the log POST (``-t8 -c8``): each thread is one
# person (one login session of the pool), who waits for their answer before logging again.
# A pool of one person's login sessions ("one person's 8 tabs") is that person's tabs.
LOG_POST = """
local threads = {}
local cookies = {}
local body, csrf = "", ""
function setup(thread)
  table.insert(threads, thread)
  thread:set("person", #threads)
end
function init(args)
  non2xx = 0
  csrf = args[1]
  body = args[2]
  for i = 3, #args do cookies[i - 2] = args[i] end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local turn = (person - 1) % #cookies + 1
  local token = string.format("%08x-%04x-4%03x-a%03x-%012x", math.random(0, 0xffffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), math.random(0, 0xfff),
    math.random(0, 0xffffffffffff))
  return wrk.format("POST", nil, {
    Cookie = cookies[turn] .. "; " .. csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["HX-Request"] = "true",
  }, body .. "&client_token=" .. token)
end
function response(status, headers, body)
  -- A refused form answers 200 too (htmx swaps the errors in): only a save says so.
  if status < 200 or status > 299 or headers["HX-Trigger"] ~= "session-logged" then
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("non2xx") end
  io.write(string.format("BENCH non2xx=%d\\n", total))
  io.write(string.format("BENCH p50_ms=%.2f p99_ms=%.2f\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


SIGNED_IN = "signed-in /healthz"


@dataclass
class Figures:
    runs: dict[str, list[load.LoadRun]] = field(default_factory=dict)
    # Per run of each figure: the req/s of the signed-in /healthz runs just before and just
    # after it.
    beside: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    uncached_ms: dict[str, list[float]] = field(default_factory=dict)

    def rps(self, name: str) -> list[float]:
        return [r.requests_per_second for r in self.runs[name]]

    def share(self, name: str) -> tuple[float, list[float]]:
        """``name``'s req/s over the faster signed-in /healthz run beside it (never a
        baseline that flatters it): the median, and the rounds."""
        baseline = [max(pair) for pair in self.beside[name]]
        rounds = [p / h for p, h in zip(self.rps(name), baseline, strict=True)]
        return statistics.median(rounds), rounds

    def signed_in_share(self) -> tuple[float, list[float]]:
        """Signed-in /healthz over anonymous /healthz: each anonymous run against the
        slower signed-in run beside it (here the signed-in side is the one measured)."""
        anonymous = "anonymous /healthz"
        signed = [min(pair) for pair in self.beside[anonymous]]
        rounds = [h / a for a, h in zip(self.rps(anonymous), signed, strict=True)]
        return statistics.median(rounds), rounds

    def share_of_anonymous(self, name: str) -> float:
        """``name`` over anonymous /healthz: its share of signed-in /healthz times the
        signed-in share of anonymous, each from the same round."""
        _, page = self.share(name)
        _, signed = self.signed_in_share()
        return statistics.median(p * s for p, s in zip(page, signed, strict=True))

    def tail(self, name: str) -> float:
        return statistics.median(r.p99_ms / max(r.p50_ms, 0.01) for r in self.runs[name])


LASTING_ACTION = 'action="/today/lasting-pain/"'
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _users_of(db, logins: list[str]) -> list[int]:
    keys = [login.split("=", 1)[1] for login in logins]
    rows = db.execute(
        "SELECT DISTINCT user_id FROM accounts_loginsession WHERE session_key = ANY(%s)", [keys]
    ).fetchall()
    return [user_id for (user_id,) in rows]


def _user_sessions(database_url: str, logins: list[str]) -> int:
    """Sessions stored for the users of these login sessions (cookies)."""
    with psycopg.connect(database_url, autocommit=True) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM tracking_session WHERE user_id = ANY(%s)",
            [_users_of(db, logins)],
        ).fetchone()
    return count


def post_threads(logins: list[str]) -> int:
    """wrk's threads for a log POST run: one per connection, each thread one of ``logins``
    (``LOG_POST``). Fewer logins than connections would put two of one person's logs in
    flight at once, which is not what either POST figure measures."""
    if len(logins) < CONNECTIONS:
        raise RuntimeError(
            f"the log POST runs one login session per connection: {CONNECTIONS} needed, "
            f"{len(logins)} given"
        )
    return CONNECTIONS


def log_post_args(port: int, pool: list[str], csrf_cookie_name: str,
                  database_url: str) -> tuple[str, str]:  # fmt: skip
    """The CSRF cookie and the log form as served (minus its client token), proven to save.

    Each login session first answers the lasting-pain question if the page asks it (it
    is asked before the day's first session, and the form is refused until then), then
    one htmx POST of the form read from the real page must store a session.
    """
    _, _, set_cookies = _request(port, "GET", "/today/", pool[0])
    csrf_cookie = next(c.split(";")[0] for c in set_cookies if c.startswith(csrf_cookie_name))
    text = ""
    for login in pool:
        cookie = f"{login}; {csrf_cookie}"
        status, text, _ = _request(port, "GET", "/today/", cookie)
        if status != 200:
            raise RuntimeError(f"/today/ answered {status} before the log POST")
        if LASTING_ACTION in text:
            token = CSRF_INPUT.search(text)[1]
            answer = urlencode({"csrfmiddlewaretoken": token, "lasting": "no"})
            _request(port, "POST", "/today/lasting-pain/", cookie, answer)
            status, text, _ = _request(port, "GET", "/today/", cookie)
            if LASTING_ACTION in text:
                raise RuntimeError("the lasting-pain question is still asked after answering it")
    parser = _LogForm()
    parser.feed(text)
    form = {**parser.values, "pain_before": "3", "pain_after": "2"}
    form.pop("client_token", None)
    body = urlencode(form)
    before = _user_sessions(database_url, pool[:1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST", "/today/log/", body=f"{body}&client_token={uuid.uuid4()}",
        headers={"Cookie": f"{pool[0]}; {csrf_cookie}", "HX-Request": "true",
                 "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    response = conn.getresponse()
    response.read()
    conn.close()
    after = _user_sessions(database_url, pool[:1])
    if response.status != 200 or response.getheader("HX-Trigger") != "session-logged":
        raise RuntimeError(f"the bench's log POST was refused ({response.status})")
    if after != before + 1:
        raise RuntimeError(f"the bench's log POST stored {after - before} sessions, not 1")
    return csrf_cookie, body


def under_load(wrk: str, folder: Path, base: str, pool: list[str], log_pool: list[str],
               port: int, *, seconds: int, rounds: int, csrf_cookie_name: str,
               database_url: str, redis_url: str | None,
               worker_pids: list[int] = ()) -> Figures:  # fmt: skip
    """``pool``: the demo user's login sessions (every page, and one person's tabs all
    logging at once); ``log_pool``: one login session each of the people who log at the
    same time, each with the demo user's year of sessions."""
    script = load.write_script(folder)
    post_script = folder / "log_post.lua"
    post_script.write_text(LOG_POST)
    posts = {
        "log POST": (log_pool, log_post_args(port, log_pool, csrf_cookie_name, database_url)),
        "log POST, one person": (pool, log_post_args(port, pool, csrf_cookie_name, database_url)),
    }
    figures = Figures()

    def run(name: str, path: str, cookies: list[str], lua: Path = script, extra=(), threads=2):
        before = load.cpu_seconds(worker_pids)
        result = load.run_wrk(
            wrk, lua, base, path, cookies=[*extra, *cookies], seconds=seconds,
            connections=CONNECTIONS, threads=threads,
        )  # fmt: skip
        used = load.cpu_used(before, load.cpu_seconds(worker_pids))
        result.cpu_ms_per_request = used * 1000 / max(result.requests, 1)
        result.path = name
        figures.runs.setdefault(name, []).append(result)
        print(
            f"  {name:<22} {result.requests_per_second:8.1f} req/s  p50 {result.p50_ms:6.1f} ms"
            f"  p99 {result.p99_ms:6.1f} ms  gunicorn CPU {result.cpu_ms_per_request:5.2f} ms/req"
            f"  non-2xx {result.non_2xx}  errors {result.socket_errors}",
            flush=True,
        )
        return result

    def post(name: str, logins: list[str], csrf: str, body: str) -> None:
        before = _user_sessions(database_url, logins)
        before_id = _latest_session_id(database_url)
        run(name, "/today/log/", logins, post_script, extra=(csrf, body),
            threads=post_threads(logins))  # fmt: skip
        stored = _user_sessions(database_url, logins) - before
        timed = figures.runs[name][-1].requests
        # wrk counts the answers it read; a few more may be saved as it stops.
        if not timed <= stored <= timed + CONNECTIONS:
            raise RuntimeError(f"{name}: {timed} answers but {stored} sessions stored")
        print(f"  {name} stored {stored} sessions for {timed} answers", flush=True)
        # Take them away again: a hundred sessions a day is no one's today page, and
        # the next round must time the same pages as this one.
        _forget_sessions_since(database_url, logins, before_id, redis_url)

    for _ in range(rounds):
        # Warm every worker's imports and the shared cache, and again in every round: the
        # round before ended with one person's tabs logging sessions as the demo user, and
        # taking them away moved its data version on, so every page's first view in this
        # round would be a render (eight at once), timed as "cached".
        for path in ["/healthz", *PAGES]:
            load.run_wrk(wrk, script, base, path, cookies=pool, seconds=1, connections=CONNECTIONS)
        # Each figure between two signed-in /healthz runs.
        steps = [("anonymous /healthz", lambda: run("anonymous /healthz", "/healthz", []))]
        steps += [(path, lambda path=path: run(path, path, pool)) for path in PAGES]
        steps += [
            (name, lambda name=name, logins=logins, args=args: post(name, logins, *args))
            for name, (logins, args) in posts.items()
        ]
        healthz = run(SIGNED_IN, "/healthz", pool).requests_per_second
        for name, figure in steps:
            figure()
            after = run(SIGNED_IN, "/healthz", pool).requests_per_second
            # Figures.share divides by the faster of the two, never a baseline that flatters
            # the figure: the run right after the log POST was often slower (perhaps
            # PostgreSQL still writing out what the POSTs and their clean-up wrote), and a
            # mean of the two would lift the POST's share.
            figures.beside.setdefault(name, []).append((healthz, after))
            healthz = after
    return figures


def _latest_session_id(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as db:
        (latest,) = db.execute("SELECT coalesce(max(id), 0) FROM tracking_session").fetchone()
    return latest


def _forget_sessions_since(database_url: str, logins: list[str], after_id: int,
                           redis_url: str | None) -> None:  # fmt: skip
    """Delete the sessions the log POST stored (and their safety stamps), as a data change."""
    with psycopg.connect(database_url) as db, db.transaction():
        users = _users_of(db, logins)
        db.execute(
            "DELETE FROM stretches_safetyevent WHERE user_id = ANY(%s) AND session_ref > %s",
            [users, after_id],
        )
        db.execute(
            "DELETE FROM tracking_session WHERE user_id = ANY(%s) AND id > %s", [users, after_id]
        )
        db.execute(  # a delete moves both versions on (lib.cache.data_changed)
            "UPDATE accounts_profile SET data_version = data_version + 1, "
            "history_version = history_version + 1 WHERE user_id = ANY(%s)",
            [users],
        )
    for user_id in users:
        _retire_cached_user(redis_url, user_id)


def _retire_cached_user(redis_url: str | None, user_id: int) -> None:
    if redis_url:  # lib.cache.records_changed (what data_changed does), from outside the app
        import redis

        redis.Redis.from_url(redis_url).delete(*_profile_keys(user_id))


def _profile_keys(user_id: int) -> tuple[str, str]:
    """The cached profile row, which holds the versions (lib.cache.records_changed)."""
    return f"easeback:1:user-generation:{user_id}", f"easeback:1:profile:{user_id}"


def uncached(port: int, cookie: str, database_url: str, redis_url: str | None, *,
             rounds: int, history: bool = False) -> dict[str, list[float]]:  # fmt: skip
    """Milliseconds of each page right after the user's data version moved on (and, with
    ``history``, the history version too)."""
    bump = "data_version = data_version + 1"
    if history:
        bump += ", history_version = history_version + 1"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    session_key = cookie.split("=", 1)[1]
    times: dict[str, list[float]] = {p: [] for p in ["/healthz", *PAGES]}
    redis_client = None
    if redis_url:
        import redis

        redis_client = redis.Redis.from_url(redis_url)
    with psycopg.connect(database_url, autocommit=True) as db:
        (user_id,) = db.execute(
            "SELECT user_id FROM accounts_loginsession WHERE session_key = %s", [session_key]
        ).fetchone()

        def get(path: str) -> float:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            return (time.perf_counter() - started) * 1000

        for _ in range(rounds):
            for path in PAGES:
                # What a logged session does to every cache (lib.cache.data_changed).
                db.execute(f"UPDATE accounts_profile SET {bump} WHERE user_id = %s", [user_id])
                if redis_client is not None:  # retire its profile row (records_changed)
                    redis_client.delete(*_profile_keys(user_id))
                times[path].append(get(path))
                times["/healthz"].append(get("/healthz"))
    conn.close()
    return times


def after_logging(port: int, logins: list[str], csrf: str, body: str, database_url: str,
                  redis_url: str | None, *, rounds: int) -> dict[str, list[float]]:  # fmt: skip
    """Milliseconds of each page on its first view after a session was logged through the
    real htmx form: before every page request one of ``logins`` (people with the demo
    user's year) logs a session, then opens the page; signed-in /healthz follows. The
    people take turns, so each has a plausible day (a few sessions), not eighty."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times: dict[str, list[float]] = {p: [] for p in ["/healthz", *PAGES]}
    before_id = _latest_session_id(database_url)
    turn = 0

    def send(method: str, path: str, login: str, form: str | None = None) -> float:
        headers = {"Cookie": f"{login}; {csrf}"}
        if form is not None:
            headers |= {"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"}
        started = time.perf_counter()
        conn.request(method, path, body=form, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}")
        if form is not None and response.getheader("HX-Trigger") != "session-logged":
            raise RuntimeError("the log POST before an uncached view was refused")
        return elapsed

    for _ in range(rounds):
        for path in PAGES:
            login = logins[turn % len(logins)]
            turn += 1
            send("POST", "/today/log/", login, f"{body}&client_token={uuid.uuid4()}")
            times[path].append(send("GET", path, login))
            times["/healthz"].append(send("GET", "/healthz", login))
    conn.close()
    _forget_sessions_since(database_url, logins, before_id, redis_url)
    return times


def _uncached_row(table, figure: str, times: dict[str, list[float]], path: str, *,
                  share: float | None = None) -> None:  # fmt: skip
    """One row of median /healthz time over median page time; a target when ``share``."""
    healthz_ms = statistics.median(times["/healthz"])
    page_ms = statistics.median(times[path])
    ratio = healthz_ms / page_ms
    table.add(
        f"{figure}: /healthz time / page time",
        f"{ratio:.0%} ({healthz_ms:.1f} / {page_ms:.1f} ms, {len(times[path])} rounds)",
        f">= {share:.0%}" if share is not None else "",
        ratio >= share if share is not None else None,
    )


def add_rows(table, figures: Figures, logged_ms: dict[str, list[float]],
             uncached_ms: dict[str, list[float]],
             history_ms: dict[str, list[float]]) -> None:  # fmt: skip
    anonymous = statistics.mean(figures.rps("anonymous /healthz"))
    signed = statistics.mean(figures.rps(SIGNED_IN))
    table.add("req/s anonymous / signed-in /healthz (8 connections)",
              f"{anonymous:.0f} / {signed:.0f}")  # fmt: skip
    ratio, rounds = figures.signed_in_share()
    table.add(
        "being signed in: signed-in /healthz / anonymous /healthz",
        f"{ratio:.0%} (rounds {', '.join(f'{r:.0%}' for r in rounds)})",
        f">= {SIGNED_IN_SHARE_OF_ANONYMOUS:.0%}",
        ratio >= SIGNED_IN_SHARE_OF_ANONYMOUS,
    )
    for path in PAGES:
        ratio, rounds = figures.share(path)
        of_anonymous = figures.share_of_anonymous(path)
        table.add(
            f"{path} cached: req/s / signed-in /healthz",
            f"{ratio:.0%} (rounds {', '.join(f'{r:.0%}' for r in rounds)}; "
            f"{statistics.mean(figures.rps(path)):.0f} req/s; vs anonymous {of_anonymous:.0%})",
            f">= {CACHED_SHARE:.0%}",
            ratio >= CACHED_SHARE,
        )
        table.add(
            f"{path} together: req/s / anonymous /healthz",
            f"{of_anonymous:.0%}",
            f">= {TOGETHER_SHARE_OF_ANONYMOUS:.0%}",
            of_anonymous >= TOGETHER_SHARE_OF_ANONYMOUS,
        )
        _uncached_row(
            table, f"{path} uncached (first view after a session logged)", logged_ms, path,
            share=UNCACHED_SHARE,
        )  # fmt: skip
        _uncached_row(
            table, f"{path} after a version bump alone (no plan made by the POST)",
            uncached_ms, path,
        )  # fmt: skip
        _uncached_row(
            table, f"{path} after a history change (stop signal, back-dated, edit)",
            history_ms, path,
        )  # fmt: skip
        tail = figures.tail(path)
        table.add(
            f"{path} tail: p99 / median under load",
            f"{tail:.1f}x",
            f"<= {TAIL_MAX:g}x",
            tail <= TAIL_MAX,
        )
    ratio, rounds = figures.share("log POST")
    table.add(
        f"log POST (htmx), {CONNECTIONS} people at once: req/s / signed-in /healthz",
        f"{ratio:.0%} (rounds {', '.join(f'{r:.0%}' for r in rounds)}; "
        f"{statistics.mean(figures.rps('log POST')):.0f} req/s)",
        f">= {LOG_SHARE:.0%}",
        ratio >= LOG_SHARE,
    )
    ratio, rounds = figures.share("log POST, one person")
    table.add(
        f"log POST, one person's {CONNECTIONS} tabs at once (each waits for the last)",
        f"{ratio:.0%} (rounds {', '.join(f'{r:.0%}' for r in rounds)}; "
        f"{statistics.mean(figures.rps('log POST, one person')):.0f} req/s)",
    )
    every = [run for runs in figures.runs.values() for run in runs]
    table.add(
        "load: non-2xx / socket errors (all runs)",
        f"{sum(r.non_2xx for r in every)} / {sum(r.socket_errors for r in every)}",
        "0 / 0",
        all(r.clean for r in every),
    )
