"""Regions, organs, their units and posts, staff, users and their grants.

Scoping is by prefix: a region's `prefix` is the significant head of its 12-digit
statistical code (2 digits for a province, 4 for a city, 6 for a county, 9 for a
township, 12 for a village), and every record that belongs somewhere stores the
prefix of its region as `region_code`, so "everything under this city" is one indexed
`LIKE '4401%'`. Organs form their own tree (a bureau and the bodies under it) with a
materialised `path` of ids, so "this organ and all below it" is one prefix match too.
"""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

import xiaoneng.lib.lookups  # noqa: F401  (registers __under)
from xiaoneng.lib.codes import validate_credit_code, validate_region_code


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("县（区）")
    TOWNSHIP = 4, _("乡镇（街道）")
    VILLAGE = 5, _("村（社区）")


PREFIX_LENGTH = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


def prefix_index(name: str, field: str) -> models.Index:
    """A B-tree index serving `field__under=prefix` (a range scan, see xiaoneng.lib.lookups)."""
    return models.Index(fields=[field], name=name)


class Region(models.Model):
    code = models.CharField(_("区划代码"), max_length=12, unique=True, validators=[validate_region_code])
    prefix = models.CharField(_("代码前缀"), max_length=12, unique=True, editable=False)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [prefix_index("region_prefix_like", "prefix")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.prefix = self.code[: PREFIX_LENGTH[self.level]]
        super().save(*args, **kwargs)

    @staticmethod
    def prefix_for(code: str, level: int) -> str:
        return code[: PREFIX_LENGTH[level]]

    def ancestors(self) -> list["Region"]:
        """From the root down to the parent, in one query (prefixes of this code)."""
        heads = {self.code[:n] for lvl, n in PREFIX_LENGTH.items() if lvl < self.level}
        return list(Region.objects.filter(prefix__in=heads).order_by("level"))

    def full_name(self) -> str:
        return "".join(r.name for r in [*self.ancestors(), self])


class OrganKind(models.TextChoices):
    PARTY = "party", _("党委工作机关")
    GOVERNMENT = "government", _("政府工作部门")
    CONGRESS = "congress", _("人大机关")
    CPPCC = "cppcc", _("政协机关")
    COURT = "court", _("审判机关")
    PROCURATORATE = "procuratorate", _("检察机关")
    INSTITUTION = "institution", _("承担公共事务职能的事业单位")
    GRASSROOTS = "grassroots", _("乡镇（街道）、村（社区）")


class Organ(models.Model):
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    name = models.CharField(_("名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    kind = models.CharField(_("类别"), max_length=20, choices=OrganKind.choices)
    region = models.ForeignKey(Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="organs")
    region_code = models.CharField(max_length=12, editable=False)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级机关"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, editable=False, default="")
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("机关单位")
        verbose_name_plural = _("机关单位")
        ordering = ["region_code", "name"]
        indexes = [
            prefix_index("organ_region_like", "region_code"),
            prefix_index("organ_path_like", "path"),
            models.Index(Upper("name"), name="organ_name_upper"),
        ]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="organ_unique_name_in_region")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        """Keep the denormalised region prefix and the organ path in step.

        1. The region prefix is copied so scoped queries need no join.
        2. The path needs the organ's own id, so a new organ is saved twice.
        """
        self.region_code = self.region.prefix
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        if path != self.path:
            self.path = path
            Organ.objects.filter(pk=self.pk).update(path=path)


class Unit(models.Model):
    """An internal unit (内设机构) of an organ."""

    organ = models.ForeignKey(Organ, verbose_name=_("机关"), on_delete=models.CASCADE, related_name="units")
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )

    class Meta:
        verbose_name = _("内设机构")
        verbose_name_plural = _("内设机构")
        ordering = ["organ_id", "name"]
        constraints = [models.UniqueConstraint(fields=["organ", "name"], name="unit_unique_name_in_organ")]

    def __str__(self):
        return f"{self.organ.short_name or self.organ.name}·{self.name}"


class Staff(models.Model):
    organ = models.ForeignKey(Organ, verbose_name=_("机关"), on_delete=models.PROTECT, related_name="staff")
    unit = models.ForeignKey(Unit, verbose_name=_("内设机构"), null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(_("姓名"), max_length=50)
    staff_no = models.CharField(_("工号"), max_length=30, blank=True)
    rank = models.CharField(_("职务职级"), max_length=50, blank=True)
    user = models.OneToOneField(
        "orgs.User", verbose_name=_("登录账号"), null=True, blank=True, on_delete=models.SET_NULL
    )
    is_active = models.BooleanField(_("在职"), default=True)

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        ordering = ["organ_id", "name"]

    def __str__(self):
        return self.name


class Post(models.Model):
    """A post (岗位) with its duties and quantified targets, held by staff."""

    organ = models.ForeignKey(Organ, verbose_name=_("机关"), on_delete=models.CASCADE, related_name="posts")
    unit = models.ForeignKey(Unit, verbose_name=_("内设机构"), null=True, blank=True, on_delete=models.SET_NULL)
    title = models.CharField(_("岗位名称"), max_length=100)
    duties = models.TextField(_("岗位职责"), blank=True)
    holders = models.ManyToManyField(Staff, verbose_name=_("在岗人员"), blank=True, related_name="posts")
    # A leading post (领导职务): its holders form the organ's leadership team (领导班子), appraised as a team.
    is_leading = models.BooleanField(_("领导职务"), default=False)

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        ordering = ["organ_id", "title"]

    def __str__(self):
        return self.title


class PostTarget(models.Model):
    """One quantified target of a post, e.g. "办件按时办结率 ≥ 98 %"."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    indicator = models.CharField(_("指标"), max_length=100)
    comparator = models.CharField(_("比较"), max_length=2, choices=[(">=", "≥"), ("<=", "≤"), ("=", "=")], default=">=")
    value = models.DecimalField(_("目标值"), max_digits=12, decimal_places=2)
    measure = models.CharField(_("单位"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("量化指标")
        verbose_name_plural = _("量化指标")

    def __str__(self):
        return f"{self.indicator} {self.get_comparator_display()} {self.value}{self.measure}"


class User(AbstractUser):
    display_name = models.CharField(_("显示名称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.display_name or self.username


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    SUPERVISOR = "supervisor", _("效能办监察员")
    LEADER = "leader", _("机关领导")
    HANDLER = "handler", _("办件人员")
    COMPLAINT_OFFICER = "complaint_officer", _("投诉受理员")
    APPRAISAL_OFFICER = "appraisal_officer", _("考评员")
    AUDITOR = "auditor", _("只读审计员")
    DEPUTY = "deputy", _("人大代表/政协委员")


class Grant(models.Model):
    """A role on a scope: a region subtree or an organ subtree (exactly one of the two)."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    region = models.ForeignKey(Region, verbose_name=_("区划范围"), null=True, blank=True, on_delete=models.PROTECT)
    organ = models.ForeignKey(Organ, verbose_name=_("机关范围"), null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(region__isnull=False, organ__isnull=True) | models.Q(region__isnull=True, organ__isnull=False)),
                name="grant_exactly_one_scope",
            ),
            models.UniqueConstraint(fields=["user", "role", "region", "organ"], name="grant_unique"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.region or self.organ}"
