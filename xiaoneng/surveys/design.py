"""The design form's text boxes read into the rows `actions.do_create_survey` checks.

Rater groups are typed one a line, "名称, 权重[, 手机]" — commas (half- or full-width), semicolons or tabs
between the parts (not 、, which names use: 人大代表、政协委员); a third part 手机 / 是 / phone / yes / y / 1 opens the
group to respondents who prove a mobile number. `parse_groups` never raises anything but
`SurveyError`, naming the line.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext as _

from .actions import SurveyError
from .models import QuestionKind

_SPLIT = re.compile(r"\s*[,，\t;；]\s*")
YES = {"手机", "是", "phone", "yes", "y", "1", "可", "开放"}
NO = {"", "否", "no", "n", "0"}
MAX_LINES = 50


def lines(text: str) -> list[str]:
    return [ln.strip() for ln in (text or "").splitlines() if ln.strip()]


def parse_groups(text: str) -> list[dict]:
    rows = []
    found = lines(text)
    if len(found) > MAX_LINES:
        raise SurveyError(_("评议主体最多 %(n)d 个") % {"n": MAX_LINES}, "groups")
    for n, line in enumerate(found, start=1):
        parts = _SPLIT.split(line)
        if len(parts) < 2 or len(parts) > 3:
            raise SurveyError(_("评议主体第 %(n)d 行：应为“名称, 权重”或“名称, 权重, 手机”") % {"n": n}, "groups")
        flag = parts[2].strip().lower() if len(parts) == 3 else ""
        if flag not in YES and flag not in NO:
            raise SurveyError(_("评议主体第 %(n)d 行：第三项只能写“手机”（可凭手机号参与）或留空") % {"n": n}, "groups")
        rows.append({"name": parts[0], "weight": parts[1], "open_to_phone": flag in YES})
    return rows


def parse_questions(scale_text: str, open_text: str) -> list[dict]:
    found = lines(scale_text) + lines(open_text)
    if len(found) > MAX_LINES:
        raise SurveyError(_("题目最多 %(n)d 道") % {"n": MAX_LINES}, "questions")
    return ([{"kind": QuestionKind.SCALE, "text": t} for t in lines(scale_text)]
            + [{"kind": QuestionKind.TEXT, "text": t} for t in lines(open_text)])


def groups_text(groups) -> str:
    return "\n".join(f"{g.name}, {format(g.weight.normalize(), 'f')}{', 手机' if g.open_to_phone else ''}"
                     for g in groups)
