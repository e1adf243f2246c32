"""Django's RedisCache, keeping one redis-py client per connection pool.

Django's client makes a new ``redis.Redis`` for every cache call; redis-py builds its
table of about 80 response callbacks in each one, which cost more than the round trip
itself on a signed-in request (bench/README.md has the figures). A ``redis.Redis`` over a
connection pool is safe to share between threads, so one per pool is kept.
"""

import pickle

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class Pickled(bytes):
    """A value already pickled (as Django's Redis serializer pickles it), to be written
    as it was then: ``set_many_then_get_many`` does not pickle it again."""

    @classmethod
    def of(cls, value) -> "Pickled":
        return cls(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))

    def value(self):
        return pickle.loads(self)


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

    def begin_write(
        self, writes_key, generation_key, generation, value_key, seconds: int, version=None
    ) -> None:
        """A write in one statement is about to start: count it in ``writes_key`` (which
        expires after ``seconds`` if the count is never given back), then
        ``set_and_delete(generation_key, generation, value_key)``, as one transaction
        (MULTI/EXEC): no reader can see the new generation without the count."""
        writes_key = self.make_and_validate_key(writes_key, version=version)
        generation_key = self.make_and_validate_key(generation_key, version=version)
        value_key = self.make_and_validate_key(value_key, version=version)
        client = self._cache.get_client(generation_key, write=True)
        pipe = client.pipeline(transaction=True)
        pipe.incr(writes_key)
        pipe.expire(writes_key, seconds)
        pipe.set(generation_key, self._cache._serializer.dumps(generation))
        pipe.delete(value_key)
        pipe.execute()

    _END_WRITE = """
    local n = redis.call('DECR', KEYS[1])
    if n <= 0 then redis.call('DEL', KEYS[1]) end
    return n
    """

    def end_write(self, writes_key, version=None) -> None:
        """Give back the count ``begin_write`` took (atomically: a count never goes below
        zero, and the key is gone at zero). Lua: a DECR then a DEL as two commands could
        delete another write's count taken in between."""
        writes_key = self.make_and_validate_key(writes_key, version=version)
        client = self._cache.get_client(writes_key, write=True)
        client.eval(self._END_WRITE, 1, writes_key)

    def set_many_then_get_many(
        self,
        entries: list[tuple[str, object, int | None]],
        keys: list[str],
        version=None,
        *,
        replacements: list[tuple] = (),
        refused: list[int] | None = None,
    ) -> dict:
        """``set(key, value, timeout)`` for each of ``entries``, then ``get_many(keys)``, in
        one round trip (a pipeline: Redis runs its commands in order, so a key both set
        and read is read as set). A ``Pickled`` value is written as it is.

        ``replacements``: ``replace_generation``'s arguments (``writes_key`` included),
        each run first, in the same round trip. One Redis refuses (say, an account
        without scripting) does not stop the rest: its index is added to ``refused``; any
        other error is raised."""
        client = self._cache.get_client(None, write=True)
        pipe = client.pipeline(transaction=False)
        serializer = self._cache._serializer
        for replacement in replacements:
            made = self._replacing(*replacement, version=version)
            pipe.eval(self._REPLACE_GENERATION, len(made[0]), *made[0], *made[1])
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
        results = pipe.execute(raise_on_error=False)
        for index, result in enumerate(results):
            if isinstance(result, Exception):
                if index >= len(replacements):
                    raise result
                if refused is not None:
                    refused.append(index)
        if not made_keys:
            return {}
        return {
            made_keys[made]: serializer.loads(value)
            for made, value in zip(made_keys, results[-1], strict=True)
            if value is not None
        }

    _REPLACE_GENERATION = """
    local kept = 0
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      redis.call('SET', KEYS[1], ARGV[2])
      redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
      kept = 1
    else
      redis.call('SET', KEYS[1], ARGV[2])
      redis.call('DEL', KEYS[2])
    end
    if KEYS[3] then
      local n = redis.call('DECR', KEYS[3])
      if n <= 0 then redis.call('DEL', KEYS[3]) end
    end
    return kept
    """

    def replace_generation(
        self,
        generation_key,
        value_key,
        expected,
        generation,
        value,
        timeout,
        writes_key=None,
        version=None,
    ) -> bool:
        """``set(generation_key, generation, timeout=None)``, and ``set(value_key, value,
        timeout)`` only while ``generation_key`` still held ``expected`` (else
        ``delete(value_key)``), atomically: one Lua script, one round trip. True when the
        value was written. A ``Pickled`` value is written as it is. ``writes_key``: the
        count ``begin_write`` took, given back in the same step (``end_write``)."""
        keys, args = self._replacing(
            generation_key, value_key, expected, generation, value, timeout, writes_key,
            version=version,
        )  # fmt: skip
        client = self._cache.get_client(keys[0], write=True)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts.setdefault(
                id(client), client.register_script(self._REPLACE_GENERATION)
            )
        return bool(script(keys=keys, args=args))

    def _replacing(
        self,
        generation_key,
        value_key,
        expected,
        generation,
        value,
        timeout,
        writes_key=None,
        version=None,
    ) -> tuple[list, list]:
        """The script's keys and four arguments for ``replace_generation``."""
        serializer = self._cache._serializer
        keys = [
            self.make_and_validate_key(generation_key, version=version),
            self.make_and_validate_key(value_key, version=version),
        ]
        if writes_key is not None:
            keys.append(self.make_and_validate_key(writes_key, version=version))
        args = [
            serializer.dumps(expected),
            serializer.dumps(generation),
            value if isinstance(value, Pickled) else serializer.dumps(value),
            self.get_backend_timeout(timeout),
        ]
        return keys, args
