"""One way to cache what a page computes from a user's records.

Every key holds the user, their data version and their local day. The data version is
bumped in the same transaction as every write to the user's sessions, check-ins, safety
records or profile (``accounts.services.data_changed``), and each request reads it
fresh with the user, so a cached value can never outlive the data it was made from in
any worker; the local day in the key starts a fresh one at the user's midnight.
"""

import copy
import functools
import hashlib
import logging
import secrets
from collections.abc import Callable, Hashable
from datetime import date

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from lib.page_cache import REQUEST_PATH, fingerprint, memoised, request_memo, unmarked
from lib.redis_cache import Pickled, Stored

logger = logging.getLogger(__name__)

CACHE_SECONDS = 6 * 3600
# A cached signed-in user is also retired by its generation (below); the expiry only
# bounds how long one could outlive a write whose retirement failed (Redis down then).
USER_CACHE_SECONDS = 15 * 60


def cached_for_user[T](
    profile,
    name: str,
    compute: Callable[[], T],
    *,
    extra: tuple[Hashable, ...] = (),
    history: bool = False,
    today: date | None = None,
    read: bool = True,
) -> T:
    """``compute()``'s result for this user, data version and local day (and ``extra``).

    With ``history=True`` the key holds the history version instead of the data version:
    only for what is computed from the days before the user's local today and from
    records that a plain new session today never touches (``data_changed``).

    ``today``: the local day ``compute`` was made for, when the caller read it before
    (it must be the day in the key: read again here, it may already be the next one, and
    a value made for the day before would be kept under it).

    ``read=False``: compute and store without asking first, for a caller that has just
    moved the version on itself (nothing can be under the new key yet but what another
    request computed from the same records).
    """
    key = user_key(profile, name, extra=extra, history=history, today=today)
    return cached_under(key, compute, read=read)


def cached_under[T](key: str, compute: Callable[[], T], *, read: bool = True) -> T:
    """``cached_for_user`` for a caller that made the key itself (``user_key``)."""
    value = cached_get(key) if read else None
    if value is None:
        # Kept for many requests: no per-response markers of a page being rendered.
        with unmarked():
            value = compute()
        if read:
            cache.set(key, value, CACHE_SECONDS)
        else:
            # Made after the caller's own write: written with the request's next round
            # trip to the cache (the row that write committed goes at the same time).
            _write_later(key, value, CACHE_SECONDS)
    return value


_PREFETCHED = "prefetched-cache-entries"
_ABSENT = object()


def prefetch(keys: list[str]) -> None:
    """Read these shared-cache entries (``user_key``) in one round trip: the calls that
    ask for them later in this request (``cached_for_user``, ``cached_get``) take them
    from here instead of asking one by one. Each key names what it holds (a version is in
    it), so an entry read a moment earlier is the entry. Nothing is kept past the request.
    The entries ``_keep`` left to write go in the same round trip."""
    store = memoised(_PREFETCHED, dict)
    # Read with the user (``expect_keys``): taken by the request's first prefetch (the
    # gate's) for the keys it asks for, and the rest dropped, so nothing read that early
    # lasts past it (the catalogue's keys name the catalogue, not one version of it).
    early = _take_read_with_user()
    if early:
        for key in keys:
            if key in early:
                store[key] = early[key]
        keys = [key for key in keys if key not in early]
    if not keys:
        return
    try:
        found = _write_pending_then_get(keys)
    except Exception:
        logger.exception("shared cache unavailable: entries are read one by one")
        return
    for key in keys:
        store[key] = found.get(key, _ABSENT)


def prefetched(key: str) -> bool:
    """Whether this request's ``prefetch`` read ``key`` (found or not) and nothing has
    taken it yet."""
    return key in memoised(_PREFETCHED, dict)


