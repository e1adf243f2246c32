"""lib.choices: each form's copy of a flat choice field shares the (value, label) pairs,
and is in every other way as independent, and renders and cleans exactly, as Django's."""

import pytest
from django import forms
from django.http import QueryDict
from django.utils.functional import Promise
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.choices import (
    FieldsCopiedOnUse,
    FlatCheckboxSelectMultiple,
    FlatChoiceField,
    FlatMultipleChoiceField,
    FlatRadioSelect,
    FlatTypedChoiceField,
)
from stretches.models import Exercise
from tests.properties import examples
from tracking.forms import BackdatedSessionForm, EditSessionForm, SessionForm

PAIRS = [(n, str(n)) for n in range(11)]
SIGNS = [("cramp", "Cramp"), ("numbness", "Numbness"), ("sharp", "Sharp pain")]


class Ours(forms.Form):
    scale = FlatTypedChoiceField(choices=PAIRS, coerce=int, widget=FlatRadioSelect)
    side = FlatChoiceField(choices=[("left", "Left"), ("right", "Right")])
    signs = FlatMultipleChoiceField(
        choices=SIGNS, required=False, widget=FlatCheckboxSelectMultiple
    )


class CopiedOnUse(FieldsCopiedOnUse, Ours):
    pass


class Djangos(forms.Form):
    scale = forms.TypedChoiceField(choices=PAIRS, coerce=int, widget=forms.RadioSelect)
    side = forms.ChoiceField(choices=[("left", "Left"), ("right", "Right")])
    signs = forms.MultipleChoiceField(
        choices=SIGNS, required=False, widget=forms.CheckboxSelectMultiple
    )


def test_an_unbound_form_renders_as_djangos_does():
    assert str(Ours()) == str(Djangos())
    assert str(Ours(initial={"scale": 4, "signs": ["numbness"]})) == str(
        Djangos(initial={"scale": 4, "signs": ["numbness"]})
    )


@given(
    scale=st.one_of(st.none(), st.sampled_from(["0", "7", "10", "11", "-1", "x", ""])),
    side=st.one_of(st.none(), st.sampled_from(["left", "right", "both", ""])),
    signs=st.lists(st.sampled_from(["cramp", "numbness", "sharp", "made-up"]), max_size=3),
)
@settings(max_examples=examples(100), deadline=None)
def test_any_answer_cleans_and_renders_as_with_djangos_fields(scale, side, signs):
    data = {name: value for name, value in (("scale", scale), ("side", side)) if value is not None}
    data["signs"] = signs
    djangos = Djangos(data=data)
    for ours in (Ours(data=data), CopiedOnUse(data=data)):
        assert ours.is_valid() == djangos.is_valid()
        assert ours.errors == djangos.errors
        assert ours.cleaned_data == djangos.cleaned_data
        assert str(ours) == str(djangos)


@pytest.mark.parametrize("form_class", [Ours, CopiedOnUse])
def test_each_form_gets_its_own_fields_widgets_and_messages(form_class):
    first, second = form_class(), form_class()
    first.fields["side"].choices = [("left", "Left only")]
    first.fields["side"].error_messages["invalid_choice"] = "Pick a side."
    first.fields["scale"].widget.attrs["data-x"] = "1"
    first.fields["signs"].choices.append(("extra", "Extra"))

    for form in (second, form_class()):
        assert form.fields["side"].choices == [("left", "Left"), ("right", "Right")]
        assert form.fields["side"].widget.choices == [("left", "Left"), ("right", "Right")]
        assert form.fields["side"].error_messages["invalid_choice"] != "Pick a side."
        assert "data-x" not in form.fields["scale"].widget.attrs
        assert form.fields["signs"].choices == SIGNS
        assert form.fields["signs"].widget.choices == SIGNS
    assert Ours.base_fields["signs"].choices == SIGNS


def test_grouped_choices_are_refused():
    with pytest.raises(TypeError):
        FlatChoiceField(choices=[("Legs", [("left", "Left"), ("right", "Right")])])


def test_a_django_widget_is_refused():
    with pytest.raises(TypeError):
        FlatChoiceField(choices=[("left", "Left")], widget=forms.RadioSelect)


def test_the_log_forms_are_built_from_them():
    """The log POST builds two log forms, handed the class's own choice fields (below);
    the forms built from it (edit, back-dated) copy them, sharing their pairs."""
    form = SessionForm(catalogue={}, ask_lasting_pain=False)
    for name in ("pain_before", "pain_after", "sides", "stop_signals"):
        assert form.fields[name] is SessionForm.base_fields[name]
        backdated = BackdatedSessionForm(catalogue={}, ask_lasting_pain=False)
        field = backdated.fields[name]
        assert field is not BackdatedSessionForm.base_fields[name]
        assert field.choices is not BackdatedSessionForm.base_fields[name].choices
        assert field.choices[0] is BackdatedSessionForm.base_fields[name].choices[0]


