"""Screening free text for personal data before anybody reads it (public survey comments).

`screen(text)` returns the copy staff may read: every resident ID number (18 characters whose
check character is right, GB 11643), bank card number (16–19 digits passing the Luhn check, with or
without spaces), mobile or landline number, e-mail address, and a name introduced as the writer's
own ("我叫张三", "本人李四", "我是王小明", "姓名：陈五") replaced by a bracketed word saying what
was there. Full-width digits, letters and the signs of addresses and numbers are folded to ASCII
first, so "１３８…" is caught too (Chinese punctuation stays as written).

Why the kinds are told apart rather than all blanked: the reader still learns that the writer left
a phone number (a complaint asking to be called back) without learning the number. Any other run of
12 or more digits is masked as well: an ID with a wrong check digit is still somebody's number more
often than it is a harmless figure.
"""
from __future__ import annotations

import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

ID_MARK, CARD_MARK, PHONE_MARK, EMAIL_MARK, NAME_MARK, NUMBER_MARK = (
    "[身份证号]", "[银行卡号]", "[电话]", "[邮箱]", "[姓名]", "[号码]")

# The commonest surnames (about 90% of the population) and the compound ones; a name is only taken
# after a self-introduction and only when it starts with one of them, so "本人多次去办事" stays as written.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "麦赖温古庞区骆丘伍常康易乔")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "司徒", "令狐")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Digit runs, allowing single spaces or hyphens between groups (a card written 6222 0212 3456 7890).
_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){11,22}(?:[ -]?[Xx])?(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[\s-]?\d{7,8}(?!\d)")
_INTRO = re.compile(r"(我叫|我的名字是|我的名字叫|名叫|本人|我是|姓名[:：]?\s*|联系人[:：]?\s*)([\u4e00-\u9fff]{2,4})")


def id_number_valid(value: str) -> bool:
    value = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    return _ID_CHECK[sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11] == value[17]


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _long_number(match: re.Match) -> str:
    raw = match.group(0)
    compact = re.sub(r"[ -]", "", raw)
    if len(compact) == 18 and id_number_valid(compact):
        return ID_MARK
    if 16 <= len(compact) <= 19 and luhn_valid(compact):
        return CARD_MARK
    if _MOBILE.fullmatch(raw):
        return PHONE_MARK
    return NUMBER_MARK


def _name(match: re.Match) -> str:
    """A Chinese name is a surname and one or two characters (a compound surname and one or two); what
    follows may be the next word ("本人李四多次…" loses "多" too — better a word than the name)."""
    intro, chars = match.group(1), match.group(2)
    if chars[:2] in COMPOUND_SURNAMES:
        return intro + NAME_MARK + chars[4:]
    if chars[0] in SURNAMES:
        return intro + NAME_MARK + chars[3:]
    return match.group(0)


_FOLD = {0xFF00 + ord(c) - 0x20: c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@.+-_()"}
_FOLD[0x3000] = " "


def screen(text: str) -> str:
    """`text` with the personal data in it masked (see the module docstring)."""
    text = (text or "").translate(_FOLD)
    text = _EMAIL.sub(EMAIL_MARK, text)  # before digits: "13800138000@qq.com" is an address, not a phone
    text = _MOBILE.sub(PHONE_MARK, text)  # before long runs: "+86 138…" with its prefix
    text = _DIGITS.sub(_long_number, text)
    text = _LANDLINE.sub(PHONE_MARK, text)
    return _INTRO.sub(_name, text)
