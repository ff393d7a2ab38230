"""The organisation browser: every list, page and export limited to the reader's scope."""
import io
import re

import pytest
from conftest import make_organ
from django.urls import reverse
from openpyxl import load_workbook

from xiaoneng.orgs.models import OrganKind, Post, PostTarget, Staff, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staffed(world):
    """Units, posts with targets and holders, and staff in the 天河 bureau and in 福田."""
    w = world
    w.office = Unit.objects.create(organ=w.tianhe_bureau, name="办公室")
    w.licensing = Unit.objects.create(organ=w.tianhe_bureau, name="行政审批科")
    w.desk = Unit.objects.create(organ=w.tianhe_bureau, name="窗口组", parent=w.licensing)
    w.zhang = Staff.objects.create(organ=w.tianhe_bureau, unit=w.licensing, name="张明", staff_no="TH001", rank="科长")
    w.li = Staff.objects.create(organ=w.tianhe_bureau, unit=w.desk, name="李华", staff_no="TH002", rank="科员")
    w.retired = Staff.objects.create(organ=w.tianhe_bureau, name="王退", staff_no="TH003", is_active=False)
    w.chen = Staff.objects.create(organ=w.futian_bureau, name="陈福田", staff_no="FT001")
    w.post = Post.objects.create(
        organ=w.tianhe_bureau, unit=w.licensing, title="许可审查岗", duties="审查食品经营许可申请材料"
    )
    w.post.holders.set([w.zhang, w.li])
    PostTarget.objects.create(post=w.post, indicator="办件按时办结率", comparator=">=", value=98, measure="%")
    Post.objects.create(organ=w.tianhe_bureau, title="综合文秘岗")
    return w


def names_in(html: str, testid: str) -> list[str]:
    """The row headers (organ or staff names) of the table with this data-testid, in order."""
    table = re.search(rf'data-testid="{testid}">(.*?)</table>', html, re.S)
    if not table:
        return []
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r'<th scope="row">(.*?)</th>', table.group(1), re.S)]


def organ_names(client, **params) -> list[str]:
    response = client.get(reverse("orgs:index"), params)
    assert response.status_code == 200
    return [re.sub(r"\s*已停用$", "", n) for n in names_in(response.content.decode(), "organ-table")]


