"""A review's attacks (kept) on ``lib.choices.FieldsCopiedOnUse`` (fields copied from the
class on first use). A form with ``field_order`` (BackdatedSessionForm, EditSessionForm)
goes through Django's ``order_fields``, whose ``dict.update(self.fields)`` read the dict
subclass's storage directly (CPython's fast path: no ``__getitem__``): every field but the
ordered one was the *class's own* field object, and each request's changes to it
(choices, help text, error messages) were made to the class, for every later form of
every person. Fixed by defining ``__iter__``, which sends CPython down the generic path.
"""

from __future__ import annotations

import pytest

import tracking.templatetags.fragments
from stretches.models import StopSignal
from tests.factories import exercise, make_session, make_user
from tracking.forms import (
    AFTER_SESSION_SIGNALS,
    BackdatedSessionForm,
    EditSessionForm,
    SessionForm,
)
from tracking.models import Session

pytestmark = pytest.mark.django_db

EDIT_HINT = "A stop signal already recorded stays recorded"


@pytest.fixture(autouse=True)
def _restore_class_fields():
    """The bug changes the class fields (shared by the three classes): afterwards each
    class gets back a copy of the field as it was, still shared as before."""
    import copy

    classes = (SessionForm, BackdatedSessionForm, EditSessionForm)
    originals = {cls: dict(dict.items(cls.base_fields)) for cls in classes}
    memo: dict = {}
    copies = {
        id(field): copy.deepcopy(field, memo)
        for fields in originals.values()
        for field in fields.values()
    }
    tracking.templatetags.fragments._kept.clear()
    yield
    for cls, fields in originals.items():
        for name, field in fields.items():
            dict.__setitem__(cls.base_fields, name, copies[id(field)])
    tracking.templatetags.fragments._kept.clear()


def catalogue():
    from tracking.plan import catalogue_rules

    return catalogue_rules()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: SessionForm(catalogue=catalogue(), ask_lasting_pain=True), id="log"),
        pytest.param(
            lambda: BackdatedSessionForm(catalogue=catalogue(), ask_lasting_pain=True),
            id="backdated",
        ),
        pytest.param(
            lambda: EditSessionForm(
                catalogue=catalogue(), session=Session(exercise=exercise()), initial={}
            ),
            id="edit",
        ),
    ],
)
def test_every_field_a_form_uses_is_its_own_copy(make):
    form = make()
    shared = sorted(
        name
        for name, field in form.fields.items()
        if any(
            field is dict.get(cls.base_fields, name)
            for cls in type(form).__mro__
            if isinstance(cls.__dict__.get("base_fields"), dict)
        )
    )
    # Only what the class itself declares it never changes (lib.choices): the log form's.
    declared = sorted(type(form).__dict__.get("shared_fields", ()))
    assert shared == declared, f"{type(form).__name__} uses the class's own fields: {shared}"


def test_opening_an_edit_page_does_not_change_todays_log_form_for_everyone(client):
    """Someone opens the edit page of a session; someone else then opens /today/ (the
    log form's fragments not kept yet in this process): their log form must offer the
    after-session stop signals only, without the edit page's hint."""
    editor = make_user("editor")
    session = make_session(editor)
    client.force_login(editor)
    assert client.get(f"/sessions/{session.pk}/edit/").status_code == 200
    client.logout()

    other = make_user("other")
    client.force_login(other)
    client.post("/today/lasting-pain/", {"lasting": "no"})
    page = client.get("/today/").content.decode()
    assert EDIT_HINT not in page, "the edit page's hint is in another person's log form"
    assert f'value="{StopSignal.LASTING_PAIN.value}"' not in page

    form = SessionForm(catalogue=catalogue(), ask_lasting_pain=False)
    assert list(form.fields["stop_signals"].choices) == AFTER_SESSION_SIGNALS
    assert not form.fields["stop_signals"].help_text
