"""Per-resource stack events.

moto 5.2.5 records only stack-level events (emulator-notes.md item 3).
gantry's progress view shows the resource each region is working on and
collects failure reasons per resource from DescribeStackEvents, so the hooks
in ``updates.py`` record, as CloudFormation does:

- ``CREATE_IN_PROGRESS`` / ``CREATE_COMPLETE`` around each resource created,
- ``UPDATE_IN_PROGRESS`` / ``UPDATE_COMPLETE`` around each one modified (with
  "Requested update requires the creation of a new physical resource; hence
  creating one." when it is replaced),
- ``DELETE_IN_PROGRESS`` / ``DELETE_COMPLETE`` around each one deleted,
- ``<op>_FAILED`` with the error as ResourceStatusReason when one fails.

Everything still happens synchronously inside the API call; the events only
make the history look like AWS's. Timing comes from gantry's test proxy.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models


def _stack(resources_map: Any) -> Any:
    return getattr(resources_map, "_gantry_stack", None)


def record(
    resources_map: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: Any = None,
    reason: str | None = None,
) -> None:
    """Append one resource event to the stack resources_map belongs to."""
    stack = _stack(resources_map)
    if stack is None:
        return
    stack.events.append(
        models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id="" if physical_id is None else str(physical_id),
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def physical_id(resource: Any) -> Any:
    return getattr(resource, "physical_resource_id", None)


def install() -> None:
    """Let each stack's resource map find its stack (to append events)."""
    if getattr(models.Stack._create_resource_map, "_gantry", False):
        return
    original = models.Stack._create_resource_map

    def _create_resource_map(self: Any) -> Any:
        resource_map = original(self)
        resource_map._gantry_stack = self
        return resource_map

    _create_resource_map._gantry = True  # type: ignore[attr-defined]
    models.Stack._create_resource_map = _create_resource_map  # type: ignore[method-assign]
