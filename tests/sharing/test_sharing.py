"""Share links: created once, hashed, expiring, revocable, rate limited, and leaking nothing."""

from __future__ import annotations

import hashlib
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sharing.models import ShareLink, ShareOpenCount
from sharing.services import MAX_ACTIVE_LINKS, RATE_WINDOW, create_link
from stretches.models import Clearance
from stretches.screening import Verdict
from tests.conftest import PASSWORD, make_screening, make_session, make_user
from tests.hardening.checks import check_html_obeys_csp, check_security_headers
from tests.hardening.conftest import production, production_settings  # noqa: F401
from tracking.services import save_peg

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
# The generated-input tests reuse one user and undo each example's write themselves.
FIXTURE_REUSED = HealthCheck.function_scoped_fixture


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def alice():
    user = make_user("alice", start=(NOW - timedelta(days=20)).date())
    for day in range(20):
        make_session(
            user, performed_at=NOW - timedelta(days=day, hours=2), pain_before=6 - day // 5
        )
    return user


def url_for(token: str) -> str:
    return f"/shared/{token}/"


def new_link(user, days: int = 7, name: str = "") -> tuple[ShareLink, str]:
    return create_link(user=user, days=days, name=name)


# --- Creating a link, shown once ---------------------------------------------------------


def test_a_new_link_is_shown_once_and_only_its_hash_is_stored(client, alice):
    client.force_login(alice)

    created = client.post("/account/sharing/", {"name": "Dr Patel", "days": "7"})
    assert created.status_code == 302 and created.url == "/account/sharing/"
    page = client.get("/account/sharing/")

    match = re.search(r'value="http://testserver/shared/([A-Za-z0-9_-]+)/"', page.text)
    assert match, "the full address is shown in a read-only field"
    token = match[1]
    assert len(token) >= 43  # 32 random bytes: 256 bits
    assert "no-store" in page.headers["Cache-Control"]
    assert "Copy link" in page.text and "shown only this once" in page.text
    link = ShareLink.objects.get(user=alice)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(ShareLink.objects.values_list()))
    assert (link.name, link.expires_at) == ("Dr Patel", NOW + timedelta(days=7))
    # Shown once: the next visit lists the link but no longer holds its address.
    again = client.get("/account/sharing/")
    assert token not in again.text and "Dr Patel" in again.text
    assert client.get(url_for(token)).status_code == 200


def test_thirty_days_is_offered_and_nothing_else_is_accepted(client, alice):
    client.force_login(alice)
    client.post("/account/sharing/", {"days": "30"})
    assert ShareLink.objects.get().expires_at == NOW + timedelta(days=30)

    for bad in ({"days": "14"}, {"days": ""}, {"days": "abc"}, {}, {"days": "7", "name": "x" * 81}):
        response = client.post("/account/sharing/", bad)
        assert response.status_code == 400, bad
        assert "Nothing has been saved yet" in response.text
    assert ShareLink.objects.count() == 1


def test_there_is_a_cap_on_links_that_work_at_once(client, alice):
    for _ in range(MAX_ACTIVE_LINKS):
        new_link(alice)
    client.force_login(alice)

    response = client.post("/account/sharing/", {"days": "7"})

    assert response.status_code == 400 and "Revoke one you no longer need" in response.text
    assert ShareLink.objects.count() == MAX_ACTIVE_LINKS


def test_the_sharing_page_needs_a_login_and_the_account_page_links_to_it(client, alice):
    assert client.get("/account/sharing/").status_code == 302
    client.force_login(alice)
    assert 'href="/account/sharing/"' in client.get("/account/").text


# --- Expiry and revocation -------------------------------------------------------------


def test_a_link_works_until_its_expiry_and_not_a_second_after(client, alice, frozen):
    link, token = new_link(alice, days=7)

    frozen.move_to(link.expires_at - timedelta(seconds=1))
    assert client.get(url_for(token)).status_code == 200
    frozen.move_to(link.expires_at)
    assert client.get(url_for(token)).status_code == 404
    frozen.move_to(link.expires_at + timedelta(seconds=1))
    assert client.get(url_for(token)).status_code == 404


def test_revoking_stops_the_link_at_once(client, alice):
    link, token = new_link(alice, name="Dr Patel")
    owner = Client()
    owner.force_login(alice)
    assert client.get(url_for(token)).status_code == 200

    response = owner.post("/account/sharing/revoke/", {"link": link.pk}, follow=True)

    assert "stopped working at once" in response.text
    assert client.get(url_for(token)).status_code == 404
    assert "Revoked" in owner.get("/account/sharing/").text


