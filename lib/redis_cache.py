"""Django's RedisCache, keeping one redis-py client per connection pool.

Django's client makes a new ``redis.Redis`` for every cache call; redis-py builds its
table of about 80 response callbacks in each one, which cost more than the round trip
itself on a signed-in request (bench/README.md has the figures). A ``redis.Redis`` over a
connection pool is safe to share between threads, so one per pool is kept.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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
