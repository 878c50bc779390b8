"""Change sets behave as on AWS where gantry depends on it.

gantry deploys only through change sets. moto 5.2.5's ``ExecuteChangeSet``
applies the resources but (emulator-notes.md item 2) leaves the stack's
outputs and exports as they were -- none at all for a stack created through a
change set. This module wraps the CloudFormation backend so that:

- **Outputs and exports** are recomputed after a change set executes, exactly
  as CreateStack/UpdateStack do (``Stack._create_output_map``), and evaluated
  at once so a bad output fails the operation rather than a later
  DescribeStacks. The region's export table is updated: this stack's old
  exports go, its new ones come, and an export name another stack already
  uses is refused ("Export with name X is already exported by stack Y").
  UpdateStack gets the same export refresh (moto recomputed its outputs but
  not the export table). An export another stack imports cannot be removed:
  the update fails ("Export X cannot be deleted as it is in use by Y") and
  the stack rolls back, as on AWS.
- **Fn::ImportValue** works in a stack created by a change set (moto gave such
  stacks an empty export table).
- **The stack remembers what was deployed**: after execution its template,
  description, parameters and (when the change set has tags) tags are those
  of the change set. moto kept the parameters of the first change set, so an
  unchanged redeploy after an update was not recognised as empty.
- **Unchanged redeploys**: CreateChangeSet with the stack's own template,
  parameters and tags makes a FAILED change set ("The submitted information
  didn't contain changes..."), as on AWS; moto raised UpdateStack's "No
  updates are to be performed." instead when every parameter was given.
- **Tags-only changes**: a change set with the stack's template and
  parameters but other tags is ready (CREATE_COMPLETE, AVAILABLE) with no
  changes, and executing it gives the stack the new tags (moto made it
  FAILED). UpdateStack with the previous template, the same parameters and
  other tags updates the stack's tags (moto answered "No updates are to be
  performed."). Both record a stack-level UPDATE_IN_PROGRESS /
  UPDATE_COMPLETE pair and set LastUpdatedTime. Tags are compared only when
  the call gives some: moto cannot tell an empty Tags list from none, so an
  empty list keeps the stack's tags. UpdateStack's ``UsePreviousValue`` also
  works for a parameter that took its default (moto failed with a KeyError).
- **DescribeChangeSet** shows the change set's ``Tags`` (moto left them out).
- **LastUpdatedTime** is set in DescribeStacks when a change set executes
  (or UpdateStack runs); moto never set it.
- **Parameters** in DescribeStacks are the values given (or defaults), with
  ``ResolvedValue`` for ``AWS::SSM::Parameter::Value<...>`` types, as on AWS;
  moto showed resolved values, lists as Python reprs.
- **Status checks**: executing a change set that is not AVAILABLE (FAILED,
  already executed) is refused with InvalidChangeSetStatus; an unknown one
  with ChangeSetNotFound; a CREATE change set for a stack that exists and is
  not in REVIEW_IN_PROGRESS is refused ("Stack [x] already exists and cannot
  be created again with the changeSet [y]."), and one for a stack in
  REVIEW_IN_PROGRESS is added to it instead of making a second stack of the
  same name; an UPDATE change set for a stack in REVIEW_IN_PROGRESS or
  ROLLBACK_COMPLETE is refused ("Stack:ARN is in ROLLBACK_COMPLETE state and
  can not be updated."). After execution the stack's other change sets are
  deleted.
- **Names are unique per stack**: a CreateChangeSet naming a change set the
  stack already has is refused with AlreadyExistsException, as on AWS (moto
  made a second change set of that name) -- what a client meets when it
  retries a call whose answer was lost.
- **Failures roll back**: an error while applying a change set no longer
  comes back as an error of ExecuteChangeSet. As on AWS, the call succeeds
  and the stack ends in ROLLBACK_COMPLETE (first create; what was created is
  deleted) or UPDATE_ROLLBACK_COMPLETE (update; the previous template and
  parameters stay the stack's), with a ``<op>_FAILED`` event naming the
  resource and the reason, and the change set in EXECUTE_FAILED. moto does
  not undo a half-applied update's resources; tests see AWS's states and
  messages. The error is also logged on the emulator's stderr.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from moto.cloudformation import models
from moto.cloudformation.exceptions import AlreadyExistsException, CloudFormationError, ValidationError
from moto.cloudformation.responses import CloudFormationResponse, transform_dict
from moto.core.responses import ActionResult
from moto.cloudformation.utils import generate_changeset_id, validate_create_change_set
from moto.core.utils import utcnow

log = logging.getLogger("gantry_emulator")


class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFound"


class InvalidChangeSetStatus(CloudFormationError):
    code = "InvalidChangeSetStatus"


def _find(backend: Any, name: str, stack_name: str | None) -> Any:
    if name in backend.change_sets:
        return backend.change_sets[name]
    for cs in backend.change_sets.values():
        if cs.change_set_name == name and (not stack_name or stack_name in (cs.stack_name, cs.stack_id)):
            return cs
    return None


def refresh_outputs(backend: Any, stack: Any) -> None:
    """Recompute stack's outputs and its exports in the region's table."""
    if stack.template:
        stack._parse_template()
    stack.description = (stack.template_dict or {}).get("Description")
    previous = stack.output_map
    stack.output_map = stack._create_output_map()
    try:
        _ = stack.outputs  # evaluate now: a bad output fails this operation
    except Exception:
        # The stack keeps the outputs of what stays deployed (a bad output
        # left in place made every later DescribeStacks a 500).
        stack.output_map = previous
        raise
    refresh_exports(backend, stack)


def imported_names(node: Any) -> set[str]:
    """The export names a template imports with Fn::ImportValue (literal
    names, Fn::Sub without variables, Fn::Join of literals)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= imported_names(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                name = _literal(value)
                if name:
                    found.add(name)
            else:
                found |= imported_names(value)
    return found


def _literal(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str) and "${" not in value["Fn::Sub"]:
        return value["Fn::Sub"]
    if isinstance(value, dict) and isinstance(value.get("Fn::Join"), list) and len(value["Fn::Join"]) == 2:
        sep, parts = value["Fn::Join"]
        if isinstance(sep, str) and isinstance(parts, list) and all(isinstance(p, str) for p in parts):
            return sep.join(parts)
    return None


def refuse_removing_imported_exports(backend: Any, stack: Any, keep: set[str]) -> None:
    """As CloudFormation does: an export another stack imports cannot go."""
    for name, export in backend.exports.items():
        if export.exporting_stack_id != stack.stack_id or name in keep:
            continue
        for other in backend.stacks.values():
            if other.stack_id == stack.stack_id or "DELETE_COMPLETE" in other.status:
                continue
            if name in imported_names(getattr(other, "template_dict", None) or {}):
                raise ValidationError(
                    stack.stack_id,
                    message=f"Export {name} cannot be deleted as it is in use by {other.name}",
                )


def refresh_exports(backend: Any, stack: Any) -> None:
    exports = stack.exports
    refuse_removing_imported_exports(backend, stack, {e.name for e in exports})
    for export in exports:
        holder = backend.exports.get(export.name)
        if holder is not None and holder.exporting_stack_id != stack.stack_id:
            owner = backend.stacks.get(holder.exporting_stack_id)
            raise ValidationError(
                stack.stack_id,
                message=f"Export with name {export.name} is already exported by stack {owner.name if owner else holder.exporting_stack_id}",
            )
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        backend.exports.pop(name, None)
    for export in exports:
        backend.exports[export.name] = export


def _reason(error: BaseException) -> str:
    return getattr(error, "message", None) or str(error) or error.__class__.__name__


def _fail(stack: Any, change_set: Any, error: BaseException, saved: tuple[Any, Any, Any]) -> None:
    """Put stack into the state AWS leaves after a failed change set."""
    log.warning(
        "change set %s on stack %s failed: %s",
        change_set.change_set_name,
        stack.name,
        _reason(error),
        exc_info=error,
    )
    kind = change_set.change_set_type
    verb = "create" if kind == "CREATE" else "update"
    logical = getattr(error, "_gantry_logical_id", None)
    if logical:
        stack.events.append(
            models.Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=logical,
                physical_resource_id="",
                resource_type=getattr(error, "_gantry_type", ""),
                resource_status=f"{kind}_FAILED",
                resource_status_reason=_reason(error),
                resource_properties=None,
            )
        )
        summary = f"The following resource(s) failed to {verb}: [{logical}]. "
    else:
        summary = _reason(error)
    change_set.execution_status = "EXECUTE_FAILED"
    if kind == "CREATE":
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=summary + "Rollback requested by user.")
        try:
            stack.resource_map.delete()
        except Exception:  # noqa: BLE001 - best effort, as the rollback is
            pass
        stack._add_stack_event("ROLLBACK_COMPLETE")
        stack.status = "ROLLBACK_COMPLETE"
        # Nothing is deployed: no outputs (evaluating them would fail).
        stack.output_map = models.OutputMap(stack.resource_map, {}, stack.stack_id)
    else:
        rm = stack.resource_map
        rm._template, rm._resource_json_map, rm.input_parameters = saved
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=summary)
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"