def cached_get(key: str):
    """``cache.get(key)``, or the entry ``prefetch`` read for it (once: a later ask reads
    again, so an entry stored meanwhile is seen)."""
    found = memoised(_PREFETCHED, dict).pop(key, None)
    if found is None:
        return cache.get(key)
    return None if found is _ABSENT else _loaded(found)


def _cached_get_many(keys: list[str]) -> dict:
    """``cache.get_many(keys)``, or the entries ``prefetch`` read for them when it read
    them all (each once, as ``cached_get``)."""
    store = memoised(_PREFETCHED, dict)
    if not all(key in store for key in keys):
        return cache.get_many(keys)
    found = {key: store.pop(key) for key in keys}
    return {key: _loaded(value) for key, value in found.items() if value is not _ABSENT}


def _loaded(value):
    """A prefetched entry as its value (one read with the user is kept as stored until
    it is asked for: ``expect_keys``)."""
    return value.value() if isinstance(value, Stored) else value


# --- Read with the user: what a person's gated request read last time, in this worker ---
#
# The gate reads the safety record and the stretch catalogue right after the user
# (stretches.gate). Their keys name what they hold (the history version, the local day,
# the catalogue's rules are in the safety record's; the catalogue is checked against its
# generation, read with it), so the keys one request asked for are, until one of those
# moves on, the keys the person's next request asks for. Each worker remembers them by
# user, with the paths the gate answered for them, and on such a path reads them in the
# user's own round trip (``cached_user``), as stored, loaded only when asked for. The
# gate's prefetch then finds them read; a key that no longer matches (the history moved,
# a new day) is simply not asked for, and the gate reads the new one as before.
_EXPECTED: dict[object, tuple[tuple[str, ...], frozenset[str]]] = {}
EXPECTED_MAX = 4096
EXPECTED_PATHS_MAX = 16


def expect_keys(user_id, keys: list[str], path: str) -> None:
    """Remember ``keys`` as what the person's next request to ``path`` (or to another
    path the gate answered for them here) will read after the user. Only such a request
    reads them with the user: any other (``/healthz``, the progress pages) never pays for
    them."""
    if not settings.CACHE_IS_SHARED:
        return
    keys = tuple(keys)
    known = _EXPECTED.get(user_id)
    paths = known[1] if known is not None else frozenset()
    if known is not None and known[0] == keys and path in paths:
        return
    if path not in paths:
        paths = frozenset([path]) if len(paths) >= EXPECTED_PATHS_MAX else paths | {path}
    if known is None and len(_EXPECTED) >= EXPECTED_MAX:
        _EXPECTED.clear()  # a worker's memory stays bounded; the next requests relearn
    _EXPECTED[user_id] = (keys, paths)


def forget_expected() -> None:
    _EXPECTED.clear()


def _get_user_entries(user_keys: list[str], user_id) -> dict:
    """``cache.get_many(user_keys)``, with, in the same round trip, the keys this worker
    expects the person's request to read next (``expect_keys``), kept for the request's
    first ``prefetch``."""
    expected = _EXPECTED.get(user_id)
    memo = request_memo()
    if (
        expected is None
        or memo is None
        or memo.get(REQUEST_PATH) not in expected[1]
        or not hasattr(cache, "get_many_and_raw")
    ):
        return cache.get_many(user_keys)
    found, raw = cache.get_many_and_raw(user_keys, list(expected[0]))
    memo[_READ_WITH_USER] = {key: raw.get(key, _ABSENT) for key in expected[0]}
    return found


_READ_WITH_USER = "read-with-the-user"


def _take_read_with_user() -> dict:
    """What ``_get_user_entries`` read with the user, once (none outside a request)."""
    memo = request_memo()
    if memo is None:
        return {}
    return memo.pop(_READ_WITH_USER, None) or {}


def shared_keys(kind: str, ident) -> list[str]:
    """The keys ``cached_shared(kind, ident, ...)`` reads, for ``prefetch``."""
    return list(_keys(kind, ident))


