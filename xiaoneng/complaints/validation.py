"""Checks on what a complainant or rater gives us; each returns an error text or None."""
import re

from django.utils.translation import gettext as _

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def phone_error(phone: str) -> str | None:
    value = re.sub(r"[\s]", "", phone or "")
    if value.startswith("+86"):
        value = value[3:]
    if not value or MOBILE_RE.match(value) or LANDLINE_RE.match(value):
        return None
    return _("电话号码格式不正确：应为 11 位手机号码或带区号的固定电话")


def id_number_error(number: str) -> str | None:
    """Resident ID (GB 11643-1999): 17 digits and a check character."""
    value = (number or "").strip().upper()
    if not value:
        return None
    if not re.match(r"^\d{17}[\dX]$", value):
        return _("身份证号码应为 18 位（最后一位可为 X）")
    check = _ID_CHECK[sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11]
    if value[17] != check:
        return _("身份证号码校验位不正确")
    return None


def email_error(email: str) -> str | None:
    if not email or EMAIL_RE.match(email.strip()):
        return None
    return _("电子邮件地址格式不正确")


def normalise_phone(phone: str) -> str:
    value = re.sub(r"\s", "", phone or "")
    return value[3:] if value.startswith("+86") else value
