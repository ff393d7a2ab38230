"""The complainant's (or a named rater's) identity: encrypted at rest, masked on pages,
revealed only to those who may, and every reveal audited.

Keys come from `settings.XIAONENG_IDENTITY_KEYS` (Fernet keys, newest first; env
`XIAONENG_IDENTITY_KEYS`, comma-separated). Encryption always uses the first key;
decryption tries each (MultiFernet), so a rotation is: put a new key first, run
`xiaoneng identity_keys rotate` (re-encrypts every stored identity with the new key),
then drop the old key. Development derives a key from SECRET_KEY so that the demo
runs without set-up; production refuses to start without real keys (settings).

Pages never decrypt: masked copies ("张*", "138****5678") and keyed digests (for
duplicate detection and rate limits) are computed once, when the identity is stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import asdict, dataclass, fields
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from xiaoneng.audit.log import record
from xiaoneng.orgs import access

FIELDS = ("name", "phone", "id_number", "address", "email", "device_id")


@dataclass(frozen=True)
class Identity:
    name: str = ""
    phone: str = ""
    id_number: str = ""
    address: str = ""
    email: str = ""
    device_id: str = ""

    @classmethod
    def of(cls, **values) -> Identity:
        return cls(**{f.name: (values.get(f.name) or "").strip() for f in fields(cls)})

    def is_empty(self) -> bool:
        return not any(asdict(self).values())


def keys() -> list[bytes]:
    configured = getattr(settings, "XIAONENG_IDENTITY_KEYS", None) or []
    if configured:
        return [k.encode() if isinstance(k, str) else k for k in configured]
    derived = hashlib.sha256(b"xiaoneng-identity:" + settings.SECRET_KEY.encode()).digest()
    return [base64.urlsafe_b64encode(derived)]


def _cipher() -> MultiFernet:
    return _cipher_for(tuple(keys()))


@lru_cache(maxsize=4)
def _cipher_for(key_set: tuple[bytes, ...]) -> MultiFernet:
    # Keyed by the key set itself, so a rotation (new settings) builds a new cipher.
    return MultiFernet([Fernet(k) for k in key_set])


def encrypt(identity: Identity) -> str:
    if identity.is_empty():
        return ""
    return _cipher().encrypt(json.dumps(asdict(identity), ensure_ascii=False).encode()).decode()


def decrypt(token: str) -> Identity:
    """Decrypt without auditing: only for `reveal()` and the key rotation."""
    if not token:
        return Identity()
    try:
        data = json.loads(_cipher().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("identity cannot be decrypted with the configured keys") from exc
    return Identity.of(**data)


def rotate_token(token: str) -> str:
    """The same identity encrypted with the first (newest) key."""
    if not token:
        return token
    try:
        return _cipher().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("identity cannot be decrypted with the configured keys") from exc


def digest(value: str) -> str:
    """Keyed digest of a normalised phone or ID number, for matching without decrypting."""
    value = re.sub(r"[\s-]", "", value or "").upper()
    if not value:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), b"identity:" + value.encode(), hashlib.sha256).hexdigest()


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * min(max(len(name) - 1, 1), 3)


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * len(digits)


# --- texts that are published -------------------------------------------------------------
_PII = [
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),            # e-mail
    re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])"),               # resident ID
    re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)"),       # mobile
]


def redact(text: str) -> str:
    """Hide any mobile number, resident ID number and e-mail address someone typed into a text."""
    for pattern in _PII:
        text = pattern.sub("***", text or "")
    return text


def mask_in(text: str, who: Identity) -> str:
    """`text` as it may be published: the complainant's own name masked ("张三丰" → "张**"; officials
    write "张三丰同志：您好"), their address, phone, ID number, e-mail and device id hidden, then `redact()`."""
    # The device id too: an app may write it into the description, and it identifies the complainant's phone.
    hidden = {value.strip(): "***" for value in (who.address, who.id_number, who.email, who.phone, who.device_id)}
    parts = (who.name or "").split()  # Open311 gives "first last": 三丰 张 is written 张三丰
    for name in {who.name.strip(), "".join(parts), "".join(reversed(parts)), *parts}:
        hidden.setdefault(name, mask_name(name))
    text = text or ""
    for value in sorted(hidden, key=len, reverse=True):  # the whole name before its parts
        if len(value) >= 2:  # a one-character surname alone would mask that character everywhere
            text = text.replace(value, hidden[value])
    return redact(text)


def for_publication(obj, text: str, *, purpose: str) -> str:
    """`mask_in(text, …)` with `obj`'s stored identity. The system decrypts it without showing it to
    anybody; the read is audited all the same (`identity.use`), like the notices' reads."""
    if not obj.identity_enc:
        return redact(text)
    identity = decrypt(obj.identity_enc)
    record("identity.use", obj, changes={"purpose": purpose[:200], "fields": [f for f in FIELDS if getattr(identity, f)]})
    return mask_in(text, identity)


