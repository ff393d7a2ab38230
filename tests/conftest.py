"""One shared set of personas in a small province, built through the ORM.

    广东省 (44)
    ├── 广州市 (4401) ── 天河区 (440106) ── 石牌街道 (440106001)
    │                 └─ 越秀区 (440104)
    └── 深圳市 (4403) ── 福田区 (440304)

Organs: a city bureau in 广州 and 深圳, a county bureau in 天河 and 越秀 and 福田,
a sub-organ under the 天河 bureau. Personas hold grants as their names say.
"""
import pytest

from xiaoneng.lib.codes import make_credit_code
from xiaoneng.orgs.models import Grant, Organ, OrganKind, Region, Role, User

PASSWORD = "Xiaoneng-test-2026!"


def _region(code, name, level, parent=None):
    return Region.objects.create(code=code, name=name, level=level, parent=parent)


_seq = iter(range(1, 10_000))


def make_organ(name, region, kind=OrganKind.GOVERNMENT, parent=None):
    body = f"{next(_seq):08d}"
    code = make_credit_code("1", "1", region.code[:6], body)
    return Organ.objects.create(credit_code=code, name=name, kind=kind, region=region, parent=parent)


def make_user(username, role=None, region=None, organ=None, **extra):
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=username, **extra)
    if role:
        Grant.objects.create(user=user, role=role, region=region, organ=organ)
    return user


class World:
    pass


@pytest.fixture
def world(db):
    w = World()
    w.gd = _region("440000000000", "广东省", 1)
    w.gz = _region("440100000000", "广州市", 2, w.gd)
    w.sz = _region("440300000000", "深圳市", 2, w.gd)
    w.tianhe = _region("440106000000", "天河区", 3, w.gz)
    w.yuexiu = _region("440104000000", "越秀区", 3, w.gz)
    w.futian = _region("440304000000", "福田区", 3, w.sz)
    w.shipai = _region("440106001000", "石牌街道", 4, w.tianhe)

    w.gz_bureau = make_organ("广州市市场监督管理局", w.gz)
    w.sz_bureau = make_organ("深圳市市场监督管理局", w.sz)
    w.tianhe_bureau = make_organ("广州市天河区市场监督管理局", w.tianhe, parent=w.gz_bureau)
    w.tianhe_station = make_organ("天河区石牌市场监管所", w.shipai, parent=w.tianhe_bureau)
    w.yuexiu_bureau = make_organ("广州市越秀区市场监督管理局", w.yuexiu, parent=w.gz_bureau)
    w.futian_bureau = make_organ("深圳市福田区市场监督管理局", w.futian, parent=w.sz_bureau)

    w.admin = make_user("admin", Role.ADMIN, region=w.gd, is_staff=True)
    w.province_supervisor = make_user("province_supervisor", Role.SUPERVISOR, region=w.gd)
    w.city_supervisor = make_user("city_supervisor", Role.SUPERVISOR, region=w.gz)
    w.county_supervisor = make_user("county_supervisor", Role.SUPERVISOR, region=w.tianhe)
    w.county_handler = make_user("county_handler", Role.HANDLER, organ=w.tianhe_bureau)
    w.county_leader = make_user("county_leader", Role.LEADER, organ=w.tianhe_bureau)
    w.complaint_officer = make_user("complaint_officer", Role.COMPLAINT_OFFICER, region=w.tianhe)
    w.appraisal_officer = make_user("appraisal_officer", Role.APPRAISAL_OFFICER, region=w.gz)
    w.auditor = make_user("auditor", Role.AUDITOR, region=w.gz)
    w.outsider = make_user("outsider")
    w.shenzhen_handler = make_user("shenzhen_handler", Role.HANDLER, organ=w.futian_bureau)
    return w


