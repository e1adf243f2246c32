"""Choice fields that each form copies cheaply.

Django gives every form its own copy of its fields (``copy.deepcopy(base_fields)``), and
for a choice field that means a deep copy of every (value, label) pair, then the widget
normalising the copied list again. On the log form (two radio scales of eleven, the
sides, the stop signals) that was about half of building the form, and the log POST
builds two. A pair of strings and numbers cannot be changed in place, so each copy here
gets its own list holding the same pairs; everything else is copied as Django copies it.

Only for flat choices (no groups, whose inner lists could be changed in place): the
fields check theirs when made, and ``choices`` set later must be flat too.
"""

from __future__ import annotations

import copy

from django import forms


def _check_flat(choices) -> None:
    for _, label in choices:
        if isinstance(label, (list, tuple, dict)):
            raise TypeError("grouped choices need Django's own deep copy")


class _FlatChoicesWidget:
    def __deepcopy__(self, memo):
        widget = copy.copy(self)
        widget.attrs = self.attrs.copy()
        widget._choices = list(self._choices)  # already normalised: the same pairs
        memo[id(self)] = widget
        return widget


class FlatRadioSelect(_FlatChoicesWidget, forms.RadioSelect):
    pass


class FlatCheckboxSelectMultiple(_FlatChoicesWidget, forms.CheckboxSelectMultiple):
    pass


class FlatSelect(_FlatChoicesWidget, forms.Select):
    pass


class _FlatChoicesField:
    widget = FlatSelect

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _check_flat(self._choices)
        if not isinstance(self.widget, _FlatChoicesWidget):
            raise TypeError(f"{type(self).__name__} needs one of lib.choices' widgets")

    def __deepcopy__(self, memo):
        # forms.Field's copy (the widget through its own __deepcopy__ above, the error
        # messages and validators), not forms.ChoiceField's deep copy of the pairs.
        field = forms.Field.__deepcopy__(self, memo)
        field._choices = list(self._choices)
        return field


class FlatChoiceField(_FlatChoicesField, forms.ChoiceField):
    pass


class FlatTypedChoiceField(_FlatChoicesField, forms.TypedChoiceField):
    pass


class FlatMultipleChoiceField(_FlatChoicesField, forms.MultipleChoiceField):
    widget = FlatCheckboxSelectMultiple


class _FieldsCopiedOnUse(dict):
    """A form's fields, each deep-copied from the class's when the form first uses it.

    A form whose every field is used (validating bound data) copies them all, as Django
    does; an empty form rendered mostly from kept fragments (tracking.today) copies the
    two or three it touches. Every way of reading the fields hands out the form's own
    copies: ``[]``, ``get``, ``items``, ``values``, and ``dict.update``/``dict(...)``
    (through ``keys`` and ``[]``); ``fields.copy()`` is refused."""

    def __init__(self, declared, shared: frozenset[str] = frozenset()):
        super().__init__(declared)
        # The shared ones are handed out as the class's own objects (never copied).
        self._own: set[str] = set(shared)

    def __iter__(self):
        # Defined (as dict's own) so that CPython's dict.update, dict(...) and {**...}
        # take the generic path through keys() and [] instead of reading the stored
        # values directly: Django's order_fields (a form with field_order) does
        # ``fields.update(self.fields)``, which would otherwise hand over the class's
        # own fields.
        return super().__iter__()

    def keys(self):
        return list(super().keys())

    def __getitem__(self, name):
        field = super().__getitem__(name)
        if name not in self._own:
            field = copy.deepcopy(field)
            super().__setitem__(name, field)
            self._own.add(name)
        return field

    def __setitem__(self, name, field) -> None:
        super().__setitem__(name, field)
        self._own.add(name)

    def get(self, name, default=None):
        return self[name] if name in self else default  # noqa: SIM401 (self.get is this)

    def values(self):
        return [self[name] for name in self]

    def items(self):
        return [(name, self[name]) for name in self]

    def pop(self, name, *default):
        if name not in self:
            return super().pop(name, *default)
        field = self[name]
        super().__delitem__(name)
        return field

    def copy(self):
        raise TypeError("copy the fields one by one (they are copied from the class on use)")

    def __deepcopy__(self, memo):
        return {name: copy.deepcopy(field, memo) for name, field in self.items()}


class _DeclaredFields(dict):
    """A form class's ``base_fields``: Django's ``copy.deepcopy(base_fields)`` in
    ``BaseForm.__init__`` gets fields copied on use (but the ``shared`` ones)."""

    def __init__(self, declared, shared: frozenset[str] = frozenset()):
        super().__init__(declared)
        unknown = shared - set(declared)
        if unknown:
            raise TypeError(f"shared_fields names no field of the form: {sorted(unknown)}")
        self.shared = shared

    def __deepcopy__(self, memo):
        return _FieldsCopiedOnUse(self, self.shared)


class FieldsCopiedOnUse:
    """Form mixin: each field is copied from the class when the form first uses it, not
    all of them when it is made (see ``_FieldsCopiedOnUse``).

    ``shared_fields``: fields that no form of this very class ever changes (its
    ``__init__``, its views, Django's cleaning and rendering only read them): each form
    is handed the class's own object, not a copy (a bound log form cleans every field,
    and copying them was half of its cost). Declared per class and never inherited: a
    subclass that changes one of them (the edit form sets the stop signals' choices)
    gets copies unless it declares its own list. tests/test_choices.py proves that the
    log's forms, cleaned and rendered with any input, leave the shared fields as they
    were."""

    shared_fields: frozenset[str] = frozenset()

    def __init__(self, *args, **kwargs):
        cls = type(self)
        if not isinstance(cls.__dict__.get("base_fields"), _DeclaredFields):
            shared = frozenset(cls.__dict__.get("shared_fields", ()))
            cls.base_fields = _DeclaredFields(cls.base_fields, shared)
        super().__init__(*args, **kwargs)
