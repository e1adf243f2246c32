"""Django's RedisCache, keeping one redis-py client per connection pool.

Django's client makes a new ``redis.Redis`` for every cache call; redis-py builds its
table of about 80 response callbacks in each one, which cost more than the round trip
itself on a signed-in request (bench/README.md has the figures). A ``redis.Redis`` over a
connection pool is safe to share between threads, so one per pool is kept.
"""

import logging
import pickle

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient, RedisSerializer
from redis.exceptions import NoScriptError

logger = logging.getLogger(__name__)


class Pickled(bytes):
    """A value already pickled (as Django's Redis serializer pickles it), to be written
    as it was then: ``set_many_then_get_many`` does not pickle it again."""

    @classmethod
    def of(cls, value) -> "Pickled":
        return cls(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))

    def value(self):
        return pickle.loads(self)


_SERIALIZER = RedisSerializer()


class Stored(bytes):
    """An entry as Redis holds it, loaded only when it is asked for, as Django's
    serializer loads it (a plain integer is stored as its digits, anything else pickled)."""

    def value(self):
        return _SERIALIZER.loads(self)


class _ReusedClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClient
        self._scripts = {}

    def set_and_delete(self, set_key, value, delete_key, version=None) -> None:
        """``set(set_key, value, timeout=None)`` and ``delete(delete_key)`` in one round
        trip (a pipeline, not a transaction: each command is atomic on its own, and the
        callers' correctness rests on the first alone)."""
        set_key = self.make_and_validate_key(set_key, version=version)
        delete_key = self.make_and_validate_key(delete_key, version=version)
        client = self._cache.get_client(set_key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(set_key, self._cache._serializer.dumps(value))
        pipe.delete(delete_key)
        pipe.execute()

    def set_many_then_get_many(
        self, entries: list[tuple[str, object, int | None]], keys: list[str], version=None
    ) -> dict:
        """``set(key, value, timeout)`` for each of ``entries``, then ``get_many(keys)``, in
        one round trip (a pipeline: Redis runs its commands in order, so a key both set
        and read is read as set). A ``Pickled`` value is written as it is."""
        client = self._cache.get_client(None, write=True)
        pipe = client.pipeline(transaction=False)
        serializer = self._cache._serializer
        for key, value, timeout in entries:
            made = self.make_and_validate_key(key, version=version)
            seconds = self.get_backend_timeout(timeout)
            if seconds == 0:
                pipe.delete(made)
            else:
                data = value if isinstance(value, Pickled) else serializer.dumps(value)
                pipe.set(made, data, ex=seconds)
        made_keys = {self.make_and_validate_key(key, version=version): key for key in keys}
        if made_keys:
            pipe.mget(list(made_keys))
        results = pipe.execute()
        if not made_keys:
            return {}
        return {
            made_keys[made]: serializer.loads(value)
            for made, value in zip(made_keys, results[-1], strict=True)
            if value is not None
        }

    def get_many_and_raw(self, keys: list[str], raw_keys: list[str], version=None):
        """``get_many(keys)``, and in the same round trip the entries under ``raw_keys``
        as they are stored (``Stored``, not loaded: a caller that may never need them
        pays only for their bytes). Two dicts, each without the keys not found."""
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        made_raw = {self.make_and_validate_key(key, version=version): key for key in raw_keys}
        ordered = [*made, *(key for key in made_raw if key not in made)]
        if not ordered:
            return {}, {}
        values = self._cache.get_client(None).mget(ordered)
        stored = dict(zip(ordered, values, strict=True))
        loads = self._cache._serializer.loads
        found = {key: loads(stored[made_key]) for made_key, key in made.items()
                 if stored[made_key] is not None}  # fmt: skip
        raw = {key: Stored(stored[made_key]) for made_key, key in made_raw.items()
               if stored[made_key] is not None}  # fmt: skip
        return found, raw

    _REPLACE_GENERATION = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      redis.call('SET', KEYS[1], ARGV[2])
      redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
      return 1
    end
    redis.call('SET', KEYS[1], ARGV[2])
    redis.call('DEL', KEYS[2])
    return 0
    """

    def replace_generation(
        self,
        generation_key,
        value_key,
        expected,
        generation,
        value,
        timeout,
        version=None,
        *,
        also=(),
    ) -> bool:
        """``set(generation_key, generation, timeout=None)``, and ``set(value_key, value,
        timeout)`` only while ``generation_key`` still held ``expected`` (else
        ``delete(value_key)``), atomically: one Lua script, one round trip. True when the
        value was written. A ``Pickled`` value is written as it is.

        ``also``: more ``(key, value, timeout)`` entries set in the same round trip
        (after the script, each on its own: one that fails is logged, and the script's
        answer stands)."""
        generation_key = self.make_and_validate_key(generation_key, version=version)
        value_key = self.make_and_validate_key(value_key, version=version)
        client = self._cache.get_client(generation_key, write=True)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts.setdefault(
                id(client), client.register_script(self._REPLACE_GENERATION)
            )
        serializer = self._cache._serializer
        data = value if isinstance(value, Pickled) else serializer.dumps(value)
        seconds = self.get_backend_timeout(timeout)
        keys = [generation_key, value_key]
        args = [serializer.dumps(expected), serializer.dumps(generation), data, seconds]
        if not also:
            return bool(script(keys=keys, args=args))
        pipe = client.pipeline(transaction=False)
        pipe.evalsha(script.sha, len(keys), *keys, *args)
        for key, entry, entry_timeout in also:
            made = self.make_and_validate_key(key, version=version)
            entry = entry if isinstance(entry, Pickled) else serializer.dumps(entry)
            pipe.set(made, entry, ex=self.get_backend_timeout(entry_timeout))
        written, *rest = pipe.execute(raise_on_error=False)
        for key, answer in zip((key for key, _, _ in also), rest, strict=True):
            if isinstance(answer, Exception):
                logger.error("could not cache %s: %s", key, answer)
        if isinstance(written, NoScriptError):
            # Not loaded (a restarted Redis): the script on its own, which loads it.
            return bool(script(keys=keys, args=args))
        if isinstance(written, Exception):
            raise written
        return bool(written)