def test_another_user_cannot_revoke_a_link_and_gets_404(client, alice):
    link, token = new_link(alice)
    mallory = make_user("mallory")
    client.force_login(mallory)

    assert client.post("/account/sharing/revoke/", {"link": link.pk}).status_code == 404
    assert client.get("/account/sharing/").text.count("<tr") == 0  # lists none of alice's
    link.refresh_from_db()
    assert link.revoked_at is None
    assert Client().get(url_for(token)).status_code == 200


@pytest.mark.parametrize("data", [{}, {"link": "abc"}, {"link": "-1"}, {"link": "99999999"}])
def test_revoking_nonsense_changes_nothing(client, alice, data):
    link, _ = new_link(alice)
    client.force_login(alice)
    response = client.post("/account/sharing/revoke/", data)
    assert response.status_code in (302, 404)
    assert ShareLink.objects.get(pk=link.pk).revoked_at is None


def test_the_list_shows_expiry_last_opened_and_how_often(client, alice, frozen):
    link, token = new_link(alice, name="Physio")
    visitor = Client()
    visitor.get(url_for(token))
    frozen.shift(timedelta(hours=3))
    visitor.get(url_for(token))
    client.force_login(alice)

    page = client.get("/account/sharing/").text

    assert "2 times" in page
    assert "10 Mar 2026, 15:00" in page  # last opened, in alice's time zone (UTC)
    assert "17 Mar 2026, 12:00" in page  # works until
    link.refresh_from_db()
    assert (link.open_count, link.last_opened_at) == (2, NOW + timedelta(hours=3))


# --- The same 404 for expired, revoked and unknown -------------------------------------


def unified(response) -> str:
    # Per-request values (CSP nonce, CSRF token) differ on every page, whatever the token.
    text = re.sub(r'nonce="[^"]*"', "", response.text)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


@pytest.fixture
def three_dead_tokens(alice, frozen):
    expired_link, expired = new_link(alice)
    frozen.shift(timedelta(days=8))
    revoked_link, revoked = new_link(alice)
    revoked_link.revoked_at = timezone.now()
    revoked_link.save()
    from sharing.tokens import new_token

    return {"expired": expired, "revoked": revoked, "unknown": new_token()}


def test_expired_revoked_unknown_and_guessed_tokens_get_the_same_404(
    client, alice, three_dead_tokens
):
    _, valid = new_link(alice)
    guesses = {
        "one character off": valid[:-1] + ("A" if valid[-1] != "A" else "B"),
        "short": "abc",
        "odd characters": "%00%27;--",
    }
    responses = {
        name: client.get(url_for(token)) for name, token in {**three_dead_tokens, **guesses}.items()
    }

    assert {r.status_code for r in responses.values()} == {404}
    assert len({unified(r) for r in responses.values()}) == 1
    assert "We could not find that page" in responses["revoked"].text
    for response in responses.values():
        assert response.headers["X-Robots-Tag"].startswith("noindex")
        assert response.headers["Cache-Control"] == "no-store"
    assert ShareLink.objects.filter(open_count__gt=0).count() == 0  # dead links not counted


def test_one_indexed_lookup_answers_every_token_alike(client, three_dead_tokens):
    """Every token costs the same statements: the rate count and one lookup by hash."""
    statements = {}
    for name, token in three_dead_tokens.items():
        client.get(url_for(token))  # the window's first open also prunes old windows
        with CaptureQueriesContext(connection) as queries:
            client.get(url_for(token))
        statements[name] = [re.sub(r"'[0-9a-f]{64}'|%s", "?", q["sql"]) for q in queries]
    assert statements["expired"] == statements["revoked"] == statements["unknown"]
    lookups = [sql for sql in statements["unknown"] if '"sharing_sharelink"' in sql]
    assert len(lookups) == 1 and "token_hash" in lookups[0]


def test_no_measurable_timing_difference_between_unknown_and_dead_tokens(
    client, three_dead_tokens, settings
):
    settings.SHARE_OPEN_LIMIT = 10_000
    timings = {name: [] for name in three_dead_tokens}
    for _ in range(5):  # warm up templates and connections
        for token in three_dead_tokens.values():
            client.get(url_for(token))
    for _ in range(100):  # interleaved, so drift in the machine's load hits all alike
        for name, token in three_dead_tokens.items():
            started = time.perf_counter()
            response = client.get(url_for(token))
            timings[name].append(time.perf_counter() - started)
            assert response.status_code == 404
    medians = {name: statistics.median(values) for name, values in timings.items()}
    slowest, fastest = max(medians.values()), min(medians.values())
    # Generous: a shared 2-core machine; a real difference (a second query, a hash
    # comparison loop, a different template) would show up far beyond this.
    print({name: f"{m * 1000:.2f} ms" for name, m in medians.items()})
    assert slowest - fastest < max(0.0015, 0.25 * fastest), medians