def parameter_list(stack: Any) -> list[dict[str, Any]]:
    """DescribeStacks' Parameters as AWS shows them: the value given (or the
    default), with ResolvedValue for SSM-parameter types. moto showed the
    resolved value itself, a list as its Python repr."""
    decls = (stack.template_dict or {}).get("Parameters") or {}
    rm = stack.resource_map
    inputs = rm.input_parameters or {}
    hidden = getattr(rm, "no_echo_parameter_keys", [])
    out = []
    for key, resolved in rm.resolved_parameters.items():
        decl = decls.get(key) or {}
        raw = inputs.get(key, decl.get("Default", resolved))
        if isinstance(raw, list):
            raw = ",".join(str(v) for v in raw)
        entry: dict[str, Any] = {"ParameterKey": key, "ParameterValue": "****" if key in hidden or decl.get("NoEcho") else str(raw)}
        if str(decl.get("Type", "")).startswith("AWS::SSM::Parameter::Value<"):
            entry["ResolvedValue"] = ",".join(str(v) for v in resolved) if isinstance(resolved, list) else str(resolved)
        out.append(entry)
    return out


def _tags_differ(tags: dict[str, str] | None, stack: Any) -> bool:
    """Whether a call's tags would change the stack's. No (or empty) tags
    keep the stack's own: moto cannot tell an empty Tags list from none."""
    return bool(tags) and dict(tags) != dict(stack.tags or {})


