"""Template size limits, as CloudFormation enforces them.

moto 5.2.5 takes a ``TemplateBody`` of any size. CloudFormation refuses one
over 51,200 bytes (a template that large must be uploaded to S3 and passed
by ``TemplateURL``), and a template read from S3 over 1,000,000 bytes. gantry
uploads large templates to its artifacts bucket; without this limit the
emulator could not tell whether it does.

- ``CreateStack``, ``UpdateStack``, ``CreateChangeSet``, ``ValidateTemplate``
  and ``GetTemplateSummary`` with a ``TemplateBody`` over 51,200 bytes (UTF-8)
  fail with AWS's ValidationError: "1 validation error detected: Value at
  'templateBody' failed to satisfy constraint: Member must have length less
  than or equal to 51200".
- A template read from a ``TemplateURL`` over 1,000,000 bytes fails with
  "Template may not exceed 1000000 bytes in size.".
"""

from __future__ import annotations

from typing import Any, Callable

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse

MAX_BODY = 51_200
MAX_URL_BODY = 1_000_000

_ACTIONS = ("create_stack", "update_stack", "create_change_set", "validate_template", "get_template_summary")


def _check_body(self: CloudFormationResponse) -> None:
    body = self._get_param("TemplateBody")
    if body and len(body.encode("utf-8")) > MAX_BODY:
        raise ValidationError(
            message="1 validation error detected: Value at 'templateBody' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_BODY}"
        )


def _limited(original: Callable[..., Any]) -> Callable[..., Any]:
    def action(self: CloudFormationResponse) -> Any:
        _check_body(self)
        return original(self)

    action.__gantry_limited__ = True  # type: ignore[attr-defined]
    return action


def install() -> None:
    for name in _ACTIONS:
        original = getattr(CloudFormationResponse, name, None)
        if original is None or getattr(original, "__gantry_limited__", False):
            continue
        setattr(CloudFormationResponse, name, _limited(original))

    original_url = CloudFormationResponse._get_stack_from_s3_url
    if getattr(original_url, "__gantry_limited__", False):
        return

    def from_url(self: CloudFormationResponse, template_url: str) -> str:
        body = original_url(self, template_url)
        if len(body.encode("utf-8")) > MAX_URL_BODY:
            raise ValidationError(message=f"Template may not exceed {MAX_URL_BODY} bytes in size.")
        return body

    from_url.__gantry_limited__ = True  # type: ignore[attr-defined]
    CloudFormationResponse._get_stack_from_s3_url = from_url  # type: ignore[method-assign]
