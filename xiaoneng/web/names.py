"""The names of internal codes, one registry per kind of code.

Pages and exports never show a code where a reader expects a word: a clock kind
(`case.legal`), a supervision rule (`fee_above_standard`), an audit action (`order.open`),
an object type (`supervision.supervisionorder`) or a model field (`due_at`). Each kind of
code has one table (or one source of truth, like the rules' own titles and the models'
verbose names) here, so that a page, an export and the audit register say the same word,
in the user's language. An unknown code falls back to a generic word, never to the code.
"""
from __future__ import annotations

import re

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

CLOCK_KINDS = {
    "case.correction": _l("一次性告知补正"),
    "case.promise": _l("承诺时限"),
    "case.legal": _l("法定时限"),
    "case.joint": _l("联合办理时限"),
    "case.subcase": _l("并联子件时限"),
    "case.step": _l("环节时限"),
    "case.first_review": _l("下级初审时限"),
    "case.certificate": _l("送达证件时限"),
    "complaint.acceptance": _l("投诉受理时限"),
    "complaint.handling": _l("投诉办理时限"),
    "rating.rectification": _l("差评整改时限"),
    "supervision.order": _l("督办时限"),
    "accountability.decision": _l("问责决定期限"),
    "accountability.filing": _l("备案期限"),
    "accountability.adjustment": _l("组织调整落实期限"),
    "accountability.review": _l("复核期限"),
    "accountability.appeal": _l("申诉期限"),
    "appraisal.objection": _l("考评结果异议期"),
    "appraisal.staff_review_request": _l("考核结果复核申请期限"),
    "appraisal.staff_review": _l("考核结果复核决定期限"),
}


def clock_kind(kind: str) -> str:
    found = CLOCK_KINDS.get(kind)
    return str(found) if found else _("其他时限")


def clock_kind_choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in CLOCK_KINDS.items()]


def rule_title(code: str) -> str:
    """A supervision rule's own title (each rule module carries it)."""
    from xiaoneng.supervision.rules import load_all

    found = load_all().get(code)
    return str(found.title) if found else _("其他规则")


# Audit actions: the explicit `record()` calls and the model signals (create/update/delete).
AUDIT_ACTIONS = {
    "create": _l("新建"),
    "update": _l("修改"),
    "delete": _l("删除"),
    "seed": _l("生成演示数据"),
    "case.submit": _l("办件申请登记"),
    "case.status": _l("办件状态变更"),
    "clock.start": _l("时限起算"),
    "clock.stop": _l("时限停止"),
    "clock.pause": _l("时限暂停"),
    "clock.resume": _l("时限恢复"),
    "clock.extend": _l("时限延长"),
    "matter.publish": _l("发布事项版本"),
    "complaint.register": _l("投诉登记"),
    "complaint.status": _l("投诉状态变更"),
    "complaint.review": _l("投诉复核"),
    "complaint.proposal": _l("投诉处理意见"),
    "complaint.rate": _l("投诉满意度评价"),
    "complaint.extension_request": _l("申请延长投诉办理期限"),
    "complaint.extension_decision": _l("审批投诉延期"),
    "complaint.identity_grant": _l("授权查看投诉人身份"),
    "identity.reveal": _l("查看身份信息"),
    "identity.use": _l("使用身份信息"),
    "identity.keys_rotate": _l("轮换身份加密密钥"),
    "identity.keys_create": _l("生成身份加密密钥"),
    "rating.rate": _l("服务评价"),
    "rating.status": _l("评价状态变更"),
    "rating.tell": _l("告知评价处理结果"),
    "rating.appeal_decision": _l("评价申诉决定"),
    "supervision.raise": _l("发现预警"),
    "alert.raise": _l("发现预警"),
    "alert.explain": _l("预警情况说明"),
    "alert.close": _l("预警核实办结"),
    "alert.dismiss": _l("撤销预警"),
    "alert.appeal": _l("预警申诉"),
    "alert.uphold": _l("预警申诉维持"),
    "alert.accept_appeal": _l("预警申诉成立"),
    "alert.escalate": _l("预警升级督办"),
    "order.open": _l("发出督办"),
    "order.report": _l("督办反馈"),
    "order.verify": _l("督办核查"),
    "order.take_over": _l("提级督办"),
    "accountability.proposal": _l("问责建议"),
    "accountability.register": _l("问责立案"),
    "accountability.status": _l("问责案件状态变更"),
    "accountability.read": _l("查阅问责案件"),
    "accountability.trace": _l("责任倒查"),
    "accountability.trace_parties": _l("将倒查到的人员列为责任人"),
    "accountability.evidence.upload": _l("上传问责证据文件"),
    "accountability.evidence.read": _l("下载问责证据文件"),
    "appraisal.staff_grades": _l("报送公务员考核等次"),
    "appraisal.staff_notice": _l("书面通知考核结果"),
    "appraisal.staff_review": _l("申请考核结果复核"),
    "appraisal.staff_review_decide": _l("作出考核结果复核决定"),
    "document.issue": _l("出具文书"),
    "exchange.apply": _l("数据交换入库"),
    "exchange.process_held": _l("处理暂存的交换数据"),
    "exchange.source.create": _l("新建数据来源"),
    "exchange.source.activate": _l("启用数据来源"),
    "exchange.source.organs": _l("变更数据来源机关"),
    "exchange.source.rotate_key": _l("更换数据来源密钥"),
    "notify.mark_sent": _l("标记通知已发送"),
    "survey.create": _l("新建群众评议"),
    "survey.status": _l("群众评议状态变更"),
    "survey.invitations": _l("生成评议邀请码"),
}