def _previous_values(stack: Any, parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """UpdateStack's parameters with each UsePreviousValue replaced by the
    stack's value, a template default included (moto looked only at the
    values given explicitly, and failed with a KeyError on a default)."""
    decls = (stack.template_dict or {}).get("Parameters") or {}
    given = stack.parameters or {}
    out = []
    for param in parameters or []:
        key = param.get("ParameterKey")
        if param.get("UsePreviousValue") and key not in given and "Default" in (decls.get(key) or {}):
            param = {"ParameterKey": key, "ParameterValue": str(decls[key]["Default"])}
        out.append(param)
    return out


def install() -> None:
    backend_cls = models.CloudFormationBackend
    if getattr(backend_cls.execute_change_set, "_gantry", False):
        return
    original_execute = backend_cls.execute_change_set
    original_create = backend_cls.create_change_set
    original_update_stack = backend_cls.update_stack

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = _find(self, change_set_name, stack_name)
        if change_set is None:
            raise ChangeSetNotFound(f"ChangeSet [{change_set_name}] does not exist")
        if change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status of [{change_set.status}]"
            )
        stack = self.stacks.get(change_set.stack_id)
        if stack is None:
            raise ValidationError(change_set.stack_id)
        rm = stack.resource_map
        saved = (copy.deepcopy(rm._template), copy.deepcopy(rm._resource_json_map), copy.deepcopy(rm.input_parameters))
        # AWS sets LastUpdatedTime on every execution (moto never did).
        stack.last_updated_time = utcnow()
        try:
            original_execute(self, change_set.change_set_id, stack_name)
            stack.parameters = dict(change_set.parameters or {})
            if change_set.tags:
                stack.tags = dict(change_set.tags)
            refresh_outputs(self, stack)
        except Exception as e:  # noqa: BLE001 - any failure rolls the stack back
            _fail(stack, change_set, e, saved)
            return
        for cs_id, other in list(self.change_sets.items()):
            if other.stack_id == stack.stack_id and other is not change_set:
                del self.change_sets[cs_id]

    def create_change_set(
        self: Any,
        stack_name: str,
        change_set_name: str,
        template: str,
        parameters: dict[str, str],
        description: str,
        change_set_type: str,
        notification_arns: list[str] | None = None,
        tags: dict[str, str] | None = None,
        role_arn: str | None = None,
    ) -> tuple[str, str]:
        if _find(self, change_set_name, stack_name) is not None:
            raise AlreadyExistsException(f"ChangeSet [{change_set_name}] already exists")
        if change_set_type == "CREATE":
            live = [s for s in self.stacks.values() if s.name == stack_name]
            if live:
                stack = live[0]
                if stack.status != "REVIEW_IN_PROGRESS":
                    raise ValidationError(
                        message=f"Stack [{stack_name}] already exists and cannot be created again with the changeSet [{change_set_name}]."
                    )
                validate_create_change_set(change_set_name)
                change_set_id = generate_changeset_id(change_set_name, self.region_name, self.account_id)
                stack.parameters = parameters
                stack.resource_map.input_parameters = parameters
                change_set = models.ChangeSet(
                    change_set_type="CREATE",
                    change_set_id=change_set_id,
                    change_set_name=change_set_name,
                    stack=stack,
                    template=template,
                    parameters=parameters,
                    description=description,
                    notification_arns=notification_arns,
                    tags=tags,
                    role_arn=role_arn,
                )
                change_set.status = "CREATE_COMPLETE"
                change_set.execution_status = "AVAILABLE"
                self.change_sets[change_set_id] = change_set
                return change_set_id, stack.stack_id
        if change_set_type == "UPDATE":
            for stack in self.stacks.values():
                if stack.name == stack_name and stack.status in ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE"):
                    # moto crashed here (the stack has no template yet).
                    raise ValidationError(
                        message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
                    )
        change_set_id, stack_id = original_create(
            self,
            stack_name=stack_name,
            change_set_name=change_set_name,
            template=template,
            parameters=parameters,
            description=description,
            change_set_type=change_set_type,
            notification_arns=notification_arns,
            tags=tags,
            role_arn=role_arn,
        )
        stack = self.stacks[stack_id]
        change_set = self.change_sets[change_set_id]
        if change_set_type == "UPDATE" and change_set.status == "FAILED" and _tags_differ(tags, stack):
            # Same template and parameters, other tags: AWS makes a change
            # set with no resource changes that applies the tags.
            change_set.status = "CREATE_COMPLETE"
            change_set.execution_status = "AVAILABLE"
            change_set.status_reason = None
        # Fn::ImportValue reads the region's live export table.
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
        return change_set_id, stack_id

    def update_stack(
        self: Any,
        name: str,
        template: str,
        role_arn: str | None,
        parameters: list[dict[str, Any]],
        tags: dict[str, str] | None,
    ) -> Any:
        parameters = _previous_values(self.get_stack(name), parameters)
        stack = original_update_stack(self, name=name, template=template, role_arn=role_arn, parameters=parameters, tags=tags)
        stack.last_updated_time = utcnow()
        refresh_exports(self, stack)
        return stack

    def list_imports(self: Any) -> Any:
        # moto has no ListImports: the stacks whose templates import the
        # export, as CloudFormation answers (an unknown export is an error).
        name = self._get_param("ExportName")
        backend = self.cloudformation_backend
        if name not in backend.exports:
            raise ValidationError(name, message=f"Export '{name}' does not exist.")
        importers = sorted(
            other.name
            for other in backend.stacks.values()
            if "DELETE_COMPLETE" not in other.status and name in imported_names(getattr(other, "template_dict", None) or {})
        )
        return ActionResult({"Imports": importers})

    CloudFormationResponse.list_imports = list_imports

    original_validate = CloudFormationResponse._validate_different_update

    def _validate_different_update(self: Any, *args: Any, **kwargs: Any) -> None:
        # moto raised UpdateStack's "No updates are to be performed." from
        # CreateChangeSet too; AWS makes a FAILED change set instead ("didn't
        # contain changes"), which the backend already does.
        if self._get_action() == "CreateChangeSet":
            return
        # A tags-only UpdateStack is an update on AWS; moto compared only
        # template and parameters.
        old_stack = kwargs.get("old_stack", args[2] if len(args) > 2 else None)
        tags = {t["Key"]: t["Value"] for t in self._get_param("Tags", []) or []}
        if old_stack is not None and _tags_differ(tags, old_stack):
            return
        original_validate(self, *args, **kwargs)

    CloudFormationResponse._validate_different_update = _validate_different_update  # type: ignore[method-assign]
    # DescribeChangeSet shows the change set's tags, as on AWS (moto left
    # them out: they are a dict, the wire format a list).
    CloudFormationResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER = {
        **CloudFormationResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER,
        "DescribeChangeSetOutput.Tags": lambda tags: transform_dict(tags or {}),
    }
    models.Stack.parameter_list = property(parameter_list)  # type: ignore[assignment]
    execute_change_set._gantry = True  # type: ignore[attr-defined]
    backend_cls.execute_change_set = execute_change_set  # type: ignore[method-assign]
    backend_cls.create_change_set = create_change_set  # type: ignore[method-assign]
    backend_cls.update_stack = update_stack  # type: ignore[method-assign]