def user_key(
    profile,
    name: str,
    *,
    extra: tuple[Hashable, ...] = (),
    history: bool = False,
    today: date | None = None,
    data_version: int | None = None,
) -> str:
    """The cache key of ``cached_for_user`` (same arguments), for a caller that reads and
    writes the entry itself. ``data_version``: another than the profile's (the one a
    write about to be made will move it to)."""
    if data_version is None:
        data_version = profile.data_version
    version = f"h{profile.history_version}" if history else data_version
    day = profile.local_today() if today is None else today
    # The deployed code and templates too: nothing an older deploy made is used by a newer.
    parts = (name, fingerprint(), profile.user_id, version, day)
    key = ":".join(str(part) for part in parts)
    if extra:
        key += ":" + hashlib.blake2s(repr(extra).encode(), digest_size=12).hexdigest()
    return key


def data_changed(user, *, today_only: bool = False) -> None:
    """Every write to a user's records or profile calls this, in the same transaction.

    ``today_only=True`` says the write touched nothing but the user's local today's
    sessions and stamped no safety event (``tracking.services.log_session`` decides):
    the history version then stays, and what is cached under it (the days before today,
    the safety record) is kept. Any other write moves both versions on.
    """
    sql, params = bump_statement(user, today_only=today_only)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    versions_moved(user, row)


def keeps_committed_rows() -> bool:
    """Whether ``bump_statement`` hands back the whole profile row, kept for the next
    request (with what ``ride_with_kept_row`` adds): only where it is kept (a shared
    cache), and on PostgreSQL, whose driver gives typed values (SQLite's would give text
    for dates)."""
    return settings.CACHE_IS_SHARED and connection.vendor == "postgresql"


def bump_statement(user, *, today_only: bool = False) -> tuple[str, list]:
    """The one UPDATE behind ``data_changed``: it moves the versions on and hands them
    back (PostgreSQL and SQLite both have RETURNING), and with them, where it is kept,
    the whole row as the transaction commits it (the update holds the row's lock until
    then). For ``data_changed``, and for a write that runs it in its own statement
    (``tracking.services``); ``versions_moved`` takes what it returned.

    The profile is looked up by name so that every app can call this without importing
    ``accounts`` (the apps import one another in one direction only).
    """
    loaded = loaded_profile(user)
    params = []
    zone_decides = today_only and loaded is not None
    if zone_decides:
        params.append(loaded.time_zone)
    return _bump_sql(connection.vendor, zone_decides, keeps_committed_rows()), [*params, user.pk]


@functools.cache
def _bump_sql(vendor: str, zone_decides: bool, whole_row: bool) -> str:
    """``bump_statement``'s text (it depends on nothing else; made once per shape)."""
    profile_model = apps.get_model("accounts", "Profile")
    history = "history_version + 1"
    if zone_decides:
        # "Today" was judged in the time zone this request loaded. Another request may
        # have changed it since (and cached the days before the new zone's today): the
        # row, locked by this update, decides. Any other zone moves the history on.
        history = "CASE WHEN time_zone = %s THEN history_version ELSE history_version + 1 END"
    quote = connection.ops.quote_name
    returning = "data_version, history_version"
    if whole_row:
        fields = profile_model._meta.concrete_fields
        returning += ", " + ", ".join(quote(field.column) for field in fields)
    return (
        f"UPDATE {quote(profile_model._meta.db_table)} "
        f"SET data_version = data_version + 1, history_version = {history} "
        f"WHERE user_id = %s RETURNING {returning}"
    )


