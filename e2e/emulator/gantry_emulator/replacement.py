"""Replacement in change sets (emulator-notes.md item 4).

moto's change sets list a modified resource as ``Modify`` with no
``Replacement``, no ``Scope`` and no ``Details``, even when AWS would replace
it (a renamed bucket). gantry refuses change sets that replace stateful
resources, so the emulator fills those fields the way CloudFormation does:
a change to a *create-only* property of the resource's type replaces it.

AWS publishes each type's create-only properties in its resource provider
schema (``createOnlyProperties``; the CloudFormation user guide shows them as
"Update requires: Replacement"). ``CREATE_ONLY`` below copies them, from the
registry schemas as of 2025, for the types gantry renders and the ones its
tests use; ``"Conditional"`` marks a property that replaces the resource only
for some changes (the guide's "Update requires: Some interruptions or
Replacement", e.g. an RDS engine change). A type missing from the table is
never reported as replaced. ``BY_VALUE`` holds the properties whose change
replaces the resource only for some values (a DynamoDB attribute whose type
changes, an index whose keys change).

The same decision drives execution: ``updates.py`` replaces a resource when
this module says ``Replacement: True``, so DescribeChangeSet and
ExecuteChangeSet agree.
"""

from __future__ import annotations

import copy
import re
from typing import Any

# Resource type -> {property: "Always" | "Conditional"}. The special key "*"
# means every property except those listed under "!updatable".
CREATE_ONLY: dict[str, dict[str, Any]] = {
    # https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-s3
    # (aws-s3-bucket.json createOnlyProperties)
    "AWS::S3::Bucket": {"BucketName": "Always", "ObjectLockEnabled": "Always"},
    "AWS::S3::BucketPolicy": {"Bucket": "Always"},
    # aws-rds-dbinstance.json: createOnlyProperties, and
    # conditionalCreateOnlyProperties for Engine (only some engine changes
    # are in-place upgrades), snapshot and read-replica sources.
    "AWS::RDS::DBInstance": {
        "CharacterSetName": "Always",
        "CustomIAMInstanceProfile": "Always",
        "DBClusterIdentifier": "Always",
        "DBInstanceIdentifier": "Always",
        "DBName": "Always",
        "DBSubnetGroupName": "Always",
        "KmsKeyId": "Always",
        "MasterUsername": "Always",
        "NcharCharacterSetName": "Always",
        "SourceRegion": "Always",
        "StorageEncrypted": "Always",
        "Timezone": "Always",
        "Engine": "Conditional",
        "DBSnapshotIdentifier": "Conditional",
        "SourceDBInstanceIdentifier": "Conditional",
    },
    "AWS::RDS::DBSubnetGroup": {"DBSubnetGroupName": "Always"},
    # aws-elasticache-replicationgroup.json. Engine and in-transit
    # encryption can change in place on current engines (Redis OSS 7+/Valkey
    # with TransitEncryptionMode), so they are conditional.
    "AWS::ElastiCache::ReplicationGroup": {
        "ReplicationGroupId": "Always",
        "AtRestEncryptionEnabled": "Always",
        "CacheSubnetGroupName": "Always",
        "DataTieringEnabled": "Always",
        "GlobalReplicationGroupId": "Always",
        "KmsKeyId": "Always",
        "NetworkType": "Always",
        "Port": "Always",
        "PreferredCacheClusterAZs": "Always",
        "SnapshotArns": "Always",
        "SnapshotName": "Always",
        "Engine": "Conditional",
        "TransitEncryptionEnabled": "Conditional",
    },
    "AWS::ElastiCache::SubnetGroup": {"CacheSubnetGroupName": "Always"},
    # aws-elasticloadbalancingv2-targetgroup.json
    "AWS::ElasticLoadBalancingV2::TargetGroup": {
        "Name": "Always",
        "Port": "Always",
        "Protocol": "Always",
        "ProtocolVersion": "Always",
        "TargetType": "Always",
        "VpcId": "Always",
        "IpAddressType": "Always",
    },
    "AWS::ElasticLoadBalancingV2::ListenerRule": {"ListenerArn": "Always"},
    "AWS::SecretsManager::Secret": {"Name": "Always"},
    "AWS::Logs::LogGroup": {"LogGroupName": "Always"},
    "AWS::EC2::SecurityGroup": {
        "GroupDescription": "Always",
        "GroupName": "Always",
        "VpcId": "Always",
    },
    # aws-ecs-taskdefinition.json: a task definition revision is immutable;
    # every property but Tags is create-only (a new revision replaces it).
    "AWS::ECS::TaskDefinition": {"*": "Always", "!updatable": {"Tags"}},
    "AWS::ECS::Service": {
        "Cluster": "Always",
        "LaunchType": "Always",
        "Role": "Always",
        "SchedulingStrategy": "Always",
        "ServiceName": "Always",
    },
    "AWS::ECS::Cluster": {"ClusterName": "Always"},
    "AWS::IAM::Role": {"RoleName": "Always", "Path": "Always"},
    "AWS::IAM::ManagedPolicy": {"ManagedPolicyName": "Always", "Path": "Always"},
    "AWS::ApplicationAutoScaling::ScalableTarget": {
        "ResourceId": "Always",
        "ScalableDimension": "Always",
        "ServiceNamespace": "Always",
    },
    "AWS::ApplicationAutoScaling::ScalingPolicy": {
        "PolicyName": "Always",
        "ResourceId": "Always",
        "ScalableDimension": "Always",
        "ScalingTargetId": "Always",
        "ServiceNamespace": "Always",
    },
    "AWS::CloudWatch::Alarm": {"AlarmName": "Always"},
    "AWS::Scheduler::Schedule": {"Name": "Always", "GroupName": "Always"},
    "AWS::Events::Rule": {"Name": "Always", "EventBusName": "Always"},
    "AWS::SSM::Parameter": {"Name": "Always"},
    "AWS::KMS::Alias": {"AliasName": "Always"},
    # The types below are checked against cfn-lint 1.58.0's copy of the
    # registry schemas (cfnlint/data/schemas/resources/, found through
    # providers/us-east-1.json).
    # aws-dynamodb-table.json: createOnlyProperties TableName and
    # ImportSourceSpecification. KeySchema is listed under
    # conditionalCreateOnlyProperties, but DynamoDB cannot change a table's
    # key and the user guide says "Update requires: Replacement", so any
    # change of it replaces the table. AttributeDefinitions and
    # GlobalSecondaryIndexes depend on the values: see BY_VALUE.
    "AWS::DynamoDB::Table": {"TableName": "Always", "ImportSourceSpecification": "Always", "KeySchema": "Always"},
    # aws-sqs-queue.json (a queue cannot switch between standard and FIFO).
    "AWS::SQS::Queue": {"FifoQueue": "Always", "QueueName": "Always"},
    # aws-sqs-queuepolicy.json has no create-only properties.
    "AWS::SQS::QueuePolicy": {},
    # aws-sns-topic.json
    "AWS::SNS::Topic": {"TopicName": "Always", "FifoTopic": "Always"},
    # aws-sns-subscription.json: Region is conditionalCreateOnly.
    "AWS::SNS::Subscription": {"Endpoint": "Always", "Protocol": "Always", "TopicArn": "Always", "Region": "Conditional"},
}