def action_name(action: str) -> str:
    found = AUDIT_ACTIONS.get(action)
    if found:
        return str(found)
    head = action.split(".", 1)[0]
    return _("其他操作") if head == action else _("%(what)s：其他操作") % {"what": object_type_name(head)}


# Object types that are no model (or whose model lives elsewhere): their words.
OBJECT_TYPES = {
    "complaints.identity": _l("身份信息"),
    "calendar": _l("工作日历"),
    # models whose verbose name Django would make from the class name ("case step")
    "approvals.caseevent": _l("办件事件"),
    "approvals.casestep": _l("办理环节"),
    "supervision.alertstep": _l("预警处理步骤"),
    "supervision.orderstep": _l("督办处理步骤"),
    "supervision.earlycompletion": _l("提前办结记录"),
    "supervision.helddigest": _l("暂缓发送的预警汇总"),
    "complaints.complaintstep": _l("投诉处理步骤"),
    "complaints.extensionrequest": _l("投诉延期申请"),
    "complaints.identitygrant": _l("身份查看授权"),
    "complaints.ratingstep": _l("评价处理步骤"),
    "documents.documentsequence": _l("文书编号序列"),
    "accountability.evidence": _l("问责证据材料"),
    "accountability.casestep": _l("问责办理步骤"),
    "workcalendar.calendarrevision": _l("工作日历修订"),
    "audit.chainhead": _l("审计链头"),
}


def model_of(label: str):
    try:
        app_label, model_name = label.split(".", 1)
        return apps.get_model(app_label, model_name)
    except (ValueError, LookupError):
        return None


def object_type_name(label: str) -> str:
    """A model label (`supervision.supervisionorder`) as the model's verbose name (督办单)."""
    if label in OBJECT_TYPES:
        return str(OBJECT_TYPES[label])
    model = model_of(label)
    if model is not None:
        return str(model._meta.verbose_name)
    for app in apps.get_app_configs():
        if app.label == label:
            return str(app.verbose_name)
    return _("其他对象") if label else ""


def field_of(model, name: str):
    """The model field a changes key names (an attname `organ_id` or a field name)."""
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        if name.endswith("_id"):
            try:
                return model._meta.get_field(name[:-3])
            except FieldDoesNotExist:
                return None
    return None


# Keys of explicit audit entries' changes that are no model field.
CHANGE_KEYS = {
    "status": _l("状态"), "text": _l("内容"), "note": _l("备注"), "days": _l("期限（日）"), "source": _l("来源"),
    "organ": _l("机关"), "issuer": _l("督办层级"), "accepted": _l("是否通过"), "alerts": _l("预警"),
    "proposal": _l("问责建议"), "due_at": _l("到期时间"), "reason": _l("理由"), "reasons": _l("理由"),
    "purpose": _l("用途"), "from": _l("原状态"), "to": _l("新状态"), "at": _l("时间"), "kind": _l("类型"),
    "limit": _l("时限"), "unit": _l("计时单位"), "count": _l("数量"), "region_code": _l("区划代码"),
    "path": _l("层级路径"), "prefix": _l("区划前缀"), "id": _l("编号"), "matter": _l("事项"), "version": _l("版本"),
    "approved": _l("是否批准"), "approver": _l("批准人"), "channel": _l("渠道"), "fields": _l("字段"),
    "key_prefix": _l("密钥前缀"), "legal_basis": _l("法律依据"), "level": _l("等级"), "organs": _l("机关"),
    "origin": _l("来源"), "overdue": _l("是否超期"), "page": _l("页"), "step": _l("环节"), "upheld": _l("是否维持"),
    "anonymous": _l("匿名"),
}


def field_name(model, name: str) -> str:
    field = field_of(model, name)
    # A field without its own verbose name gets Django's words made from its code ("region code"): not a name.
    if field is not None and getattr(field, "verbose_name", None) and field.verbose_name != field.name.replace("_", " "):
        return str(field.verbose_name)
    if name in CHANGE_KEYS:
        return str(CHANGE_KEYS[name])
    return _("其他项目")


# Who acted when no person did: the labels commands, loops and rules run under (xiaoneng.audit.log.acting_as).
ACTOR_LABELS = [
    (re.compile(r"^(system|supervision)$"), lambda m: _("系统（自动监察）")),
    (re.compile(r"^seed$"), lambda m: _("系统（演示数据）")),
    (re.compile(r"^exchange:(.+)$"), lambda m: _("数据交换：%(source)s") % {"source": m.group(1)}),
    (re.compile(r"^cli:(.+)$"), lambda m: _("系统（后台任务）")),
    (re.compile(r"^anonymous$"), lambda m: _("公众（未登录）")),
    (re.compile(r"^(orgs|matters) .+$"), lambda m: _("系统（命令行导入）")),
]


def actor_words(label: str) -> str:
    """An audit context's label in words when no person acted; a person's label (their username) as is."""
    for pattern, words in ACTOR_LABELS:
        m = pattern.match(label or "")
        if m:
            return words(m)
    return label