def versions_moved(user, row, *, retired_with: str | None = None) -> None:
    """After ``bump_statement`` ran: ``row`` is what it returned (None: no profile).

    Retires the cached profile row now and after the commit, or only after it when the
    caller retired it before its statement (``retired_with``: the generation
    ``retire_before_write`` made, before a single statement in autocommit, which is its
    own commit); keeps the row as committed for the person's next request
    (``records_changed``); and brings this request's profile up to date.
    """
    committed = None
    if row is not None and len(row) > 2:
        profile_model = apps.get_model("accounts", "Profile")
        names = [field.attname for field in profile_model._meta.concrete_fields]
        committed = profile_model.from_db(connection.alias, names, row[2:])
    # The versions travel with the cached profile row: retire it, or the next request
    # would still see the old ones (and with them the old gate decision). The row as
    # committed is kept under the generation made after the commit, so that the
    # person's next request (the next log POST, say) need not read it again.
    records_changed(user.pk, committed=committed, retired_with=retired_with)
    # The request goes on with this user: what it reads next must not come from the
    # cache entries the write just retired.
    loaded = loaded_profile(user)
    if loaded is None or row is None:
        return
    if committed is not None:
        # The row as this write commits it, whatever another tab changed meanwhile.
        for field in committed._meta.concrete_fields:
            setattr(loaded, field.attname, getattr(committed, field.attname))
        return
    if row[0] != loaded.data_version + 1:
        # Another write landed since this request read the profile (a setting changed
        # in another tab, say): what the request builds next (the fresh plan of a log
        # POST) must be made from the row as it is now, which this update has locked,
        # not from the settings read before.
        loaded.refresh_from_db()
    loaded.data_version, loaded.history_version = row[0], row[1]


def loaded_profile(user):
    """The profile this request loaded with ``user``, or None (never a query)."""
    return getattr(getattr(user, "_state", None), "fields_cache", {}).get("profile")


def read_profile_again(user) -> None:
    """Read the loaded profile row again (settings and versions), for a request that has
    learnt that another write landed since it loaded it."""
    loaded = loaded_profile(user)
    if loaded is not None:
        loaded.refresh_from_db()


# --- The signed-in user, shared by every worker (only with REDIS_URL) -------------------
#
# Each user has a generation in the cache: a random token replaced (never incremented
# from a stale copy) by every write to the user, their profile or their safety records.
# A cached user is stored with the generation read *before* it was loaded from the
# database and is used only while that generation is current. So a worker that read the
# database just before another worker's write cannot keep the old user alive: the write
# replaces the generation after its commit, and the old entry no longer matches.


# The signed-in user is kept in two entries, read in one round trip:
#
# - "account": the user row (with the profile as it was), under "account-generation",
#   which saves and deletes of the user or profile replace (``user_changed``);
# - "profile": the profile row, data and history versions included, under
#   "user-generation", which every write replaces: to the person's records
#   (``data_changed``: a logged session, a stop signal, a screening...) and to the user
#   or profile alike. Its row replaces the account's copy of the profile on every request.
#
# So the request after a logged session reads the profile row again, one indexed row,
# not the user.
#
# The release before this one kept the whole user, versions included, as "user:<id>"
# under "user-generation", and on every write replaced that generation and deleted
# "user:<id>". During a rolling deploy both releases serve at once, so each must see the
# other's writes. Its readers see this release's: every write here replaces
# "user-generation" too. This release's readers see its writes through "user:<id>":
# this release keeps a token of its own there ("s.<hex>", made before the account is
# loaded, like a generation), and an account is current only while that token is. Any
# write of the release before deletes it; a copy it keeps there replaces it.
GENERATION_NAMES = {"profile": "user"}
LEGACY_USER = "user:{}"
TOKEN_PREFIX = "s."


def _keys(kind: str, ident) -> tuple[str, str]:
    return f"{GENERATION_NAMES.get(kind, kind)}-generation:{ident}", f"{kind}:{ident}"