@pytest.fixture
def login(client):
    """Log a persona in on the test client: `login(world.county_handler)`."""

    def _login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs ~0.3 s a user by design; tests create many users, so they use MD5.
    The production hasher is asserted in tests/test_settings.py."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def matters(world):
    """Matters of the 广州 and 天河 bureaus, built through the catalogue actions."""
    from xiaoneng.approvals.catalogue import Rules, StepSpec, do_create_matter

    class M:
        pass

    m = M()
    since = __import__("datetime").datetime(2025, 1, 1, tzinfo=__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    m.licence = do_create_matter(
        code="440106-SP-001", name="食品经营许可", kind="licence", organ=world.tianhe_bureau,
        rules=Rules(legal_basis="《食品安全法》第三十五条", legal_limit=20, promised_limit=10, effective_from=since,
                    materials=["食品经营许可申请书", "营业执照复印件"],
                    steps=[StepSpec("审查", 5), StepSpec("决定", 3)]),
    )
    m.paid = do_create_matter(
        code="440106-SP-002", name="特种设备使用登记", kind="licence", organ=world.tianhe_bureau,
        rules=Rules(legal_basis="《特种设备安全法》第三十三条", legal_limit=20, promised_limit=15, is_free=False,
                    fee_standard=__import__("decimal").Decimal("100.00"), fee_basis="省物价局批复", effective_from=since),
    )
    m.first_review = do_create_matter(
        code="4401-SP-003", name="食品生产许可", kind="licence", organ=world.gz_bureau,
        rules=Rules(legal_basis="《食品安全法》第三十五条", legal_limit=20, promised_limit=20, needs_first_review=True,
                    steps=[StepSpec("区局初审", 20, is_first_review=True), StepSpec("市局审批", 10)], effective_from=since),
    )
    m.parallel = do_create_matter(
        code="4401-BL-001", name="企业投资项目并联审批", kind="licence", organ=world.gz_bureau,
        rules=Rules(legal_basis="《行政许可法》第二十六条", legal_limit=45, promised_limit=30, is_parallel=True,
                    co_organs=[world.tianhe_bureau, world.yuexiu_bureau], effective_from=since),
    )
    return m


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate limits, throttles and replay memories live in the in-process cache; each test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def default_language():
    """A request in English leaves English active in the thread; start each test in Chinese."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.deactivate()


@pytest.fixture
def desk(world):
    """The complaint desk of the world: 效能办 offices, categories, and `file(...)` to register one."""
    from xiaoneng.complaints.actions import do_register_complaint
    from xiaoneng.complaints.identity import Identity
    from xiaoneng.complaints.models import Category

    class Desk:
        pass

    d = Desk()
    d.w = world
    d.tianhe_office = make_organ("广州市天河区党政机关效能建设办公室", world.tianhe, kind=OrganKind.PARTY)
    d.gz_office = make_organ("广州市党政机关效能建设办公室", world.gz, kind=OrganKind.PARTY)
    Organ.objects.filter(pk__in=[d.tianhe_office.pk, d.gz_office.pk]).update(short_name="效能办")
    d.delay = Category.objects.create(code="delay", name="办事拖拉", name_en="Delays", group="效能", order=1)
    d.attitude = Category.objects.create(code="attitude", name="服务态度", name_en="Attitude", group="作风", order=2)
    d.other = Category.objects.create(code="other", name="其他", name_en="Other", group="其他", order=9)
    d.person = Identity.of(name="张三丰", phone="13812345678", id_number="11010519491231002X", address="天河路1号")

    def file(**overrides):
        values = dict(channel="web", category=d.delay, title="营业执照办理拖延", content="窗口称材料不全但不一次性告知。",
                      region=world.tianhe, complainant=d.person, reply_channel="sms",
                      named_organ="天河区市场监督管理局")
        values.update(overrides)
        return do_register_complaint(**values)

    d.file = file
    return d


@pytest.fixture
def wsgi_application(db):
    """The project's WSGI application (xiaoneng.wsgi), called directly as a WSGI server would, inside the
    test's transaction: Django's test client stops closing the database connection at the end of each
    request (close_old_connections closes one inside a transaction); calling the application does not."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from xiaoneng.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
