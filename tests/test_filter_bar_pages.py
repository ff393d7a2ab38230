"""Every list page has the same filter bar: a search form over the results it refreshes."""
import re

import pytest
from django.urls import reverse

# url name, form id, who may see the page
LIST_PAGES = [
    ("clocks:index", "clock-filter", "admin"),
    ("orgs:index", "organ-filter", "admin"),
    ("orgs:staff", "staff-filter", "admin"),
    ("approvals:cases", "case-filter", "admin"),
    ("approvals:matters", "matter-filter", "admin"),
    ("audit:index", "audit-filter", "admin"),
    ("complaints:list", "complaint-filter", "province_supervisor"),
    ("ratings:list", "rating-filter", "admin"),
    ("supervision:alerts", "alert-filter", "admin"),
    ("supervision:orders", "order-filter", "admin"),
    ("accountability:cases", "acct-filter", "province_supervisor"),
    ("accountability:proposals", "acct-proposal-filter", "province_supervisor"),
    ("appraisal:schemes", "scheme-filter", "appraisal_officer"),
]


def filter_form(html, form_id):
    return re.search(rf'<form id="{form_id}" [^>]*>.*?</form>', html, re.S).group(0)


@pytest.mark.parametrize(("url_name", "form_id", "persona"), LIST_PAGES)
def test_the_filter_bar_offers_every_filter_of_the_form_and_refreshes_the_results(
    world, login, url_name, form_id, persona
):
    client = login(getattr(world, persona))
    url = reverse(url_name)
    response = client.get(url, {"per_page": 50})
    html = response.content.decode()
    results_id = response.context["results_id"]
    bar = filter_form(html, form_id)
    tag = bar[: bar.index(">") + 1]
    for attr in ('method="get"', f'action="{url}"', 'role="search"', f'hx-get="{url}"',
                 f'hx-target="#{results_id}"', 'hx-push-url="true"'):
        assert attr in tag, attr
    # Every field of the filter form, in the form's order, then the page size.
    names = re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', bar)
    assert names == [f.name for f in response.context["form"].hidden_fields()] + [
        f.name for f in response.context["form"].visible_fields()
    ] + ["per_page"]
    for field in response.context["form"].visible_fields():
        assert f'<label for="{field.id_for_label}">{field.label}</label>' in bar
    assert '<option value="50" selected>50</option>' in bar
    assert '<button type="submit" class="btn btn-primary">查询</button>' in bar
    assert f'<a class="btn btn-link" href="{url}">重置</a>' in bar
    assert f'<div id="{results_id}" class="results" aria-live="polite">' in html
    # The results keep the sort in the filter form, so a new filter keeps the order.
    assert re.search(rf'<input type="hidden" name="sort" value="[^"]*" form="{form_id}">', html)


def test_the_search_box_is_the_wide_field(world, login):
    client = login(world.admin)
    bar = filter_form(client.get(reverse("clocks:index")).content.decode(), "clock-filter")
    assert re.search(r'<div class="field field-grow">\s*<label for="id_q">', bar)


def test_a_checkbox_filter_sits_before_its_label(world, login):
    client = login(world.admin)
    bar = filter_form(client.get(reverse("supervision:alerts")).content.decode(), "alert-filter")
    assert re.search(r'<div class="field field-check">\s*<input type="checkbox" name="open" id="id_open">'
                     r' <label for="id_open">', bar)


def test_the_chosen_organ_is_a_chip_that_clears_it(world, login):
    client = login(world.admin)
    url = reverse("orgs:staff")
    bar = filter_form(client.get(url, {"organ": world.tianhe_bureau.pk}).content.decode(), "staff-filter")
    assert f'<input type="hidden" name="organ" value="{world.tianhe_bureau.pk}" id="id_organ">' in bar
    assert world.tianhe_bureau.name in bar
    assert f'<a href="{url}" aria-label="清除机关筛选">×</a>' in bar
    assert 'aria-label="清除机关筛选"' not in client.get(url).content.decode()
    # The organ pages refresh on input only, as they always have.
    assert 'hx-trigger="submit, input changed delay:350ms"' in bar
