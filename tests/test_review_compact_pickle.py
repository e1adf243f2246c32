"""Review probes of lib.pickling.CompactPickle (helper-22, on 5a43f9f): the compact copy
against Django's own Model.__reduce__. The last two failed on that commit (a deep copy
made two copies of a stretch a prefetched session refers back to; the catalogue's entry,
now compact, stayed under the name the release before reads) and hold since."""

import copy
import pickle
import sys
import warnings

import pytest
from django.db import models
from django.db.models.fetch_modes import FETCH_PEERS, FETCH_RAISE

from lib.cache import shared_keys
from stretches.models import Exercise
from stretches.signals import CATALOGUE, CATALOGUE_COPY
from tests.conftest import make_session, make_user
from tracking.plan import CATALOGUE_FIELDS


def _django_bytes(instance):
    class _AsDjango:
        def __reduce__(self):
            return models.Model.__reduce__(instance)

    return pickle.dumps(_AsDjango(), pickle.HIGHEST_PROTOCOL)


@pytest.mark.django_db
def test_copy_copy_gives_an_independent_state_and_saves_as_update():
    original = Exercise.objects.only(*CATALOGUE_FIELDS).first()
    copied = copy.copy(original)
    assert copied._state is not original._state
    assert (copied._state.db, copied._state.adding) == ("default", False)
    copied._state.fields_cache["x"] = 1
    assert "x" not in original._state.fields_cache
    copied.name = "copy"
    copied.save()
    assert Exercise.objects.filter(name="copy").count() == 1
    assert original.name != "copy"


@pytest.mark.django_db
def test_deferred_copy_refreshes_and_deepcopy_is_independent():
    original = Exercise.objects.only(*CATALOGUE_FIELDS).first()
    copied = pickle.loads(pickle.dumps(original, pickle.HIGHEST_PROTOCOL))
    theirs = pickle.loads(_django_bytes(original))
    Exercise.objects.filter(pk=original.pk).update(name="Changed", steps=["a"])
    copied.refresh_from_db()
    theirs.refresh_from_db()
    assert copied.get_deferred_fields() == theirs.get_deferred_fields()
    assert copied.name == theirs.name == "Changed"
    assert copied.steps == theirs.steps == ["a"]
    copied.refresh_from_db(fields=["steps"])
    deep = copy.deepcopy(Exercise.objects.first())
    deep.steps.append("x")
    assert "x" not in Exercise.objects.first().steps


@pytest.mark.django_db
def test_fetch_modes_survive_like_django():
    for mode in (FETCH_PEERS, FETCH_RAISE):
        rows = list(Exercise.objects.fetch_mode(mode).only("slug"))
        for row in rows:
            ours = pickle.loads(pickle.dumps(row, pickle.HIGHEST_PROTOCOL))
            theirs = pickle.loads(_django_bytes(row))
            assert ours._state.fetch_mode is theirs._state.fetch_mode is mode
            assert ours._state.peers == theirs._state.peers == ()


@pytest.mark.django_db
def test_old_release_entry_reads_and_rewrites():
    original = Exercise.objects.only(*CATALOGUE_FIELDS).first()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        old = pickle.loads(_django_bytes(original))
    again = pickle.loads(pickle.dumps(old, pickle.HIGHEST_PROTOCOL))
    assert "_django_version" not in again.__dict__
    assert again.get_deferred_fields() == original.get_deferred_fields()


# --- found broken by the review, fixed ---------------------------------------------------


@pytest.mark.django_db
def test_a_stretch_with_prefetched_sessions_pickles_as_django_does():
    """A cycle back to the stretch (a prefetched session's cached ``exercise``) inside the
    compact form's constructor arguments: pickle's memo check after REDUCE copes."""
    make_session(make_user("prefetched"))
    exercise = Exercise.objects.prefetch_related("sessions").get(slug="single-knee-to-chest")
    assert exercise.sessions.all()[0].exercise is exercise  # the cycle Django makes
    pickle.loads(_django_bytes(exercise))  # Django: fine
    copy_ = pickle.loads(pickle.dumps(exercise, pickle.HIGHEST_PROTOCOL))  # held: pickle's memo
    assert copy_.sessions.all()[0].exercise is copy_


@pytest.mark.django_db
def test_a_stretch_with_prefetched_sessions_deep_copies():
    make_session(make_user("deep"))
    exercise = Exercise.objects.prefetch_related("sessions").get(slug="single-knee-to-chest")

    class _AsDjango:
        def __deepcopy__(self, memo):
            return copy._reconstruct(exercise, memo, *models.Model.__reduce__(exercise))

    theirs = copy.deepcopy(_AsDjango())
    assert theirs.sessions.all()[0].exercise is theirs  # Django: one copy of the stretch
    copied = copy.deepcopy(exercise)
    assert copied.sessions.all()[0].exercise is copied  # one copy of the stretch, as Django


def test_the_catalogue_entry_is_never_read_by_a_release_without_lib_pickling():
    """During a rolling deploy or a rollback the release before this one reads
    ``catalogue:rules-v1`` and cannot unpickle the compact form: this release keeps its
    catalogue under another name (plans are under keys naming the code's fingerprint)."""
    data = pickle.dumps({"s": Exercise(pk=1, slug="s")}, pickle.HIGHEST_PROTOCOL)
    saved = sys.modules.pop("lib.pickling")
    sys.modules["lib.pickling"] = None  # the release before: no such module
    try:
        with pytest.raises(ModuleNotFoundError):
            pickle.loads(data)
    finally:
        sys.modules["lib.pickling"] = saved
    keys = shared_keys(CATALOGUE, CATALOGUE_COPY)
    assert not any(key.endswith("rules-v1") for key in keys), keys
