"""Model instances pickled compactly, for the ones the shared cache holds on every request.

Django pickles a model instance as a copy of its ``__dict__`` with a copy of its
``ModelState`` (and of that state's cache of related objects) and the Django version,
and unpickles it by looking its model up in the app registry and checking that version.
For the stretches a plan holds and the catalogue (read and written on every log), that
was most of what pickling the plan cost (bench/README.md, part 14).

``CompactPickle`` pickles an instance that carries no related objects as its field values
and the three facts of its state that matter (database, whether it is unsaved, its fetch
mode); one that does carry related objects, or fetch peers, is pickled as Django does.
The instance is made first and its state set after (as Django's own pickle does), so a
copy of a structure that refers back to it (``copy.deepcopy``) keeps one copy of it.

A release before this one cannot read the compact form (it has no ``lib.pickling``): the
entries that hold stretches are under names it never reads, the plans under keys that
name the code's fingerprint (``lib.page_cache.fingerprint``), the catalogue under a copy
name of its own (``stretches.signals.CATALOGUE_COPY``, moved on with this form).
"""

from __future__ import annotations

from django.db.models.base import DJANGO_VERSION_PICKLE_KEY, ModelState

# Not field values: the state itself, and the version Django's own unpickling leaves in the
# ``__dict__`` of an instance it made (an entry written by a release before this one).
_NOT_VALUES = frozenset({"_state", DJANGO_VERSION_PICKLE_KEY})


def _new(cls):
    return cls.__new__(cls)


_new.__safe_for_unpickle__ = True


class CompactPickle:
    """Mixed into a model: its instances pickle (and copy) in the compact form."""

    __slots__ = ()

    def __reduce__(self):
        state = self._state
        held = state.__dict__
        if held.get("fields_cache") or "peers" in held:
            return super().__reduce__()  # related objects or fetch peers: as Django does
        values = tuple(item for item in self.__dict__.items() if item[0] not in _NOT_VALUES)
        return (_new, (type(self),), (values, state.db, state.adding, held.get("fetch_mode")))

    def __setstate__(self, state):
        if not isinstance(state, tuple):
            super().__setstate__(state)  # Django's form (an instance with related objects)
            return
        values, db, adding, fetch_mode = state
        self.__dict__.update(values)
        model_state = self._state = ModelState()
        model_state.db = db
        model_state.adding = adding
        if fetch_mode is not None:
            model_state.fetch_mode = fetch_mode