def cached_user[T, P](
    user_id,
    load: Callable[[], T | None],
    load_profile: Callable[[], P | None],
    attach_profile: Callable[[T, P], None],
) -> T | None:
    """The user (with their profile) for ``user_id``, from the shared cache or ``load()``.

    ``load()`` reads the user with their profile; ``load_profile()`` the profile row alone;
    ``attach_profile`` puts a profile on a user. Both entries (above) follow the generation
    rule: each generation is read, or made, before anything is loaded.

    Without a shared cache this is ``load()``: a worker's own memory cannot be told
    that another worker signed the user out or paused them.
    """
    if not settings.CACHE_IS_SHARED:
        return load()
    legacy = LEGACY_USER.format(user_id)
    try:
        found = _get_user_entries(
            [*_keys("account", user_id), *_keys("profile", user_id), legacy], user_id
        )
        account, account_generation = _current(found, "account", user_id)
        token = found.get(legacy)
        if not (isinstance(token, str) and token.startswith(TOKEN_PREFIX)):
            token = None
        user = (
            account[1]
            if account is not None and token is not None and account[0] == token
            else None
        )
        profile, profile_generation = _current(found, "profile", user_id)
        if user is None:
            account_generation = _generation("account", user_id, account_generation)
            if token is None:
                token = TOKEN_PREFIX + secrets.token_hex(8)
                cache.set(legacy, token, timeout=None)
        if user is None or profile is None:
            profile_generation = _generation("profile", user_id, profile_generation)
    except Exception:
        logger.exception("shared cache unavailable: reading the user from the database")
        return load()
    if user is None:
        user = load()
        if user is None:
            return None
        # Kept without the profile: every request attaches the profile row's own entry.
        _keep("account", user_id, account_generation, (token, _alone(user)), USER_CACHE_SECONDS)
        loaded = getattr(user, "profile", None)
        if profile is None and loaded is not None:
            # Read after the generation: as current as the account itself.
            _keep("profile", user_id, profile_generation, _alone(loaded), USER_CACHE_SECONDS)
        return user
    if profile is None:
        profile = load_profile()
        if profile is None:
            return user
        _keep("profile", user_id, profile_generation, profile, USER_CACHE_SECONDS)
    attach_profile(user, profile)
    return user


def _alone(instance):
    """A copy of a model instance without the related objects it carries (the user and
    the profile loaded together would otherwise each be kept with a copy of the other)."""
    copied = copy.copy(instance)
    copied._state.fields_cache = {}
    return copied


def _current(found: dict, kind: str, ident) -> tuple[object | None, str | None]:
    """The value ``found`` holds for ``kind`` while its generation is current, else None;
    and that generation (None when there is none yet)."""
    generation_key, value_key = _keys(kind, ident)
    generation, entry = found.get(generation_key), found.get(value_key)
    if generation is not None and entry is not None and entry[0] == generation:
        return entry[1], generation
    return None, generation


def _generation(kind: str, ident, found: str | None) -> str | None:
    """The generation read (``found``), or, when there was none, one made now (or the
    one another worker made first). Called before loading."""
    if found is not None:
        return found
    generation_key, _ = _keys(kind, ident)
    generation = secrets.token_hex(8)
    if not cache.add(generation_key, generation, timeout=None):
        generation = cache.get(generation_key)
    return generation


_PENDING = "pending-cache-writes"


def _keep(kind: str, ident, generation: str | None, value, timeout: int) -> None:
    """Keep ``value``, loaded after ``generation`` was read, under it.

    In a request, written with the request's next read of the shared cache (``prefetch``:
    one round trip for both), or at its end (``write_pending``). The entry is only a copy
    kept under the generation read before loading: written a few milliseconds later it
    is just as current, or, if a write retired that generation meanwhile, never used.
    """
    if generation is None:
        return
    try:
        _write_later(_keys(kind, ident)[1], (generation, value), timeout)
    except Exception:
        logger.exception("could not cache the %s", kind)