def export(client, url, **params):
    response = client.get(url, {**params, "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0], rows[1:]


# --- scope ------------------------------------------------------------------------------


def test_a_county_handler_sees_their_bureau_and_its_sub_organ_only(client, world, login):
    login(world.county_handler)
    assert sorted(organ_names(client)) == sorted(["广州市天河区市场监督管理局", "天河区石牌市场监管所"])
    for organ in (world.tianhe_bureau, world.tianhe_station):
        assert client.get(reverse("orgs:organ", args=[organ.pk])).status_code == 200
    for organ in (world.sz_bureau, world.futian_bureau, world.gz_bureau, world.yuexiu_bureau):
        assert client.get(reverse("orgs:organ", args=[organ.pk])).status_code == 404


def test_a_city_supervisor_sees_their_city_but_not_the_next_one(client, world, login):
    login(world.city_supervisor)
    names = organ_names(client)
    assert set(names) == {"广州市市场监督管理局", "广州市天河区市场监督管理局", "天河区石牌市场监管所", "广州市越秀区市场监督管理局"}
    assert client.get(reverse("orgs:organ", args=[world.yuexiu_bureau.pk])).status_code == 200
    assert client.get(reverse("orgs:organ", args=[world.futian_bureau.pk])).status_code == 404
    assert client.get(reverse("orgs:region", args=[world.futian.code])).status_code == 404
    assert client.get(reverse("orgs:region", args=[world.sz.code])).status_code == 404


def test_a_province_supervisor_sees_every_organ(client, world, login):
    login(world.province_supervisor)
    assert len(organ_names(client)) == 6


def test_an_outsider_sees_nothing_anywhere(client, world, login, staffed):
    login(world.outsider)
    html = client.get(reverse("orgs:index")).content.decode()
    assert 'data-testid="empty"' in html
    assert "没有可查看的区划" in html
    assert names_in(client.get(reverse("orgs:staff")).content.decode(), "staff-table") == []
    for organ in (world.gz_bureau, world.tianhe_bureau):
        assert client.get(reverse("orgs:organ", args=[organ.pk])).status_code == 404
    assert client.get(reverse("orgs:region", args=[world.gd.code])).status_code == 404
    _, rows = export(client, reverse("orgs:index"))
    assert rows == []


def test_a_missing_organ_and_a_hidden_one_look_the_same(client, world, login):
    login(world.county_handler)
    hidden = client.get(reverse("orgs:organ", args=[world.futian_bureau.pk]))
    missing = client.get(reverse("orgs:organ", args=[999_999]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_the_region_tree_shows_only_regions_in_scope(client, world, login):
    login(world.city_supervisor)
    html = client.get(reverse("orgs:index")).content.decode()
    tree = re.search(r'<aside class="card tree-panel".*?</aside>', html, re.S).group(0)
    assert "广州市" in tree and "天河区" in tree and "越秀区" in tree and "石牌街道" in tree
    assert "深圳市" not in tree and "福田区" not in tree and "广东省" not in tree


def test_a_page_never_names_an_out_of_scope_parent(client, world, login):
    login(world.county_handler)
    listing = client.get(reverse("orgs:index")).content.decode()
    page = client.get(reverse("orgs:organ", args=[world.tianhe_bureau.pk])).content.decode()
    for html in (listing, page):
        assert "广州市市场监督管理局" not in html
    # A parent in scope is linked: the station's parent is the handler's own bureau.
    station = client.get(reverse("orgs:organ", args=[world.tianhe_station.pk])).content.decode()
    assert f'href="/orgs/organs/{world.tianhe_bureau.pk}/"' in station


# --- search, filters, sort, paging --------------------------------------------------------


def test_search_finds_organs_by_name_or_credit_code(client, world, login):
    login(world.city_supervisor)
    assert set(organ_names(client, q="天河")) == {"广州市天河区市场监督管理局", "天河区石牌市场监管所"}
    code = world.yuexiu_bureau.credit_code
    assert organ_names(client, q=code) == ["广州市越秀区市场监督管理局"]
    assert organ_names(client, q=code[-8:].lower()) == ["广州市越秀区市场监督管理局"]
    # Searching for an organ outside the scope finds nothing, even by its exact code.
    assert organ_names(client, q=world.futian_bureau.credit_code) == []


def test_the_region_filter_includes_the_whole_subtree(client, world, login):
    login(world.city_supervisor)
    assert set(organ_names(client, region=world.tianhe.code)) == {"广州市天河区市场监督管理局", "天河区石牌市场监管所"}
    assert organ_names(client, region=world.shipai.code) == ["天河区石牌市场监管所"]
    assert len(organ_names(client, region=world.gz.code)) == 4


def test_a_region_outside_the_scope_is_rejected_not_ignored(client, world, login):
    login(world.city_supervisor)
    response = client.get(reverse("orgs:index"), {"region": world.futian.code})
    html = response.content.decode()
    assert 'role="alert"' in html
    assert names_in(html, "organ-table") == []
    _, rows = export(client, reverse("orgs:index"), region=world.futian.code)
    assert rows == []


def test_the_kind_and_status_filters(client, world, login):
    court = make_organ("广州市天河区人民法院", world.tianhe, kind=OrganKind.COURT)
    closed = make_organ("广州市天河区已撤销办公室", world.tianhe)
    closed.is_active = False
    closed.save()
    login(world.city_supervisor)
    assert organ_names(client, kind=OrganKind.COURT) == [court.name]
    assert closed.name not in organ_names(client)
    assert organ_names(client, status="inactive") == [closed.name]
    assert len(organ_names(client, status="all")) == 6


def test_sorting_by_name_both_ways_and_by_region(client, world, login):
    login(world.province_supervisor)
    ascending = organ_names(client, sort="name")
    assert ascending == sorted(ascending)
    assert organ_names(client, sort="-name") == list(reversed(ascending))
    by_region = organ_names(client, sort="region")
    assert by_region[0] == "广州市市场监督管理局"  # region code 4401 comes first
    assert by_region[-1] == "深圳市福田区市场监督管理局"  # 440304 comes last
    # An unknown sort key falls back to the default instead of reaching the database.
    assert organ_names(client, sort="password") == by_region


def test_the_list_pages_through_the_rows(client, world, login):
    for i in range(30):
        make_organ(f"越秀区测试单位{i:02d}", world.yuexiu)
    login(world.city_supervisor)
    first = organ_names(client, region=world.yuexiu.code, sort="name")
    second = organ_names(client, region=world.yuexiu.code, sort="name", page=2)
    assert len(first) == 25 and len(second) == 6
    assert not set(first) & set(second)
    assert len(organ_names(client, region=world.yuexiu.code, per_page=50)) == 31
    html = client.get(reverse("orgs:index"), {"region": world.yuexiu.code}).content.decode()
    assert "共 31 条" in html
    assert "第 1 / 2 页" in html


def test_an_htmx_request_gets_just_the_results(client, world, login):
    login(world.city_supervisor)
    response = client.get(reverse("orgs:index"), {"q": "越秀"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and "<nav" not in html.split("pagination")[0]
    assert names_in(html, "organ-table") == ["广州市越秀区市场监督管理局"]
    assert "HX-Request" in response["Vary"]
    assert "HX-Request" in client.get(reverse("orgs:index"))["Vary"]


def test_the_back_button_and_boosted_links_get_the_whole_page(client, world, login):
    login(world.city_supervisor)
    for headers in (
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_REQUEST_TYPE": "full"},
    ):
        html = client.get(reverse("orgs:index"), {"q": "越秀"}, **headers).content.decode()
        assert "<html" in html and 'id="organ-filter"' in html, headers
    partial = client.get(reverse("orgs:index"), HTTP_HX_REQUEST="true", HTTP_HX_REQUEST_TYPE="partial")
    assert "<html" not in partial.content.decode()


def test_the_filter_form_works_without_javascript(client, world, login):
    login(world.city_supervisor)
    html = client.get(reverse("orgs:index")).content.decode()
    form = re.search(r'<form id="organ-filter"[^>]*>', html).group(0)
    assert 'method="get"' in form and 'action="/orgs/"' in form
    assert '<button type="submit" class="btn btn-primary">查询</button>' in html
    for name in ("q", "region", "kind", "status", "per_page"):
        assert f'name="{name}"' in html
    assert '<label for="id_q">搜索</label>' in html


# --- export -------------------------------------------------------------------------------


def test_the_excel_export_has_exactly_the_filtered_rows_of_every_page(client, world, login):
    for i in range(30):
        make_organ(f"天河区测试单位{i:02d}", world.tianhe)
    login(world.city_supervisor)
    header, rows = export(client, reverse("orgs:index"), region=world.tianhe.code, sort="name")
    assert header[:3] == ("名称", "简称", "统一社会信用代码")
    names = [r[0] for r in rows]
    assert len(names) == 32  # both pages, 天河 subtree only
    assert names == organ_names(client, region=world.tianhe.code, sort="name", per_page=100)
    codes = {r[2] for r in rows}
    assert world.tianhe_station.credit_code in codes
    assert world.yuexiu_bureau.credit_code not in codes


def test_the_export_of_a_county_handler_holds_their_organs_only(client, world, login):
    login(world.county_handler)
    header, rows = export(client, reverse("orgs:index"))
    assert sorted(r[0] for r in rows) == sorted(["广州市天河区市场监督管理局", "天河区石牌市场监管所"])
    parent_column = header.index("上级机关")
    by_name = {r[0]: r for r in rows}
    assert by_name["广州市天河区市场监督管理局"][parent_column] in (None, "")  # 广州 bureau is not in scope
    assert by_name["天河区石牌市场监管所"][parent_column] == "广州市天河区市场监督管理局"


def test_the_export_is_in_english_for_english_readers(client, world, login):
    login(world.county_handler)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    header, rows = export(client, reverse("orgs:index"), sort="name")
    assert header[:4] == ("Name", "Short name", "Unified social credit code", "Kind")
    assert rows[0][3] == "Government department"


# --- region and organ pages ---------------------------------------------------------------


def test_the_region_page_lists_child_regions_and_organs_there(client, world, login):
    login(world.city_supervisor)
    html = client.get(reverse("orgs:region", args=[world.gz.code])).content.decode()
    children = re.search(r'data-testid="child-regions">(.*?)</ul>', html, re.S).group(1)
    assert "天河区" in children and "越秀区" in children and "福田区" not in children
    assert names_in(html, "region-organs") == ["广州市市场监督管理局"]


def test_an_organ_grant_reaches_its_own_region_page_only(client, world, login):
    login(world.county_handler)
    assert client.get(reverse("orgs:region", args=[world.tianhe.code])).status_code == 200
    assert client.get(reverse("orgs:region", args=[world.gz.code])).status_code == 404


def test_the_organ_page_shows_units_posts_targets_holders_and_staff(client, world, login, staffed):
    login(world.county_handler)
    html = client.get(reverse("orgs:organ", args=[world.tianhe_bureau.pk])).content.decode()
    units = re.search(r'data-testid="units">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"<li[^>]*>(.*?)</li>", units) == ["办公室", "行政审批科", "窗口组"]
    assert '<li class="depth-1">窗口组</li>' in units
    posts = re.search(r'data-testid="posts">(.*?)</table>', html, re.S).group(1)
    assert "许可审查岗" in posts and "审查食品经营许可申请材料" in posts
    assert "办件按时办结率 ≥ 98%" in posts
    assert "张明、李华" in posts
    assert "空缺" in posts  # 综合文秘岗 has no holder
    assert sorted(names_in(html, "staff")) == ["张明", "李华"]  # in post only: 王退 has left
    children = re.search(r'data-testid="child-organs">(.*?)</ul>', html, re.S).group(1)
    assert "天河区石牌市场监管所" in children


def test_a_post_held_across_scopes_names_neither_side_to_the_other(client, world, login, staffed):
    world.post.holders.add(world.chen)  # 陈福田 of 福田 is seconded to a 天河 post
    login(world.county_handler)
    page = client.get(reverse("orgs:organ", args=[world.tianhe_bureau.pk])).content.decode()
    assert "张明、李华" in page and "陈福田" not in page
    login(world.shenzhen_handler)
    listing = client.get(reverse("orgs:staff")).content.decode()
    assert "陈福田" in listing and "许可审查岗" not in listing
    _, rows = export(client, reverse("orgs:staff"))
    assert rows == [("陈福田", "FT001", "深圳市福田区市场监督管理局", None, None, None, "是")]


# --- staff list -----------------------------------------------------------------------------


def staff_names(client, **params):
    response = client.get(reverse("orgs:staff"), params)
    assert response.status_code == 200
    return [re.sub(r"\s*不在职$", "", n) for n in names_in(response.content.decode(), "staff-table")]


def test_the_staff_list_is_scoped_searchable_and_filterable(client, world, login, staffed):
    login(world.county_handler)
    assert sorted(staff_names(client)) == ["张明", "李华"]
    assert staff_names(client, q="TH002") == ["李华"]
    assert staff_names(client, status="inactive") == ["王退"]
    assert "陈福田" not in staff_names(client, status="all")
    login(world.province_supervisor)
    assert "陈福田" in staff_names(client)
    assert staff_names(client, region=world.futian.code) == ["陈福田"]
    assert sorted(staff_names(client, organ=world.tianhe_bureau.pk)) == ["张明", "李华"]
    assert staff_names(client, sort="staff_no") == ["陈福田", "张明", "李华"]  # FT001, TH001, TH002
    assert staff_names(client, sort="-staff_no") == ["李华", "张明", "陈福田"]


def test_the_staff_list_rejects_an_organ_outside_the_scope(client, world, login, staffed):
    login(world.county_handler)
    response = client.get(reverse("orgs:staff"), {"organ": world.futian_bureau.pk})
    html = response.content.decode()
    assert "不在您的权限范围内" in html
    assert "陈福田" not in html
    _, rows = export(client, reverse("orgs:staff"), organ=world.futian_bureau.pk)
    assert rows == []


def test_the_staff_export_has_the_filtered_rows_with_their_posts(client, world, login, staffed):
    login(world.city_supervisor)
    header, rows = export(client, reverse("orgs:staff"), sort="name")
    assert header == ("姓名", "工号", "机关", "内设机构", "职务职级", "岗位", "在职")
    assert sorted(r[0] for r in rows) == ["张明", "李华"]
    zhang = next(r for r in rows if r[0] == "张明")
    assert zhang[1:] == ("TH001", "广州市天河区市场监督管理局", "行政审批科", "科长", "许可审查岗", "是")


# --- query counts ---------------------------------------------------------------------------


def _bulk(world, n):
    for i in range(n):
        organ = make_organ(f"天河区批量单位{i:03d}", world.tianhe, parent=world.tianhe_bureau)
        unit = Unit.objects.create(organ=organ, name="办公室")
        staff = Staff.objects.create(organ=organ, unit=unit, name=f"人员{i:03d}", staff_no=f"B{i:03d}")
        post = Post.objects.create(organ=organ, unit=unit, title=f"岗位{i:03d}")
        post.holders.add(staff)


@pytest.mark.parametrize("rows", [3, 60])
def test_the_organ_list_costs_the_same_queries_for_any_number_of_rows(
    client, world, login, django_assert_max_num_queries, rows
):
    _bulk(world, rows)
    login(world.city_supervisor)
    client.get(reverse("orgs:index"))  # warm the session
    with django_assert_max_num_queries(10):
        response = client.get(reverse("orgs:index"), {"per_page": 100})
    assert len(names_in(response.content.decode(), "organ-table")) == rows + 4
    with django_assert_max_num_queries(7):
        header, data = export(client, reverse("orgs:index"))
    assert len(data) == rows + 4


@pytest.mark.parametrize("rows", [3, 60])
def test_the_staff_list_costs_the_same_queries_for_any_number_of_rows(
    client, world, login, django_assert_max_num_queries, rows
):
    _bulk(world, rows)
    login(world.city_supervisor)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("orgs:staff"), {"per_page": 100})
    assert len(names_in(response.content.decode(), "staff-table")) == rows
    with django_assert_max_num_queries(7):
        export(client, reverse("orgs:staff"))


def test_the_organ_page_costs_the_same_queries_for_many_posts_and_staff(
    client, world, login, staffed, django_assert_max_num_queries
):
    for i in range(40):
        staff = Staff.objects.create(organ=world.tianhe_bureau, unit=world.office, name=f"职员{i:02d}")
        post = Post.objects.create(organ=world.tianhe_bureau, unit=world.office, title=f"岗位{i:02d}")
        post.holders.add(staff)
        PostTarget.objects.create(post=post, indicator="满意率", value=95, measure="%")
    login(world.county_handler)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("orgs:organ", args=[world.tianhe_bureau.pk]))
    assert response.status_code == 200


def test_the_region_page_query_count_is_bounded(client, world, login, django_assert_max_num_queries):
    _bulk(world, 30)
    login(world.city_supervisor)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("orgs:region", args=[world.tianhe.code]))
    assert len(names_in(response.content.decode(), "region-organs")) == 25
