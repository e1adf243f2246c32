"""lib.choices: each form's copy of a flat choice field shares the (value, label) pairs,
and is in every other way as independent, and renders and cleans exactly, as Django's."""

import pytest
from django import forms
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
from tests.properties import examples
from tracking.forms import SessionForm

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


def test_the_log_form_is_built_from_them():
    """The log POST builds two log forms: the fields whose copies cost the most share
    their pairs (the point of lib.choices)."""
    form = SessionForm(catalogue={}, ask_lasting_pain=False)
    for name in ("pain_before", "pain_after", "sides", "stop_signals"):
        field = form.fields[name]
        assert field is not SessionForm.base_fields[name]
        assert field.choices is not SessionForm.base_fields[name].choices
        assert field.choices[0] is SessionForm.base_fields[name].choices[0]


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