def _by_name(items: Any, name_key: str, value_key: str) -> dict[str, Any]:
    """{item[name_key]: item[value_key]} for the dict items of a list."""
    if not isinstance(items, list):
        return {}
    return {i[name_key]: i.get(value_key) for i in items if isinstance(i, dict) and isinstance(i.get(name_key), str)}


def _attribute_type_changed(before: Any, after: Any) -> str:
    old = _by_name(before, "AttributeName", "AttributeType")
    new = _by_name(after, "AttributeName", "AttributeType")
    return "Always" if any(old[n] != new[n] for n in set(old) & set(new)) else "Never"


def _index_keys_changed(before: Any, after: Any) -> str:
    old = _by_name(before, "IndexName", "KeySchema")
    new = _by_name(after, "IndexName", "KeySchema")
    return "Always" if any(old[n] != new[n] for n in set(old) & set(new)) else "Never"


# Properties whose change replaces the resource for some values only: a
# function of the property's old and new template values that says Always or
# Never. A change it cannot see (through a parameter or a replaced resource)
# is Conditionally.
BY_VALUE: dict[str, dict[str, Any]] = {
    "AWS::DynamoDB::Table": {
        # The schema's description of AttributeDefinitions: "You can add an
        # AttributeDefinition without interruption. Changing the type of an
        # existing AttributeDefinition requires replacement of the table."
        "AttributeDefinitions": _attribute_type_changed,
        # gantry's contract (issue 11), not AWS's: an index whose keys change
        # replaces the table. AWS can add or delete an index in place but
        # fails an update that changes one ("Updates are not supported",
        # aws-dynamodb-table.json), so a key change needs a new table anyway.
        "GlobalSecondaryIndexes": _index_keys_changed,
    },
}

