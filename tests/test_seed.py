"""The demo province: real Guangdong regions, the usual organs, their people and the demo logins.

The demo seed runs once for the whole module inside a transaction that is rolled back at
the end, so the other test modules start from an empty database as usual.
"""
import io
import random
import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import RequestFactory, override_settings
from django.urls import reverse

from xiaoneng.lib.codes import credit_code_error
from xiaoneng.orgs import seed
from xiaoneng.orgs.access import visible_organs
from xiaoneng.orgs.models import Grant, Organ, OrganKind, Post, PostTarget, Region, Staff, Unit, User

ORG_STEPS = "regions,organs,people,users"  # this module tests the organisation part of the seed


def fast_hashing():
    """Fourteen demo users: Argon2 would spend seconds hashing and checking their passwords."""
    return override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The output of `xiaoneng seed --scale demo`, with its data in place for the module."""
    with django_db_blocker.unblock(), fast_hashing(), transaction.atomic():
        out = io.StringIO()
        call_command("seed", "--scale", "demo", "--only", ORG_STEPS, stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo, db):
    with fast_hashing():
        yield demo


def counts():
    models = (Region, Organ, Unit, Staff, Post, PostTarget, Post.holders.through, User, Grant)
    return {m.__name__: m.objects.count() for m in models}


def test_it_builds_the_real_cities_with_their_official_codes(seeded):
    assert Region.objects.get(code="440000000000").name == "广东省"
    assert Region.objects.get(code="440100000000").name == "广州市"
    assert Region.objects.get(code="440300000000").name == "深圳市"
    assert Region.objects.get(code="445300000000").name == "云浮市"
    assert Region.objects.filter(level=2).count() == 21
    assert Region.objects.filter(level=3).count() == 122
    assert Region.objects.get(code="440106000000").parent.name == "广州市"


def test_dongguan_and_zhongshan_have_no_county_level(seeded):
    assert not Region.objects.filter(level=3, prefix__in=["441900", "442000"]).exists()
    assert Region.objects.filter(parent__code="441900000000").count() == 0  # townships load at province scale only
    rows = [r for r in seed.region_rows() if r["parent"] == "441900000000"]
    assert rows and all(r["level"] == 4 for r in rows)


def test_it_loads_the_townships_and_villages_of_the_featured_counties(seeded):
    tianhe = Region.objects.get(code="440106000000")
    assert tianhe.children.count() == 21
    shipai = Region.objects.get(name="石牌街道", parent=tianhe)
    assert shipai.code == "440106006000" and shipai.prefix == "440106006"
    assert Region.objects.filter(level=5, prefix__under="440106").count() == 230
    assert Region.objects.filter(level=5, prefix__under="440117").count() == 281
    assert not Region.objects.filter(level=4, prefix__under="440111").exists()  # 白云区: not featured


def test_every_city_and_every_guangzhou_district_gets_the_usual_bureaus(seeded):
    for name in ("广东省发展和改革委员会", "广东省教育厅", "广东省高级人民法院", "韶关市教育局", "深圳市中级人民法院",
                 "中共东莞市纪律检查委员会", "广州市天河区市场监督管理局", "中共广州市天河区委组织部", "政协广州市天河区委员会办公室",
                 "广州市天河区人民法院", "广州市天河区人民检察院", "广州市天河区公共资源交易中心", "广州市天河区党政机关效能建设办公室"):
        assert Organ.objects.filter(name=name).exists(), name
    per_place = len(seed.TEMPLATES)
    assert Organ.objects.filter(region__level=2).count() == 21 * per_place
    assert Organ.objects.filter(region__level=3).count() == 11 * per_place  # only 广州's districts at demo scale
    kinds = set(Organ.objects.values_list("kind", flat=True))
    assert kinds == set(OrganKind.values)


def test_township_governments_exist_for_the_featured_counties(seeded):
    street = Organ.objects.get(name="广州市天河区石牌街道办事处")
    assert street.kind == OrganKind.GRASSROOTS and street.region.code == "440106006000"
    assert Organ.objects.filter(name="广州市从化区温泉镇人民政府").exists()
    assert not Organ.objects.filter(name__contains="林场").exists()  # farms and forests have no government


def test_every_seeded_organ_has_a_valid_credit_code_and_a_consistent_path(seeded):
    for credit_code, pk, path, parent_path, region_code, prefix in Organ.objects.values_list(
        "credit_code", "pk", "path", "parent__path", "region_code", "region__prefix"
    ):
        assert credit_code_error(credit_code) is None
        assert path == f"{parent_path or '/'}{pk}/"
        assert region_code == prefix
    effic = Organ.objects.get(name="广州市党政机关效能建设办公室")
    assert effic.parent.name == "中共广州市纪律检查委员会"
    assert credit_code_error(effic.credit_code) is None and effic.credit_code.startswith("11440100")
    assert Organ.objects.get(name="广州市公共资源交易中心").credit_code.startswith("12")  # 事业单位


def test_posts_carry_duties_targets_and_holders(seeded):
    assert Post.objects.filter(duties="").count() == 0
    assert not Post.objects.filter(targets__isnull=True).exists()
    assert not Post.objects.filter(holders__isnull=True).exists()
    per_post = PostTarget.objects.values("post").annotate(n=Count("id"))
    assert {row["n"] for row in per_post} <= {1, 2, 3}
    bureau = Organ.objects.get(name="广州市天河区市场监督管理局")
    assert set(bureau.units.values_list("name", flat=True)) >= {"办公室", "行政审批股", "政策法规股"}
    leader = Post.objects.get(organ=bureau, title="局长")
    assert leader.holders.get().rank == "正科级"
    assert Staff.objects.filter(organ=bureau).count() == Post.objects.filter(organ=bureau).count()


def test_staff_names_are_deterministic(seeded):
    bureau = Organ.objects.get(name="广州市天河区市场监督管理局")
    names = list(Staff.objects.filter(organ=bureau).order_by("staff_no").values_list("name", flat=True))
    rng = random.Random(bureau.credit_code)
    assert names[0] == seed._person_name(rng)
    assert all(2 <= len(n) <= 4 for n in names)


def test_running_the_seed_again_creates_nothing(seeded):
    before = counts()
    call_command("seed", "--scale", "demo", "--only", ORG_STEPS, stdout=io.StringIO())
    assert counts() == before


def test_demo_users_can_log_in_with_the_documented_password(seeded):
    validate_password(seed.DEMO_PASSWORD)
    request = RequestFactory().post("/login/")
    for spec in seed.DEMO_USERS:
        user = authenticate(request, username=spec.username, password=seed.DEMO_PASSWORD)
        assert user is not None, spec.username
        assert user.grants.filter(role=spec.role).exists()


def test_the_login_page_lets_a_demo_handler_in(seeded, client):
    response = client.post(reverse("login"), {"username": "tianhe_handler", "password": seed.DEMO_PASSWORD})
    assert response.status_code == 302


def test_the_admin_is_staff_and_superuser_and_the_others_are_not(seeded):
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.exclude(username="admin").filter(is_superuser=True).exists()


def test_demo_users_are_staff_members_of_real_looking_organs(seeded):
    handler = User.objects.get(username="tianhe_handler")
    assert handler.staff.organ.name == "广州市天河区市场监督管理局"
    assert "行政审批" in handler.staff.unit.name and handler.display_name == handler.staff.name
    assert User.objects.get(username="tianhe_leader").staff.posts.get().title == "局长"


def test_demo_users_see_only_their_own_scope(seeded):
    tianhe = User.objects.get(username="tianhe_supervisor")
    guangzhou = User.objects.get(username="gz_supervisor")
    mine = visible_organs(tianhe)
    assert mine.exists() and not mine.exclude(region_code__startswith="440106").exists()
    assert visible_organs(guangzhou).count() > mine.count()
    assert not visible_organs(guangzhou).filter(region_code__startswith="4403").exists()


def test_the_command_prints_progress_and_the_demo_logins(seeded):
    # Later capabilities add their own steps, so only the order of the first ones is fixed.
    assert re.search(r"^\[1/\d+\] regions", seeded, re.M) and re.search(r"^\[3/\d+\] people", seeded, re.M)
    for header in ("用户名", "角色", "范围", "密码"):
        assert header in seeded
    for spec in seed.DEMO_USERS:
        assert spec.username in seeded
    assert seed.DEMO_PASSWORD in seeded and "广东省广州市天河区" in seeded


def test_a_registered_step_runs_in_order_with_progress(seeded, monkeypatch):
    calls = []

    def extra(scale, progress):
        calls.append(scale)
        progress(1, 1)
        return "extra done"

    # Only this app's own steps, so other capabilities' steps do not run here.
    own = {name: step for name, step in seed._STEPS.items() if name in ("regions", "organs", "people", "users")}
    monkeypatch.setattr(seed, "_STEPS", own)
    seed.register_seed_step("extra", 35, extra)
    assert [s.name for s in seed.seed_steps()] == ["regions", "organs", "people", "extra", "users"]
    out = io.StringIO()
    call_command("seed", "--scale", "demo", "--only", f"{ORG_STEPS},extra", stdout=out)
    assert calls == ["demo"]
    assert "[4/5] extra 1/1" in out.getvalue() and "[4/5] extra: extra done" in out.getvalue()


def test_larger_scales_plan_every_county_and_every_township(seeded):
    large = seed.organ_specs("large")
    assert sum(1 for s in large if s.region.level == 3) == 122 * len(seed.TEMPLATES)
    assert seed.scale_at_least("province", "large") and not seed.scale_at_least("demo", "large")


def test_the_region_data_file_is_complete_and_consistent():
    rows = seed.region_rows()
    codes = {r["code"] for r in rows}
    assert len(codes) == len(rows) == 2412
    assert all(r["parent"] in codes for r in rows if r["level"] > 1)
    assert sum(1 for r in rows if r["level"] == 4) == 1757


@pytest.mark.parametrize(
    ("place", "county", "township", "name"),
    [
        ("广州市天河区", "天河区", "石牌街道", "广州市天河区石牌街道办事处"),
        ("广州市从化区", "从化区", "温泉镇", "广州市从化区温泉镇人民政府"),
        ("肇庆市端州区", "端州区", "端州区城东街道", "肇庆市端州区城东街道办事处"),
        ("连山壮族瑶族自治县", "连山壮族瑶族自治县", "上帅镇", "连山壮族瑶族自治县上帅镇人民政府"),
        ("东莞市", "东莞市", "东城街道", "东莞市东城街道办事处"),
        ("广州市从化区", "从化区", "大岭山林场", None),
    ],
)
def test_township_governments_are_named_as_officially_styled(place, county, township, name):
    assert seed.township_government_name(place, county, township) == name