def _write_later(key: str, value, timeout: int) -> None:
    """``cache.set(key, value, timeout)``, in a request with a shared cache made with its
    next read (``prefetch``) or as it ends (``write_pending``): one round trip fewer."""
    memo = request_memo()
    if memo is not None and settings.CACHE_IS_SHARED:
        # Pickled now, as it was read: the request goes on with the same object, and may
        # change it without saving it (a refused settings form sets its valid fields on
        # the profile), which must never reach the cache.
        memo.setdefault(_PENDING, []).append((key, Pickled.of(value), timeout))
        return
    cache.set(key, value, timeout)


def _write_pending_then_get(keys: list[str]) -> dict:
    """The pending writes (``_keep``), then ``get_many(keys)``: one round trip with
    lib.redis_cache."""
    memo = request_memo()
    pending = memo.pop(_PENDING, []) if memo is not None else []
    if pending and hasattr(cache, "set_many_then_get_many"):
        return cache.set_many_then_get_many(pending, keys)
    for key, pickled, timeout in pending:
        try:
            cache.set(key, pickled.value(), timeout)
        except Exception:
            logger.exception("could not cache %s", key)
    return cache.get_many(keys) if keys else {}


def write_pending() -> None:
    """Write what ``_keep`` left to write (RequestMemoMiddleware, as the request ends)."""
    try:
        _write_pending_then_get([])
    except Exception:
        logger.exception("could not write the pending cache entries")


def user_changed(user_id) -> None:
    """Retire the cached user (account and profile) now and again once the write commits.

    Called on every save or delete of a user or profile (accounts.signals). The first
    retirement happens inside the caller's transaction, so if the cache cannot be
    reached the write fails rather than leave a stale user behind; the second, after the
    commit, defeats a worker that loaded the old row in between.
    """
    retire("account", user_id)
    records_changed(user_id)


def records_changed(user_id, *, committed=None, retired_with: str | None = None) -> None:
    """Retire the cached profile row (and with it the data and history versions) of the
    user, as ``user_changed`` retires the user: now and again after the commit. Replacing
    "user-generation" retires the release before this one's copy of the user too.

    ``committed``: the profile row exactly as the caller's transaction commits it (read
    back by the statement that locked it), kept after the commit for the person's next
    request, unless anything retired the row in between (``retire``).
    ``retired_with``: the generation ``retire_before_write`` made before the caller's
    write (a single statement, which is its own commit): only the second half is left."""
    retire(
        "profile",
        user_id,
        then_keep=committed,
        timeout=USER_CACHE_SECONDS,
        retired_with=retired_with,
    )


def cached_shared[T](kind: str, ident, load: Callable[[], T | None], timeout: int) -> T | None:
    """``load()``, kept in the shared cache under ``kind`` and ``ident`` with the
    generation read before loading (above), until ``retire(kind, ident)``; without a
    shared cache, always ``load()``."""
    if not settings.CACHE_IS_SHARED:
        return load()
    try:
        found = _cached_get_many(shared_keys(kind, ident))
        value, generation = _current(found, kind, ident)
        if value is not None:
            return value
        generation = _generation(kind, ident, generation)
    except Exception:
        logger.exception("shared cache unavailable: reading the %s from the database", kind)
        return load()
    value = load()
    if value is not None:
        _keep(kind, ident, generation, value, timeout)
    return value


