"""How moto applies a template to an existing stack: four fixes.

1. **Modify keeps the resource.** moto's ``ResourceMap.update`` calls the
   type's ``update_from_cloudformation_json``; for the many types that have
   none (TargetGroup, LogGroup, RDS DBInstance and DBSubnetGroup, ...) it
   stored ``None`` in place of the resource, so any later Ref or GetAtt to it
   (an output, a listener rule) failed or went empty. Now a modified resource
   of such a type keeps its existing physical resource.

2. **Replacement.** When ``replacement.py`` says a change replaces the
   resource (a create-only property changed), the new resource is created
   first and the old one deleted afterwards, unless its
   ``UpdateReplacePolicy`` is Retain -- as CloudFormation does. A
   custom-named resource that needs replacing without a new name fails with
   CloudFormation's own message.

3. **Dependency order.** moto modified resources in template order, so an
   ECS service updated before its task definition was replaced kept the old
   revision. Added and modified resources are now applied after what they
   reference (Ref, GetAtt, Sub, DependsOn), and a resource that takes a value
   from a replaced resource is updated too, as CloudFormation does.

4. **DependsOn at creation.** moto honours DependsOn only in CreateStack; a stack
   created or updated through a change set created its new resources in
   template order. A resource's DependsOn targets are now created first
   whenever it is created (a scaling target after its ECS service, for
   example).

The hooks also record per-resource stack events (``events.py``) and note on
an exception which resource failed (``_gantry_logical_id``), so that
``changesets.py`` can report it.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError

from . import events
from .replacement import (
    dependencies,
    dependency_order,
    parameter_inputs,
    property_changes,
    referenced_names,
    replacement_of,
)


def _tag(error: BaseException, logical_id: str, resource_type: str) -> None:
    if not hasattr(error, "_gantry_logical_id"):
        try:
            error._gantry_logical_id = logical_id  # type: ignore[attr-defined]
            error._gantry_type = resource_type  # type: ignore[attr-defined]
        except AttributeError:
            pass


def _replace(
    cls: Any,
    logical_id: str,
    old_json: dict[str, Any],
    new_json: dict[str, Any],
    current: Any,
    details: list[dict[str, Any]],
    resources_map: Any,
    account_id: str,
    region_name: str,
) -> Any:
    name_prop = cls.cloudformation_name_type()
    changed = {d["Target"].get("Name") for d in details}
    if name_prop and (new_json.get("Properties") or {}).get(name_prop) is not None and name_prop not in changed:
        physical = getattr(current, "physical_resource_id", logical_id)
        raise ValidationError(
            message=(
                "CloudFormation cannot update a stack when a custom-named resource requires "
                f"replacing. Rename {physical} and update the stack again."
            )
        )
    events.record(
        resources_map,
        logical_id,
        new_json["Type"],
        "UPDATE_IN_PROGRESS",
        events.physical_id(current),
        "Requested update requires the creation of a new physical resource; hence creating one.",
    )
    new = parsing.parse_and_create_resource(logical_id, new_json, resources_map, account_id, region_name)
    events.record(resources_map, logical_id, new_json["Type"], "UPDATE_COMPLETE", events.physical_id(new))
    if old_json.get("UpdateReplacePolicy") != "Retain":
        try:
            resources_map._delete_resource(current, old_json)
        except Exception:  # noqa: BLE001 - a failed clean-up does not fail the update
            pass
    return new


def install() -> None:
    resource_map = parsing.ResourceMap
    if getattr(resource_map.update, "_gantry", False):
        return

    original_getitem = resource_map.__getitem__
    original_update = resource_map.update
    original_parse_and_update = parsing.parse_and_update_resource

    def getitem(self: Any, key: str) -> Any:
        if key in self._parsed_resources:
            return self._parsed_resources[key]
        resource_json = self._resource_json_map.get(key)
        if not isinstance(resource_json, dict):
            return original_getitem(self, key)
        deps = resource_json.get("DependsOn") or []
        if isinstance(deps, str):
            deps = [deps]
        resolving = self.__dict__.setdefault("_gantry_resolving", set())
        resolving.add(key)
        resource_type = resource_json.get("Type", "")
        try:
            for dep in deps:
                if dep != key and dep in self._resource_json_map and dep not in resolving:
                    self[dep]
            condition = resource_json.get("Condition")
            creates = parsing.resource_class_from_type(resource_type) is not None and (
                not condition or self.lazy_condition_map[condition]
            )
            if creates:
                events.record(self, key, resource_type, "CREATE_IN_PROGRESS")
            resource = original_getitem(self, key)
            if creates and resource is not None:
                events.record(self, key, resource_type, "CREATE_COMPLETE", events.physical_id(resource))
            return resource
        except Exception as e:
            _tag(e, key, resource_type)
            raise
        finally:
            resolving.discard(key)

    def update(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        new_inputs = parameters if parameters else dict(self.input_parameters or {})
        self._gantry_before = (
            copy.deepcopy(self._resource_json_map or {}),
            parameter_inputs(self._template or {}, self.input_parameters or {}),
            parameter_inputs(template, new_inputs),
        )
        try:
            return original_update(self, template, parameters)
        finally:
            self._gantry_before = None

    def parse_and_update_resource(
        logical_id: str,
        resource_json: dict[str, Any],
        resources_map: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        resource_type = resource_json["Type"]
        cls = parsing.resource_class_from_type(resource_type)
        if cls is None:
            return original_parse_and_update(logical_id, resource_json, resources_map, account_id, region_name)
        try:
            current = resources_map._parsed_resources.get(logical_id)
            if current is None:
                # Never created (or lost): create it now.
                events.record(resources_map, logical_id, resource_type, "CREATE_IN_PROGRESS")
                created = parsing.parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name)
                events.record(resources_map, logical_id, resource_type, "CREATE_COMPLETE", events.physical_id(created))
                return created
            before = getattr(resources_map, "_gantry_before", None)
            if before is not None:
                old_jsons, old_params, new_params = before
                old_json = old_jsons.get(logical_id) or {}
                details = property_changes(resource_type, old_json, resource_json, old_params, new_params)
                if replacement_of(details) == "True":
                    return _replace(cls, logical_id, old_json, resource_json, current, details, resources_map, account_id, region_name)
            events.record(resources_map, logical_id, resource_type, "UPDATE_IN_PROGRESS", events.physical_id(current))
            if hasattr(cls.update_from_cloudformation_json, "__isabstractmethod__"):
                updated = current
            else:
                updated = original_parse_and_update(logical_id, resource_json, resources_map, account_id, region_name)
            events.record(resources_map, logical_id, resource_type, "UPDATE_COMPLETE", events.physical_id(updated))
            return updated
        except Exception as e:
            _tag(e, logical_id, resource_type)
            raise

    original_diff = resource_map.build_resource_diff

    def build_resource_diff(self: Any, other_template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        result = original_diff(self, other_template, parameters)
        new = other_template.get("Resources") or {}
        before = getattr(self, "_gantry_before", None)
        if before is not None:
            old_jsons, old_params, new_params = before
            changed = {p for p in set(old_params) | set(new_params) if old_params.get(p) != new_params.get(p)}
            both = [n for n in new if n in old_jsons]
            # moto's own parameter check compared the given values only, so a
            # parameter that took its default and is now given the same value
            # explicitly (UsePreviousValue) counted as changed.
            modify = {n for n in both if new[n] != old_jsons[n]} | {n for n in both if referenced_names(new[n]) & changed}
            replaced = {
                n
                for n in modify
                if replacement_of(property_changes(new[n]["Type"], old_jsons[n], new[n], old_params, new_params)) == "True"
            }
            modify |= {n for n in both if dependencies(new[n], new) & replaced}
            result["Modify"] = list(modify)
        order = {name: i for i, name in enumerate(dependency_order(new))}
        result["Add"] = sorted(result["Add"], key=lambda n: order.get(n, -1))
        result["Modify"] = sorted(result["Modify"], key=lambda n: order.get(n, -1))
        return result

    original_delete_resource = resource_map._delete_resource

    def _delete_resource(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        logical_id = getattr(parsed_resource, "logical_resource_id", None) or ""
        resource_type = resource_json.get("Type", "")
        physical = events.physical_id(parsed_resource)
        events.record(self, logical_id, resource_type, "DELETE_IN_PROGRESS", physical)
        original_delete_resource(self, parsed_resource, resource_json)
        events.record(self, logical_id, resource_type, "DELETE_COMPLETE", physical)

    resource_map._delete_resource = _delete_resource  # type: ignore[method-assign]
    resource_map.build_resource_diff = build_resource_diff  # type: ignore[method-assign]
    update._gantry = True  # type: ignore[attr-defined]
    resource_map.__getitem__ = getitem  # type: ignore[method-assign]
    resource_map.update = update  # type: ignore[method-assign]
    parsing.parse_and_update_resource = parse_and_update_resource