class Shares(FieldsCopiedOnUse, Ours):
    shared_fields = frozenset({"scale"})


class SharesNothingOfItsOwn(Shares):
    pass


def test_shared_fields_are_the_classes_own_and_never_inherited():
    form = Shares()
    assert form.fields["scale"] is Shares.base_fields["scale"]
    assert form.fields["side"] is not Shares.base_fields["side"]
    # A subclass may change what its parent only reads: it copies unless it says so.
    child = SharesNothingOfItsOwn()
    assert child.fields["scale"] is not SharesNothingOfItsOwn.base_fields["scale"]
    child.fields["scale"].widget.attrs["data-x"] = "1"
    assert "data-x" not in Shares().fields["scale"].widget.attrs


def test_a_shared_name_that_is_no_field_is_refused():
    class Typo(FieldsCopiedOnUse, Ours):
        shared_fields = frozenset({"scales"})

    with pytest.raises(TypeError, match="scales"):
        Typo()


def _state(value, depth: int = 0):
    """Everything an object holds, as plain nested tuples (to compare before and after)."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, (str, int, float, bool, bytes, type(None))) or depth > 6:
        return repr(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_state(item, depth + 1) for item in value]
        return (type(value).__name__, tuple(sorted(items) if isinstance(value, set) else items))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _state(v, depth + 1)) for k, v in value.items())))
    if hasattr(value, "__dict__"):
        return (type(value).__name__, _state(vars(value), depth + 1))
    return repr(value)


def _shared_state() -> dict:
    return {
        name: _state(dict.__getitem__(SessionForm.base_fields, name))
        for name in SessionForm.shared_fields
    }


STRETCHES = {
    slug: Exercise(pk=n, slug=slug, name=name, hold_max_seconds=30, both_legs=both)
    for n, (slug, name, both) in enumerate(
        [("single-knee-to-chest", "Single", False), ("double-knee-to-chest", "Double", True)],
        start=1,
    )
}
VALID = {
    "exercise": "single-knee-to-chest",
    "sides": "left_right",
    "reps_per_side": "3",
    "hold_seconds": "25",
    "pain_before": "4",
    "pain_after": "2",
    "note": "Felt fine",
    "client_token": "0b3f3c3e-6a53-4d0b-9d6f-1f0c5a9d2e11",
    "lasting_pain": "on",
}
ODD = st.one_of(
    st.sampled_from(
        [
            None,
            "",
            "0",
            "10",
            "11",
            "-1",
            "120",
            "121",
            "x",
            "both",
            "left",
            "double-knee-to-chest",
            "nope",
            "a" * 501,
        ]
    ),  # fmt: skip
    st.text(max_size=12),
)


@given(
    odd=st.dictionaries(st.sampled_from(sorted(VALID)), ODD, max_size=4),
    signals=st.lists(st.sampled_from(["numbness", "sharp_pain", "made-up", ""]), max_size=3),
    lasting=st.booleans(),
)
@settings(max_examples=examples(100), deadline=None)
def test_no_input_changes_the_fields_the_log_forms_share(odd, signals, lasting):
    """Cleaning any input, reporting its errors and drawing every field of the log form
    (and of the edit form, which copies them) leaves the shared fields as they were: a
    change would reach every later form of every person."""
    before = _shared_state()
    data = QueryDict(mutable=True)
    for name, value in (VALID | odd).items():
        if value is not None:
            data[name] = value
    data.setlist("stop_signals", signals)
    for form in (
        SessionForm(data, catalogue=STRETCHES, ask_lasting_pain=lasting),
        SessionForm(catalogue=STRETCHES, ask_lasting_pain=lasting, initial=data.dict()),
        EditSessionForm(data, catalogue=STRETCHES, session=None),
    ):
        form.is_valid()
        str(form.errors)
        for bound in form:
            str(bound)
            bound.value()
            bound.label_tag()
            bound.css_classes()
    assert _shared_state() == before


def test_a_form_copies_only_the_fields_it_uses_and_never_changes_the_class():
    form = CopiedOnUse()
    side = form.fields["side"]
    assert side is not CopiedOnUse.base_fields["side"]
    assert form.fields["side"] is side  # once
    untouched = dict.__getitem__(form.fields, "scale")
    assert untouched is CopiedOnUse.base_fields["scale"]
    # Every way of reading the fields hands out the form's own copies.
    assert form.fields.get("scale") is not CopiedOnUse.base_fields["scale"]
    assert all(f is not CopiedOnUse.base_fields[n] for n, f in form.fields.items())
    assert str(CopiedOnUse()) == str(Djangos())
    with pytest.raises(TypeError):
        form.fields.copy()