_UNSEEN = object()


def recreation(resource_type: str, prop: str, before: Any = _UNSEEN, after: Any = _UNSEEN) -> str:
    """RequiresRecreation for a change to prop: Always, Conditionally or Never.
    before and after are the property's template values when the change is
    a direct modification of them."""
    rule = BY_VALUE.get(resource_type, {}).get(prop)
    if rule is not None:
        return "Conditionally" if before is _UNSEEN or after is _UNSEEN else rule(before, after)
    table = CREATE_ONLY.get(resource_type, {})
    kind = table.get(prop)
    if kind is None and "*" in table and prop not in table.get("!updatable", set()):
        kind = table["*"]
    return {"Always": "Always", "Conditional": "Conditionally"}.get(kind, "Never")


def parameter_inputs(template: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Each declared parameter's input value (given, else its Default), before
    SSM resolution: what decides whether a reference to it changed."""
    out: dict[str, Any] = {}
    for name, decl in (template.get("Parameters") or {}).items():
        out[name] = inputs.get(name, (decl or {}).get("Default"))
    return out


def referenced_names(value: Any) -> set[str]:
    """Parameters and resources value refers to (Ref, GetAtt, Sub)."""
    return set(resource_refs(value))


def property_changes(
    resource_type: str,
    old_json: dict[str, Any],
    new_json: dict[str, Any],
    old_params: dict[str, Any],
    new_params: dict[str, Any],
) -> list[dict[str, Any]]:
    """The changed top-level properties of a modified resource, as
    DescribeChangeSet ``Details`` entries."""
    old_props = (old_json or {}).get("Properties") or {}
    new_props = (new_json or {}).get("Properties") or {}
    changed_params = {
        p for p in set(old_params) | set(new_params) if old_params.get(p) != new_params.get(p)
    }
    details: list[dict[str, Any]] = []
    for prop in sorted(set(old_props) | set(new_props)):
        before, after = old_props.get(prop), new_props.get(prop)
        if before != after:
            sources = [("DirectModification", None)]
        else:
            causes = sorted(referenced_names(after) & changed_params)
            if not causes:
                continue
            sources = [("ParameterReference", c) for c in causes]
        for source, cause in sources:
            if prop == "Tags":
                target = {"Attribute": "Tags", "RequiresRecreation": "Never"}
            else:
                seen = (before, after) if source == "DirectModification" else ()
                target = {
                    "Attribute": "Properties",
                    "Name": prop,
                    "RequiresRecreation": recreation(resource_type, prop, *seen),
                }
            detail: dict[str, Any] = {
                "Target": target,
                "Evaluation": "Static",
                "ChangeSource": source,
            }
            if cause:
                detail["CausingEntity"] = cause
            details.append(detail)
    return details


def replacement_of(details: list[dict[str, Any]]) -> str:
    """The change's Replacement: True when a create-only property surely
    changes, Conditional when it may (a conditional property, or a value that
    comes from a replaced resource), else False."""
    surely = {d["Target"].get("RequiresRecreation") for d in details if d["Evaluation"] == "Static"}
    maybe = {d["Target"].get("RequiresRecreation") for d in details if d["Evaluation"] != "Static"}
    if "Always" in surely:
        return "True"
    if "Conditionally" in surely | maybe or "Always" in maybe:
        return "Conditional"
    return "False"


def resource_refs(value: Any) -> dict[str, set[str | None]]:
    """Names value refers to, each with the attributes it reads (None for a
    Ref): Ref, Fn::GetAtt and Fn::Sub's ${Name} / ${Name.Attr}."""
    found: dict[str, set[str | None]] = {}

    def add(name: str, attr: str | None) -> None:
        found.setdefault(name, set()).add(attr)

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if k == "Ref" and isinstance(x, str):
                    add(x, None)
                elif k == "Fn::GetAtt":
                    parts = x.split(".", 1) if isinstance(x, str) else x
                    if isinstance(parts, list) and parts and isinstance(parts[0], str):
                        add(parts[0], parts[1] if len(parts) > 1 and isinstance(parts[1], str) else None)
                    walk(x)
                elif k == "Fn::Sub":
                    text = x[0] if isinstance(x, list) and x else x
                    if isinstance(text, str):
                        for m in re.findall(r"\$\{([^!}][^}]*)\}", text):
                            name, _, attr = m.partition(".")
                            add(name, attr or None)
                    walk(x)
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return found


def dependencies(resource_json: dict[str, Any], resources: dict[str, Any]) -> set[str]:
    """The resources of the template that resource_json needs first."""
    deps = set(resource_refs(resource_json.get("Properties"))) | set(resource_refs(resource_json.get("Condition")))
    depends_on = resource_json.get("DependsOn") or []
    deps |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
    return {d for d in deps if d in resources}


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """The template's resources, each after what it depends on (template
    order otherwise, cycles broken)."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name):
            return
        state[name] = 1
        for dep in sorted(dependencies(resources[name], resources)):
            visit(dep)
        state[name] = 2
        order.append(name)

    for name in resources:
        visit(name)
    return order


def reference_details(resource_type: str, resource_json: dict[str, Any], replaced: set[str]) -> list[dict[str, Any]]:
    """Details for the properties of a resource that take a value from a
    resource being replaced: its Ref or attributes will change, which
    CloudFormation can only evaluate during the update (Dynamic)."""
    details: list[dict[str, Any]] = []
    for prop, value in sorted(((resource_json or {}).get("Properties") or {}).items()):
        refs = resource_refs(value)
        for name in sorted(set(refs) & replaced):
            for attr in sorted(refs[name], key=lambda a: a or ""):
                if prop == "Tags":
                    target = {"Attribute": "Tags", "RequiresRecreation": "Never"}
                else:
                    target = {"Attribute": "Properties", "Name": prop, "RequiresRecreation": recreation(resource_type, prop)}
                details.append(
                    {
                        "Target": target,
                        "Evaluation": "Dynamic",
                        "ChangeSource": "ResourceReference" if attr is None else "ResourceAttribute",
                        "CausingEntity": name if attr is None else f"{name}.{attr}",
                    }
                )
    return details


def scope_of(details: list[dict[str, Any]]) -> list[str]:
    return sorted({d["Target"]["Attribute"] for d in details})


def install() -> None:
    """Replace moto's ChangeSet.diff: the same Add/Modify/Remove list, plus
    Modify for resources whose template is unchanged but which refer to a
    parameter whose value changed (moto's change sets ignored parameters),
    with PhysicalResourceId, Replacement, Scope and Details filled."""
    from moto.cloudformation import models

    if getattr(models.ChangeSet.diff, "_gantry", False):
        return

    def diff(self: models.ChangeSet) -> list[models.Change]:
        resource_map = self.stack.resource_map
        old_resources = resource_map._resource_json_map or {}
        new_resources = (self.template_dict or {}).get("Resources") or {}
        old_params = parameter_inputs(resource_map._template or {}, resource_map.input_parameters or {})
        new_params = parameter_inputs(self.template_dict or {}, self.parameters or {})
        changed_params = {p for p in set(old_params) | set(new_params) if old_params.get(p) != new_params.get(p)}

        changes: list[models.Change] = []
        for name, resource in new_resources.items():
            if name not in old_resources:
                changes.append(models.Change("Add", name, resource["Type"]))
        for name, resource in new_resources.items():
            if name not in old_resources:
                continue
            if resource == old_resources[name] and not (referenced_names(resource) & changed_params):
                continue
            change = models.Change("Modify", name, resource["Type"])
            details = property_changes(
                resource["Type"], copy.deepcopy(old_resources[name]), resource, old_params, new_params
            )
            change.details = details
            change.replacement = replacement_of(details)
            change.scope = scope_of(details)
            changes.append(change)
        # A resource that takes a value from a replaced one changes too.
        replaced = {c.logical_resource_id for c in changes if getattr(c, "replacement", None) == "True"}
        modified = {c.logical_resource_id: c for c in changes if c.action == "Modify"}
        for name, resource in new_resources.items():
            if name not in old_resources:
                continue
            extra = reference_details(resource["Type"], resource, replaced - {name})
            if not extra:
                continue
            change = modified.get(name)
            if change is None:
                change = models.Change("Modify", name, resource["Type"])
                change.details = []
                changes.append(change)
            change.details = change.details + extra
            change.replacement = replacement_of(change.details)
            change.scope = scope_of(change.details)
        for name, resource in old_resources.items():
            if name not in new_resources:
                changes.append(models.Change("Remove", name, resource["Type"]))
        for change in changes:
            existing = resource_map._parsed_resources.get(change.logical_resource_id)
            physical = getattr(existing, "physical_resource_id", None)
            if physical is not None and change.action in ("Modify", "Remove"):
                change.physical_resource_id = str(physical)
        return changes

    diff._gantry = True  # type: ignore[attr-defined]
    models.ChangeSet.diff = diff  # type: ignore[method-assign]
