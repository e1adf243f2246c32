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
