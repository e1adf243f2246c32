"""lib.pickling: a stretch pickled compactly comes back as Django's own unpickling would
bring it back (fields, deferred fields, saved or not, its database), for any values."""

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stretches.models import Exercise
from tests.conftest import make_session, make_user
from tracking.plan import build_plan, catalogue_rules

TEXT = st.text(max_size=40)
SMALL = st.integers(min_value=0, max_value=32767)


def _values(instance) -> dict:
    return {
        name: value
        for name, value in instance.__dict__.items()
        if name not in ("_state", "_django_version")
    }


def _same(copy, original) -> None:
    assert type(copy) is type(original)
    assert _values(copy) == _values(original)
    assert copy.get_deferred_fields() == original.get_deferred_fields()
    assert (copy._state.db, copy._state.adding) == (original._state.db, original._state.adding)
    assert copy._state.fields_cache == original._state.fields_cache
    assert copy is not original and copy._state is not original._state


@settings(max_examples=200, deadline=None)
@given(
    pk=st.none() | st.integers(min_value=1, max_value=2**31 - 1),
    slug=TEXT,
    name=TEXT,
    position=SMALL,
    hold=st.tuples(SMALL, SMALL),
    reps=SMALL,
    both_legs=st.booleans(),
    db=st.sampled_from([None, "default"]),
    adding=st.booleans(),
)
def test_any_stretch_comes_back_as_it_was_pickled(
    pk, slug, name, position, hold, reps, both_legs, db, adding
):
    exercise = Exercise(
        pk=pk, slug=slug, name=name, position=position, hold_min_seconds=hold[0],
        hold_max_seconds=hold[1], reps=reps, both_legs=both_legs,
    )  # fmt: skip
    exercise._state.db, exercise._state.adding = db, adding
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        _same(pickle.loads(pickle.dumps(exercise, protocol)), exercise)


@pytest.mark.django_db
def test_the_catalogue_as_the_shared_cache_keeps_it_comes_back_whole():
    """The catalogue's stretches are read with their text deferred: a copy keeps them
    deferred, reads one from the database when asked, and is the same row."""
    for exercise in catalogue_rules().values():
        data = pickle.dumps(exercise, pickle.HIGHEST_PROTOCOL)
        assert b"model_unpickle" not in data  # the compact form, not Django's
        copy = pickle.loads(data)
        _same(copy, exercise)
        assert copy == exercise and copy.rule == exercise.rule
        assert "steps" in copy.get_deferred_fields()
        assert copy.steps == Exercise.objects.get(pk=exercise.pk).steps  # loaded on use
        assert copy.get_absolute_url() == exercise.get_absolute_url()


@pytest.mark.django_db
def test_a_stretch_carrying_related_objects_is_pickled_as_django_does():
    exercise = Exercise.objects.first()
    exercise._state.fields_cache["carried"] = "a related object"
    data = pickle.dumps(exercise, pickle.HIGHEST_PROTOCOL)
    assert b"model_unpickle" in data
    copy = pickle.loads(data)
    assert copy._state.fields_cache == {"carried": "a related object"}
    assert _values(copy) == _values(exercise)


@pytest.mark.django_db
def test_a_plan_with_its_stretches_round_trips_and_a_copy_saves_as_an_update():
    user = make_user("pickled")
    make_session(user, pain_before=4, pain_after=2)
    plan = build_plan(user.profile)
    copy = pickle.loads(pickle.dumps(plan, pickle.HIGHEST_PROTOCOL))
    assert copy == plan
    assert [e.exercise for e in copy.items] == [e.exercise for e in plan.items]
    exercise = pickle.loads(pickle.dumps(Exercise.objects.first(), pickle.HIGHEST_PROTOCOL))
    exercise.name = "Renamed in a copy"
    exercise.save()  # not adding: an UPDATE of the same row, no second stretch
    assert Exercise.objects.filter(name="Renamed in a copy").count() == 1
    assert Exercise.objects.count() == len(catalogue_rules())
