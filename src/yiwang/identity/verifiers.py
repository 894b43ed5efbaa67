"""Real-name verifiers: a plugin registry at the edge (STYLE.md).

Production registers a verifier that calls the public-security authority's
interface (公安部公民身份信息核验); a new provider is one class plus one line in
REAL_NAME_VERIFIERS. `local` really works offline: it checks the number's
structure and check digit and the name's form, so the demo and tests need no network.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.identity.validators import validate_id_number

# Chinese names, minority names with the middle dot, and Latin-script names.
_NAME = re.compile(r"[\u4e00-\u9fff·•A-Za-z][\u4e00-\u9fff·•A-Za-z .]{0,58}[\u4e00-\u9fffA-Za-z]")


@dataclass(frozen=True)
class VerificationResult:
    passed: bool
    reference: str = ""
    detail: str = ""


class RealNameVerifier(Protocol):
    name: str

    def verify(self, real_name: str, id_number: str) -> VerificationResult: ...


class LocalVerifier:
    """Structure-only check for development and the demo; never for production."""

    name = "local"

    def verify(self, real_name: str, id_number: str) -> VerificationResult:
        if not _NAME.fullmatch(real_name.strip()):
            return VerificationResult(False, detail=_("姓名应与身份证上的姓名一致,请核对"))
        try:
            validate_id_number(id_number)
        except ValidationError as exc:
            return VerificationResult(False, detail=exc.messages[0])
        return VerificationResult(True, reference=f"local-{uuid.uuid4().hex[:16]}")


REAL_NAME_VERIFIERS: dict[str, type[RealNameVerifier]] = {"local": LocalVerifier}


def real_name_verifier(name: str | None = None) -> RealNameVerifier:
    return REAL_NAME_VERIFIERS[name or settings.YIWANG_REAL_NAME_VERIFIER]()