def retire(
    kind: str,
    ident,
    *,
    then_keep=None,
    timeout: int = 0,
    retired_with: str | None = None,
) -> None:
    """Retire what ``cached_shared`` keeps under ``kind`` and ``ident`` in every worker:
    now (inside the caller's transaction: if the cache cannot be reached, the write
    fails) and again after the commit. ``retired_with``: the caller retired it before
    its write (``retire_before_write``), which made this generation; only the second
    half is left.

    ``then_keep``: the value as the transaction commits it, kept (for ``timeout``
    seconds) under the generation made after the commit, but only if the generation is
    still the one made before the commit: another write that committed in between (a
    setting or a stop signal in another tab, its retirement already made) has retired
    it, and the value read at this commit is then older than that write. The check and
    the writes are one atomic step (lib.redis_cache.replace_generation)."""
    if not settings.CACHE_IS_SHARED:
        return
    before = retired_with if retired_with is not None else _new_generation(kind, ident)
    # What rides with the kept row (``ride_with_kept_row``), asked now, with the row.
    also = _riders(kind, ident, then_keep)

    def after_commit() -> None:
        if then_keep is None or before is None or not hasattr(cache, "replace_generation"):
            _new_generation(kind, ident, quiet=True)
            return
        generation_key, value_key = _keys(kind, ident)
        generation = secrets.token_hex(8)
        try:
            cache.replace_generation(
                generation_key,
                value_key,
                before,
                generation,
                Pickled.of((generation, then_keep)),
                timeout,
                also=also,
            )
        except Exception:
            # The script refused (say, an account without scripting) or the round trip
            # failed: at least the plain retirement, as without a row to keep.
            logger.exception("could not keep the cached %s %s", kind, ident)
            _new_generation(kind, ident, quiet=True)

    transaction.on_commit(after_commit)


_RIDERS = "writes-with-the-kept-row"


def ride_with_kept_row(kind: str, ident, rider: Callable[[object], tuple | None]) -> None:
    """For the write this request is about to make: when the row it commits is kept
    (``retire(then_keep=row)``, in the round trip at the commit), ``rider(row)`` is asked
    for one more entry to write in that same round trip, ``(key, Pickled, timeout)``, or
    None. For a value that is right only if the write went as its maker expected, which
    the committed row shows (the log POST's fresh plan, made before its statement: no
    round trip of its own at the request's end). Asked once; ``drop_rider`` after the
    write in any case."""
    memo = request_memo()
    if memo is not None and settings.CACHE_IS_SHARED:
        memo.setdefault(_RIDERS, {})[kind, ident] = rider


def drop_rider(kind: str, ident) -> None:
    memo = request_memo()
    if memo is not None:
        memo.get(_RIDERS, {}).pop((kind, ident), None)


def _riders(kind: str, ident, committed) -> tuple:
    memo = request_memo()
    rider = memo.get(_RIDERS, {}).pop((kind, ident), None) if memo is not None else None
    if rider is None or committed is None:
        return ()
    try:
        entry = rider(committed)
    except Exception:
        # Only ever one entry fewer: the row's own retirement and keep must still follow.
        logger.exception("could not make what rides with the kept %s %s", kind, ident)
        return ()
    return () if entry is None else (entry,)


def retire_before_write(kind: str, ident) -> str | None:
    """``retire``'s first half, for a write made in one statement outside a transaction
    (it commits as it runs): called just before it, so that if the cache cannot be
    reached nothing is written. Returns the generation it made, for the second half,
    after the statement (``now=False``, ``retired_with``)."""
    if not settings.CACHE_IS_SHARED:
        return None
    return _new_generation(kind, ident)


def retire_quietly(kind: str, ident) -> None:
    """Retire now, without raising when the cache cannot be reached (it is logged): for a
    path already failing, whose own error must stand."""
    if settings.CACHE_IS_SHARED:
        _new_generation(kind, ident, quiet=True)


def _new_generation(kind: str, ident, *, quiet: bool = False) -> str | None:
    """Replace the generation (and drop the value kept under the old one); returns the
    new one, or None when the cache could not be reached (``quiet``)."""
    generation_key, value_key = _keys(kind, ident)
    generation = secrets.token_hex(8)
    try:
        if hasattr(cache, "set_and_delete"):  # lib.redis_cache: one round trip
            cache.set_and_delete(generation_key, generation, value_key)
        else:
            cache.set(generation_key, generation, timeout=None)
            cache.delete(value_key)
    except Exception:
        if not quiet:
            raise
        logger.exception("could not retire the cached %s %s", kind, ident)
        return None
    return generation