# --- What the page shows, and what it does not ------------------------------------------


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors, self.resources, self.forms = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.anchors.append(attrs["href"])
        if tag in ("link", "script", "img") and (attrs.get("href") or attrs.get("src")):
            self.resources.append(attrs.get("href") or attrs.get("src"))
        if tag == "form":
            self.forms.append(attrs.get("action"))


@pytest.fixture
def two_patients(alice):
    urgent = make_screening(alice, Verdict.URGENT, taken_at=NOW - timedelta(days=15))
    Clearance.objects.create(
        user=alice, screening=urgent, cleared_on=urgent.taken_at.date(), note="Physio ok-ALICE"
    )
    make_session(alice, performed_at=NOW - timedelta(days=3), stop_signals=["cramp"], pain_before=4)
    save_peg(user=alice, week=1, pain=7, enjoyment=6, activity=6)
    save_peg(user=alice, week=3, pain=4, enjoyment=4, activity=3)
    mallory = make_user("mallory", start=(NOW - timedelta(days=20)).date())
    for day in range(10):
        make_session(mallory, performed_at=NOW - timedelta(days=day, hours=1), pain_before=9)
    urgent = make_screening(mallory, Verdict.URGENT, taken_at=NOW - timedelta(days=5))
    Clearance.objects.create(
        user=mallory, screening=urgent, cleared_on=urgent.taken_at.date(), note="SECRET-MALLORY"
    )
    make_session(
        mallory, performed_at=NOW - timedelta(days=2), stop_signals=["numbness"], pain_before=9
    )
    save_peg(user=mallory, week=1, pain=9, enjoyment=9, activity=8)  # 8.7
    return alice, mallory


def test_the_share_page_is_the_report_with_nothing_of_anyone_else(client, two_patients):
    alice, mallory = two_patients
    _, token = new_link(alice, name="Dr Patel")

    response = client.get(url_for(token))
    page = response.text

    assert response.status_code == 200
    for shown in (
        "EaseBack progress report",
        "alice",
        "Dr Patel",
        "Baseline = mean pain before sessions",  # the verdict
        'id="chart-report-pain"',
        "Week by week",
        "Adherence over the weeks shown",
        "Safety screenings and clearances",
        "Physio ok-ALICE",  # her clearance
        "Muscle cramping or spasm",  # her stop signal
        "Week 1 6.3, week 3 3.7: down 2.6 points (41 %)",
    ):
        assert shown in page, shown
    for private in ("mallory", "SECRET-MALLORY", "<strong>8.7</strong>", "Numbness or tingling"):
        assert private not in page, private


def test_the_share_page_links_to_nothing_private(client, two_patients):
    alice, _ = two_patients
    _, token = new_link(alice)
    client.force_login(alice)  # even opened by the owner: no way into the account
    share_url = "http://testserver" + url_for(token)

    page = client.get(url_for(token)).text
    links = Links()
    links.feed(page)

    assert links.anchors, "the period switch is there"
    for href in links.anchors:
        target = urlsplit(urljoin(share_url, href))
        assert target.netloc == "testserver" and target.path == url_for(token), href
    assert all(src.startswith("/static/") for src in links.resources), links.resources
    assert links.forms == []
    for private in ("/account", "/today", "/progress", "/sessions", "/accounts/", "logout"):
        assert private not in page


def test_the_share_page_is_not_indexed_stored_or_referred(client, alice):
    _, token = new_link(alice)

    response = client.get(url_for(token))

    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex' in response.text
    assert '<meta name="referrer" content="no-referrer">' in response.text


def test_the_share_page_reads_in_the_patients_time_zone(client):
    kiri = make_user("kiri", time_zone="Pacific/Auckland", start=(NOW - timedelta(days=3)).date())
    # 20:30 UTC on 8 March is 09:30 on 9 March in Auckland.
    make_session(
        kiri, performed_at=datetime(2026, 3, 8, 20, 30, tzinfo=UTC), stop_signals=["cramp"]
    )
    _, token = new_link(kiri)

    assert "9 Mar 2026, 09:30" in client.get(url_for(token)).text


