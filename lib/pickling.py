"""Model instances pickled compactly, for the ones the shared cache holds on every request.

Django pickles a model instance as a copy of its ``__dict__`` with a copy of its
``ModelState`` (and of that state's cache of related objects) and the Django version,
and unpickles it by looking its model up in the app registry and checking that version.
For the stretches a plan holds and the catalogue (read and written on every log), that
was most of what pickling the plan cost (bench/README.md, part 14).

``CompactPickle`` pickles an instance that carries no related objects as its field values
and the three facts of its state that matter (database, whether it is unsaved, its fetch
mode), and rebuilds it without the registry. An instance that does carry related objects
is pickled as Django does. Entries are only ever read by the code that wrote them: every
shared-cache key names the code's fingerprint (``config.settings.CODE_FINGERPRINT``).
"""

from __future__ import annotations

from django.db.models.base import DJANGO_VERSION_PICKLE_KEY, ModelState

# Not field values: the state itself, and the version Django's own unpickling leaves in the
# ``__dict__`` of an instance it made (an entry written by a release before this one).
_NOT_VALUES = frozenset({"_state", DJANGO_VERSION_PICKLE_KEY})


def _rebuilt(cls, values: tuple, db, adding: bool, fetch_mode):
    instance = cls.__new__(cls)
    instance.__dict__.update(values)
    state = instance._state = ModelState()
    state.db = db
    state.adding = adding
    if fetch_mode is not None:
        state.fetch_mode = fetch_mode
    return instance


_rebuilt.__safe_for_unpickle__ = True


class CompactPickle:
    """Mixed into a model: its instances pickle as ``_rebuilt`` remakes them."""

    __slots__ = ()

    def __reduce__(self):
        state = self._state
        held = state.__dict__
        if held.get("fields_cache") or "peers" in held:
            return super().__reduce__()  # related objects or fetch peers: as Django does
        values = tuple(item for item in self.__dict__.items() if item[0] not in _NOT_VALUES)
        return (_rebuilt, (type(self), values, state.db, state.adding, held.get("fetch_mode")))
