"""List pages render their filter menus in Python: the HTML is exactly what Django's templates give."""
import pytest
from django import forms
from django.utils.safestring import mark_safe

from xiaoneng.web.lists import FastSelect, FilterForm

CHOICES = [
    ("", "全部"),
    ("a&b", 'Tom & "Jerry" <x>'),
    (3, mark_safe("<b>safe</b>")),
    ("组", [("g1", "一"), ("g2", "二")]),
]


@pytest.mark.parametrize("value", [None, "", "a&b", "3", "g2", ["g1"]])
@pytest.mark.parametrize("attrs", [None, {"class": "x", "data-q": 'a"b', "disabled": True, "hidden": False}])
def test_the_fast_menu_renders_byte_for_byte_as_the_django_template(value, attrs):
    expected = forms.Select(attrs=attrs, choices=CHOICES).render("status", value)
    assert FastSelect(attrs=attrs, choices=CHOICES).render("status", value) == expected


def test_a_filter_form_renders_its_menus_fast_and_the_same():
    class Filter(FilterForm):
        status = forms.ChoiceField(required=False, choices=CHOICES[:3])
        q = forms.CharField(required=False)

    class Plain(forms.Form):
        status = forms.ChoiceField(required=False, choices=CHOICES[:3])
        q = forms.CharField(required=False)

    fast, plain = Filter({"status": "a&b"}), Plain({"status": "a&b"})
    assert type(fast.fields["status"].widget) is FastSelect
    assert str(fast["status"]) == str(plain["status"]) and str(fast["q"]) == str(plain["q"])