def test_the_share_page_costs_the_same_queries_for_a_short_and_a_long_history(client, alice):
    _, token = new_link(alice)
    client.get(url_for(token))  # the window's first open also prunes old windows
    cache.clear()  # both reads cold: nothing of either history cached
    with CaptureQueriesContext(connection) as short:
        assert client.get(url_for(token)).status_code == 200
    for day in range(20, 80):
        make_session(alice, performed_at=NOW - timedelta(days=day))
    cache.clear()
    with CaptureQueriesContext(connection) as long:
        assert client.get(url_for(token) + "?range=all").status_code == 200
    assert len(long) == len(short) <= 10


# --- Rate limit --------------------------------------------------------------------------


def test_opening_is_rate_limited_per_address_in_the_database(alice, settings, frozen):
    settings.SHARE_OPEN_LIMIT = 3
    _, token = new_link(alice)
    first, second = Client(REMOTE_ADDR="203.0.113.9"), Client(REMOTE_ADDR="198.51.100.7")

    assert [first.get(url_for(token)).status_code for _ in range(3)] == [200, 200, 200]
    limited = Client(REMOTE_ADDR="203.0.113.9").get(url_for("guess"))  # a new client, same address
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= RATE_WINDOW.total_seconds()
    assert limited.headers["X-Robots-Tag"].startswith("noindex")
    assert "Too many requests" in limited.text
    assert second.get(url_for(token)).status_code == 200  # another address is unaffected
    # Counted in the database (every worker sees it), and never as the address itself.
    assert sum(ShareOpenCount.objects.values_list("opens", flat=True)) == 5
    assert "203.0.113.9" not in str(list(ShareOpenCount.objects.values_list()))

    frozen.shift(RATE_WINDOW)
    assert first.get(url_for(token)).status_code == 200
    assert ShareOpenCount.objects.filter(window_start__lt=NOW + RATE_WINDOW).count() == 0


# --- Account deletion -------------------------------------------------------------------


def test_deleting_the_account_deletes_its_links(client, alice):
    _, token = new_link(alice)
    new_link(alice, days=30)
    client.force_login(alice)

    client.post("/account/delete/", {"password": PASSWORD})

    assert not ShareLink.objects.exists()
    assert Client().get(url_for(token)).status_code == 404


# --- Production headers and generated bad input ----------------------------------------


@pytest.mark.usefixtures("production")
def test_the_share_page_and_the_sharing_page_keep_every_security_header(alice):
    _, token = new_link(alice)
    owner = Client()
    owner.force_login(alice)
    responses = [
        Client().get(url_for(token), secure=True),
        Client().get(url_for("unknown"), secure=True),
        owner.get("/account/sharing/", secure=True),
    ]
    owner.post("/account/sharing/", {"days": "7"}, secure=True)
    responses.append(owner.get("/account/sharing/", secure=True))  # with the new address

    assert [r.status_code for r in responses] == [200, 404, 200, 200]
    for response in responses:
        check_security_headers(response, https=True)
        check_html_obeys_csp(response)
    assert responses[0].headers["Referrer-Policy"] == "no-referrer"


@given(
    name=st.one_of(st.text(max_size=120), st.sampled_from(["\x00", "=cmd|' /C calc'!A0", " "])),
    days=st.one_of(st.sampled_from(["7", "30", "0", "-7", "7.0", "1e3", "", "\x00"]), st.text()),
)
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[FIXTURE_REUSED])
def test_generated_share_forms_never_fail_and_store_only_valid_links(alice, name, days):
    client = Client()
    client.force_login(alice)
    before = ShareLink.objects.count()

    response = client.post("/account/sharing/", {"name": name, "days": days})

    if response.status_code == 302:
        link = ShareLink.objects.latest("id")
        assert days in ("7", "30") and len(link.name) <= 80 and "\x00" not in link.name
        assert link.expires_at - link.created_at == timedelta(days=int(days))
        link.delete()
    else:
        assert response.status_code == 400
    assert ShareLink.objects.count() == before


@given(
    answers=st.fixed_dictionaries(
        {
            item: st.one_of(st.integers(-3, 14).map(str), st.sampled_from(["", "5.0", "x", "\x00"]))
            for item in ("pain", "enjoyment", "activity")
        }
    )
)
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[FIXTURE_REUSED])
def test_generated_peg_answers_are_saved_only_when_all_three_are_0_to_10(alice, answers):
    from tracking.models import PegScore

    client = Client()
    client.force_login(alice)
    PegScore.objects.filter(user=alice).delete()

    response = client.post("/peg/", answers)

    assert response.status_code == 302
    valid = all(value in [str(n) for n in range(11)] for value in answers.values())
    saved = PegScore.objects.filter(user=alice).first()
    if valid:
        assert (saved.pain, saved.enjoyment, saved.activity) == tuple(
            int(answers[k]) for k in ("pain", "enjoyment", "activity")
        )
    else:
        assert saved is None
