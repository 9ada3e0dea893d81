"""ARNs of Step Functions resources: build, parse and check them in one place.

Formats follow AWS: ``arn:aws:states:<region>:<account>:stateMachine:<name>[:<version>|:<alias>]``,
``...:execution:<machine>:<name>``, ``...:express:<machine>:<name>:<uuid>``,
``...:activity:<name>``, ``...:mapRun:<machine>/<label>:<uuid>``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

# AWS: names may not contain whitespace, brackets < > { } [ ], wildcards ? *, the special
# characters " # % \ ^ | ~ ` $ & , ; : / or control characters (U+0000-001F, U+007F-009F).
_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_ARN = re.compile(r"^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):([A-Za-z]+):(.+)$")
_ALIAS = re.compile(r"^(?=.*[a-zA-Z_\-.])[a-zA-Z0-9_\-.]+$")


def is_valid_name(name: str) -> bool:
    """True when ``name`` is 1-80 characters and holds none of the characters AWS forbids."""
    return 0 < len(name) <= 80 and not _FORBIDDEN.search(name)


def is_valid_alias_name(name: str) -> bool:
    """Alias names: AWS's pattern ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$, at most 80."""
    return 0 < len(name) <= 80 and bool(_ALIAS.match(name))


@dataclass(frozen=True, slots=True)
class Arn:
    """A parsed Step Functions ARN."""

    partition: str
    region: str
    account: str
    kind: str
    """``stateMachine``, ``execution``, ``express``, ``activity``, ``mapRun``..."""
    parts: tuple[str, ...]
    """The colon-separated pieces after ``kind``."""
    text: str


def parse(text: str) -> Arn | None:
    """The parsed ARN, or None when ``text`` is not a Step Functions ARN at all."""
    match = _ARN.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    partition, region, account, kind, rest = match.groups()
    return Arn(partition, region, account, kind, tuple(rest.split(":")), text)


@dataclass(frozen=True, slots=True)
class Arns:
    """Builds ARNs for one account and region."""

    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    partition: str = "aws"

    def _base(self, kind: str) -> str:
        return f"arn:{self.partition}:states:{self.region}:{self.account}:{kind}:"

    def state_machine(self, name: str) -> str:
        return self._base("stateMachine") + name

    def version(self, machine_arn: str, number: int) -> str:
        return f"{machine_arn}:{number}"

    def alias(self, machine_arn: str, alias_name: str) -> str:
        return f"{machine_arn}:{alias_name}"

    def execution(self, machine_name: str, name: str) -> str:
        return self._base("execution") + f"{machine_name}:{name}"

    def express_execution(self, machine_name: str, name: str, uid: str) -> str:
        return self._base("express") + f"{machine_name}:{name}:{uid}"

    def activity(self, name: str) -> str:
        return self._base("activity") + name

    def map_run(self, machine_name: str, label: str, uid: str) -> str:
        return self._base("mapRun") + f"{machine_name}/{label}:{uid}"

    def role(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{name}"


def machine_of(arn: Arn) -> tuple[str, str | None]:
    """For a stateMachine ARN: (base machine ARN, qualifier: version number / alias name / None)."""
    base = f"arn:{arn.partition}:states:{arn.region}:{arn.account}:stateMachine:{arn.parts[0]}"
    return base, (arn.parts[1] if len(arn.parts) > 1 else None)


def is_role_arn(text: str) -> bool:
    """IAM role ARNs are checked for form only: ``arn:<partition>:iam::<account>:role/<path/name>``."""
    return bool(re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$", text or ""))
