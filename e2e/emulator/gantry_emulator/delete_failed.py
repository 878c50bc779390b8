"""DeleteStack when a resource cannot be deleted: DELETE_FAILED.

moto 5.2.5 dropped the stack first and then raised the resource's error out
of DeleteStack: the client got the service's error (for DynamoDB a JSON body
inside a CloudFormation answer, which SDKs cannot parse), and the stack had
vanished from DescribeStacks and ListStacks while the resource stayed. Seen
with a DynamoDB table with ``DeletionProtectionEnabled`` and no
``DeletionPolicy: Retain``.

On AWS DeleteStack succeeds, the resource gets a ``DELETE_FAILED`` event with
the reason, the stack ends ``DELETE_FAILED`` ("The following resource(s)
failed to delete: [X]. ") with its exports and what could not be deleted,
and a later DeleteStack tries again. This does the same.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models

from . import events


def _remaining(resource_map: Any) -> list[str]:
    """Resources of the stack that are still there and not retained."""
    out = []
    for name, resource_json in (resource_map._resource_json_map or {}).items():
        resource = resource_map._parsed_resources.get(name)
        if resource is None or isinstance(resource, str) or resource_json.get("DeletionPolicy") == "Retain":
            continue
        out.append(name)
    return out


def install() -> None:
    backend_cls = models.CloudFormationBackend
    if getattr(backend_cls.delete_stack, "_gantry", False):
        return
    original = backend_cls.delete_stack

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        stack = self.stacks.get(name_or_stack_id) or next((s for s in self.stacks.values() if s.name == name_or_stack_id), None)
        if stack is None:
            return original(self, name_or_stack_id)
        try:
            original(self, stack.stack_id)
            stack.stack_status_reason = None
        except Exception as e:  # noqa: BLE001 - any resource's failure fails the deletion
            self.deleted_stacks.pop(stack.stack_id, None)
            self.stacks[stack.stack_id] = stack
            rm = stack.resource_map
            failed = _remaining(rm)
            reason = getattr(e, "message", None) or str(e) or e.__class__.__name__
            for name in failed:
                resource = rm._parsed_resources[name]
                events.record(rm, name, rm._resource_json_map[name].get("Type", ""), "DELETE_FAILED", events.physical_id(resource), reason)
            summary = f"The following resource(s) failed to delete: [{', '.join(failed)}]. "
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=summary)
            stack.status = "DELETE_FAILED"
            stack.stack_status_reason = summary  # DescribeStacks' StackStatusReason

    delete_stack._gantry = True  # type: ignore[attr-defined]
    backend_cls.delete_stack = delete_stack  # type: ignore[method-assign]
