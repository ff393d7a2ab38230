"""The matter catalogue: create a matter and publish new versions of its rules.

Versions are never edited once published: a change of limits, fees, materials or
steps is a new version effective from a given moment, and a case keeps the version in
force when it was received. All checks are here, so the admin, the pages, the Excel
import and the API reject the same bad rules with the same words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.clocks.models import Unit
from xiaoneng.conf import rule
from xiaoneng.orgs.models import Organ

from .models import Matter, MatterKind, MatterStep, MatterVersion


class CatalogueError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class StepSpec:
    name: str
    limit: int
    unit: str = Unit.WORKING
    is_first_review: bool = False


@dataclass
class Rules:
    """Everything a version says; defaults are the Administrative Licensing Law's."""

    legal_basis: str
    legal_limit: int
    promised_limit: int
    legal_unit: str = Unit.WORKING
    promised_unit: str = Unit.WORKING
    is_free: bool = True
    fee_standard: Decimal | None = None
    fee_basis: str = ""
    materials: list[str] = field(default_factory=list)
    steps: list[StepSpec] = field(default_factory=list)
    needs_first_review: bool = False
    is_parallel: bool = False
    co_organs: list[Organ] = field(default_factory=list)
    joint_limit: int | None = None
    effective_from: datetime | None = None


def check(rules: Rules) -> dict[str, str]:
    """Field → reason for every rule that the law or common sense forbids."""
    errors: dict[str, str] = {}
    if not rules.legal_basis.strip():
        errors["legal_basis"] = _("必须填写设定依据")
    for name in ("legal_unit", "promised_unit"):
        if getattr(rules, name) not in Unit.values:
            errors[name] = _("时限单位应为 working、calendar 或 hours")
    for name in ("legal_limit", "promised_limit"):
        value = getattr(rules, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            errors[name] = _("时限必须是正整数")
    if "legal_limit" not in errors and "promised_limit" not in errors:
        if rules.promised_unit != rules.legal_unit:
            errors["promised_unit"] = _("承诺时限的单位必须与法定时限相同，才能比较")
        elif rules.promised_limit > rules.legal_limit:
            errors["promised_limit"] = _("承诺时限（%(p)d）不得超过法定时限（%(l)d）") % {
                "p": rules.promised_limit, "l": rules.legal_limit
            }
    if rules.is_free and rules.fee_standard:
        errors["fee_standard"] = _("不收费的事项不能有收费标准")
    if not rules.is_free:
        if rules.fee_standard is None or rules.fee_standard <= 0:
            errors["fee_standard"] = _("收费事项必须填写大于0的收费标准")
        if not rules.fee_basis.strip():
            errors["fee_basis"] = _("收费事项必须填写收费依据")
    for i, step in enumerate(rules.steps, start=1):
        if not step.name.strip():
            errors[f"steps[{i}].name"] = _("环节名称不能为空")
        if not isinstance(step.limit, int) or step.limit <= 0:
            errors[f"steps[{i}].limit"] = _("环节时限必须是正整数")
    if rules.needs_first_review and not any(s.is_first_review for s in rules.steps):
        errors["steps"] = _("需要下级初审的事项必须有一个初审环节")
    if rules.is_parallel and not rules.co_organs:
        errors["co_organs"] = _("并联审批事项必须有协办机关")
    if rules.joint_limit is not None and rules.joint_limit <= 0:
        errors["joint_limit"] = _("联合办理时限必须是正整数")
    return errors


@transaction.atomic
def do_create_matter(*, code: str, name: str, kind: str, organ: Organ, rules: Rules) -> Matter:
    errors = check(rules)
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        errors["code"] = _("事项编码不能为空")
    elif Matter.objects.filter(code=code).exists():
        errors["code"] = _("事项编码 %(code)s 已存在") % {"code": code}
    if not name:
        errors["name"] = _("事项名称不能为空")
    if kind not in MatterKind.values:
        errors["kind"] = _("事项类型无效：%(kind)s") % {"kind": kind}
    if errors:
        raise CatalogueError(errors)
    matter = Matter.objects.create(code=code, name=name, kind=kind, organ=organ)
    do_publish_version(matter, rules)
    return matter


@transaction.atomic
def do_publish_version(matter: Matter, rules: Rules) -> MatterVersion:
    """A new version of the matter's rules, in force from `rules.effective_from` (default now)."""
    errors = check(rules)
    if errors:
        raise CatalogueError(errors)
    last = matter.versions.order_by("-number").first()
    version = MatterVersion.objects.create(
        matter=matter,
        number=(last.number + 1) if last else 1,
        effective_from=rules.effective_from or timezone.now(),
        legal_basis=rules.legal_basis.strip(),
        legal_limit=rules.legal_limit,
        legal_unit=rules.legal_unit,
        promised_limit=rules.promised_limit,
        promised_unit=rules.promised_unit,
        is_free=rules.is_free,
        fee_standard=None if rules.is_free else rules.fee_standard,
        fee_basis=rules.fee_basis.strip(),
        materials=[m.strip() for m in rules.materials if m.strip()],
        needs_first_review=rules.needs_first_review,
        first_review_limit=int(rule("licence_first_review_working_days")),
        is_parallel=rules.is_parallel,
        joint_limit=rules.joint_limit or int(rule("licence_joint_working_days")),
        joint_extension_max=int(rule("licence_joint_extension_working_days")),
        extension_max=int(rule("licence_extension_working_days")),
        certificate_limit=int(rule("licence_certificate_working_days")),
        correction_limit=int(rule("licence_correction_notice_days")),
    )
    MatterStep.objects.bulk_create(
        MatterStep(version=version, order=i, name=s.name.strip(), limit=s.limit, unit=s.unit, is_first_review=s.is_first_review)
        for i, s in enumerate(rules.steps, start=1)
    )
    if rules.co_organs:
        version.co_organs.set(rules.co_organs)
    matter.current = version
    matter.save(update_fields=["current"])
    record("matter.publish", matter, changes={"version": version.number, "legal_limit": version.legal_limit,
                                              "promised_limit": version.promised_limit})
    return version
