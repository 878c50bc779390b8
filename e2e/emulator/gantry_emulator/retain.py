"""DeletionPolicy Retain on a resource removed from the template.

moto 5.2.5 honours ``DeletionPolicy: Retain`` when a stack is deleted, but
an update whose template no longer has the resource deleted it anyway. For
a DynamoDB table with deletion protection the delete failed and the whole
update rolled back; without it the table and its data were gone. On AWS the
resource leaves the stack and is kept (a ``DELETE_SKIPPED`` event). This is
what gantry's data stacks rely on for every stateful resource (tables,
buckets, queues, topics).
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing

from . import events


def install() -> None:
    resource_map = parsing.ResourceMap
    if getattr(resource_map._delete_resource, "_gantry_retain", False):
        return
    original_update = resource_map.update
    original_delete_resource = resource_map._delete_resource

    def update(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        # Only while an update runs: a resource the new template lacks is
        # being removed (a replaced one is still in it).
        self._gantry_kept_names = set((template or {}).get("Resources") or {})
        try:
            return original_update(self, template, parameters)
        finally:
            self._gantry_kept_names = None

    def _delete_resource(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        kept = getattr(self, "_gantry_kept_names", None)
        logical_id = getattr(parsed_resource, "logical_resource_id", None) or ""
        if kept is not None and logical_id not in kept and resource_json.get("DeletionPolicy") == "Retain":
            events.record(
                self, logical_id, resource_json.get("Type", ""), "DELETE_SKIPPED", events.physical_id(parsed_resource)
            )
            self._parsed_resources.pop(logical_id, None)
            return
        original_delete_resource(self, parsed_resource, resource_json)

    _delete_resource._gantry_retain = True  # type: ignore[attr-defined]
    resource_map.update = update  # type: ignore[method-assign]
    resource_map._delete_resource = _delete_resource  # type: ignore[method-assign]
