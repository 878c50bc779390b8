"""UpdateTerminationProtection (emulator-notes.md item 5).

moto 5.2.5 has no UpdateTerminationProtection handler (the call returns HTTP
500), and although CreateStack stores EnableTerminationProtection, DeleteStack
ignores it. gantry protects every data stack, so:

- ``UpdateTerminationProtection`` sets the flag on the stack and returns its
  StackId; DescribeStacks shows it as ``EnableTerminationProtection``.
- ``DeleteStack`` on a protected stack fails with AWS's ValidationError
  "Stack [NAME] cannot be deleted while TerminationProtection is enabled".
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult


def install() -> None:
    if hasattr(CloudFormationResponse, "update_termination_protection"):
        return
    original_delete = CloudFormationResponse.delete_stack

    def update_termination_protection(self: CloudFormationResponse) -> ActionResult:
        name = self._get_param("StackName")
        enable = self._get_bool_param("EnableTerminationProtection")
        if enable is None:
            raise ValidationError(message="EnableTerminationProtection is required")
        stack = self.cloudformation_backend.get_stack(name)
        if stack.status == "DELETE_COMPLETE":
            raise ValidationError(name)
        stack.enable_termination_protection = bool(enable)
        return ActionResult({"StackId": stack.stack_id})

    def delete_stack(self: CloudFormationResponse) -> Any:
        name = self._get_param("StackName")
        try:
            stack = self.cloudformation_backend.get_stack(name)
        except ValidationError:
            stack = None
        if stack is not None and stack.status != "DELETE_COMPLETE" and stack.enable_termination_protection:
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
        return original_delete(self)

    CloudFormationResponse.update_termination_protection = update_termination_protection  # type: ignore[attr-defined]
    CloudFormationResponse.delete_stack = delete_stack  # type: ignore[method-assign]
