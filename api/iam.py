"""IAM's three role calls (GetRole, CreateRole, DeleteRole) in the Query protocol with XML
answers, so AWS's boto3 examples run with one AWS_ENDPOINT_URL. Roles live in the store."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from urllib.parse import parse_qs, quote
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from engine.runtime import Runtime

_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


def _xml(body: str, status: int = 200) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, status_code=status, media_type="text/xml")


def _request_id() -> str:
    return secrets.token_hex(16)


def _error(code: str, message: str, status: int) -> Response:
    return _xml(f'<ErrorResponse xmlns="{_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
                f"<Message>{escape(message)}</Message></Error><RequestId>{_request_id()}</RequestId>"
                "</ErrorResponse>", status)


def _role_xml(role: dict[str, str]) -> str:
    fields = "".join(f"<{k}>{escape(str(role[k]))}</{k}>" for k in
                     ("Path", "RoleName", "RoleId", "Arn", "CreateDate") if k in role)
    policy = f"<AssumeRolePolicyDocument>{escape(quote(role.get('AssumeRolePolicyDocument', '')))}" \
             "</AssumeRolePolicyDocument>"
    description = f"<Description>{escape(role['Description'])}</Description>" if role.get("Description") else ""
    return f"<Role>{fields}{policy}{description}<MaxSessionDuration>3600</MaxSessionDuration></Role>"


def _ok(action: str, result: str) -> Response:
    inner = f"<{action}Result>{result}</{action}Result>" if result else ""
    return _xml(f'<{action}Response xmlns="{_NS}">{inner}<ResponseMetadata><RequestId>{_request_id()}'
                f"</RequestId></ResponseMetadata></{action}Response>")


async def handle(request: Request, runtime: Runtime) -> Response:
    """One IAM Query call (form-encoded ``Action=...``)."""
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    action = form.get("Action", "")
    name = form.get("RoleName", "")
    store = runtime.store
    if action not in ("GetRole", "CreateRole", "DeleteRole"):
        return _error("InvalidAction", f"Could not find operation {action} for version 2010-05-08", 400)
    if not name:
        return _error("ValidationError", "1 validation error detected: Value null at 'roleName' failed to "
                                         "satisfy constraint: Member must not be null", 400)
    role = store.get("role", name)
    if action == "CreateRole":
        if role is not None:
            return _error("EntityAlreadyExists", f"Role with name {name} already exists.", 409)
        path = form.get("Path", "/")
        role = {"Path": path, "RoleName": name, "RoleId": "AROA" + secrets.token_hex(8).upper(),
                "Arn": f"arn:aws:iam::{runtime.arns.account}:role{path}{name}",
                "CreateDate": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "AssumeRolePolicyDocument": form.get("AssumeRolePolicyDocument", ""),
                "Description": form.get("Description", "")}
        store.put("role", name, role)
        return _ok(action, _role_xml(role))
    if role is None:
        return _error("NoSuchEntity", f"The role with name {name} cannot be found.", 404)
    if action == "GetRole":
        return _ok(action, _role_xml(role))
    store.delete("role", name)
    return _ok(action, "")