class Masker:
    """`mask_in(text, …)` with one record's identity, decrypted at most once (on first use, the read
    audited as `identity.use`, like `for_publication`). An action keeps one per record (`masker_for`),
    so storing a reply and its timeline step reads the identity once. `who` skips the decryption
    when the caller already holds the identity (registration)."""

    def __init__(self, obj, *, who: Identity | None = None, purpose: str = "mask the complainant in stored texts"):
        self.obj, self.who, self.purpose = obj, who, purpose

    def __call__(self, text: str) -> str:
        text = text or ""
        if not text:
            return ""
        if self.who is None:
            if not self.obj.identity_enc:
                self.who = Identity()
            else:
                self.who = decrypt(self.obj.identity_enc)
                record("identity.use", self.obj, changes={
                    "purpose": self.purpose[:200], "fields": [f for f in FIELDS if getattr(self.who, f)]})
        return mask_in(text, self.who)


def masker_for(obj, *, who: Identity | None = None) -> Masker:
    """The record's masker, kept on the instance for the rest of the action."""
    masker = getattr(obj, "_xn_masker", None)
    if masker is None or (who is not None and masker.who is None):
        masker = Masker(obj, who=who)
        obj._xn_masker = masker
    return masker


def stored(identity: Identity) -> dict[str, str]:
    """The model fields that hold an identity: ciphertext, masked copies, digest."""
    return {
        "identity_enc": encrypt(identity),
        "name_masked": mask_name(identity.name),
        "phone_masked": mask_phone(identity.phone),
        "phone_digest": digest(identity.phone),
    }


# --- who may see ------------------------------------------------------------------------
def may_reveal(user, obj) -> bool:
    """Who may see a complainant's or a named rater's identity.

    A complaint: roles that need it (complaint officers, supervisors) within their scope;
    the organ complained about only where a supervisor granted it for this complaint.
    A rating: the rated organ's staff (to call back a bad review) and supervisors.
    """
    if getattr(obj, "anonymous", False) or not obj.identity_enc:
        return False
    return holds_identity_right(user, obj)


def holds_identity_right(user, obj) -> bool:
    """`user` may know who filed or rated `obj` (see `may_reveal`), whether or not anybody is named:
    such a reader also reads the record's texts as written, everyone else their masked copies."""
    one = type(obj).objects.filter(pk=obj.pk)
    if access.scoped(one, user, "complaint.identity").exists():
        return True
    if not hasattr(obj, "identity_grants"):  # a rating
        return access.scoped(one, user, "rating.respond").exists()
    granted = list(obj.identity_grants.values_list("organ__path", flat=True))
    return any(
        grant.organ_id and "complaint.respond" in access.PERMISSIONS.get(grant.role, ())
        and path.startswith(grant.organ.path)
        for path in granted
        for grant in access.grants(user)
    )


def reveal(user, obj, *, purpose: str) -> Identity:
    """Decrypt for `user`, writing who saw whose identity and why to the audit log.

    The caller checks `may_reveal` first (pages and API); this function refuses too, so a
    forgotten check cannot leak."""
    if not purpose.strip():
        raise PermissionError("a reveal needs a purpose")
    if not may_reveal(user, obj):
        raise PermissionError("not allowed to see this complainant")
    identity = decrypt(obj.identity_enc)
    record("identity.reveal", obj, changes={"purpose": purpose[:200], "fields": [f for f in FIELDS if getattr(identity, f)]})
    return identity
