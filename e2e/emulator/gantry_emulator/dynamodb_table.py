"""AWS::DynamoDB::Table: the settings moto's model drops, and updates.

moto 5.2.5 creates the table with its keys, indexes, stream, billing mode,
tags and deletion protection, but:

- ``SSESpecification`` is CloudFormation's ``{SSEEnabled, SSEType,
  KMSMasterKeyId}`` while moto's table reads the API's ``Enabled``, so
  DescribeTable showed no ``SSEDescription`` at all. Now it shows ``Status
  ENABLED``, ``SSEType KMS`` and ``KMSMasterKeyArn`` -- the key's ARN even when
  the template gives its id (a Ref to an ``AWS::KMS::Key``), as on AWS. An
  unknown key fails the resource. Without a key, moto's ``alias/aws/dynamodb``
  key is used, as AWS uses its managed key.
- ``TimeToLiveSpecification`` and ``PointInTimeRecoverySpecification`` were
  ignored (DescribeTimeToLive and DescribeContinuousBackups said DISABLED).
- The model has no update: a modified table kept all its old settings
  (``updates.py`` keeps the physical resource of such types). Now an update
  applies, in place, the billing mode, attribute definitions, indexes added
  or deleted, the stream (a new ``StreamViewType`` makes a new stream and
  ``StreamArn``; removing the specification disables it), TTL, point-in-time
  recovery (removing a specification disables it, as the resource handler
  does), encryption, deletion protection and tags. Adding one index and
  deleting another in the same update fails, as the schema documents ("If you
  do both in the same update ..., the update fails"). Key changes never get
  here: they replace the table (``replacement.py``).
- ``Fn::GetAtt StreamArn`` on a table that never had a stream failed with a
  KeyError; it is now CloudFormation's "does not support attribute" error.
- moto's CreateTable checks the request (every AttributeDefinitions entry
  used by a key of the table or an index and every key defined, billing mode
  against ProvisionedThroughput, key types) but its CloudFormation model
  skipped those checks; a table DynamoDB refuses now fails the stack with
  DynamoDB's message, as on AWS.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.kms.models import kms_backends

from ._util import as_bool, as_list, no_such_attribute, props


def _backend(account_id: str, region_name: str) -> Any:
    return dynamodb_backends[account_id][region_name]


def sse_for_api(account_id: str, region_name: str, spec: Any) -> dict[str, Any] | None:
    """CloudFormation's SSESpecification as moto's table reads it; None for
    encryption with an AWS owned key (SSEEnabled false or absent)."""
    if not isinstance(spec, dict) or not as_bool(spec.get("SSEEnabled"), False):
        return None
    out: dict[str, Any] = {"Enabled": True, "SSEType": spec.get("SSEType") or "KMS"}
    key = spec.get("KMSMasterKeyId")
    if key:
        out["KMSMasterKeyId"] = kms_backends[account_id][region_name].describe_key(str(key)).arn
    return out


def validate(p: dict[str, Any]) -> None:
    """CreateTable's own checks (moto runs them only for the API)."""
    billing = "PAY_PER_REQUEST" if p.get("BillingMode") == "PAY_PER_REQUEST" else "PROVISIONED"
    DynamoHandler()._validate_table_creation(
        billing_mode=billing,
        throughput=p.get("ProvisionedThroughput"),
        key_schema=as_list(p.get("KeySchema")),
        global_indexes=p.get("GlobalSecondaryIndexes"),
        local_secondary_indexes=p.get("LocalSecondaryIndexes"),
        attr=as_list(p.get("AttributeDefinitions")),
        warm_throughput=p.get("WarmThroughput"),
    )


def _apply_ttl_and_recovery(backend: Any, table: Table, p: dict[str, Any], updating: bool) -> None:
    ttl = p.get("TimeToLiveSpecification")
    if isinstance(ttl, dict):
        backend.update_time_to_live(
            table.name, {"AttributeName": ttl.get("AttributeName"), "Enabled": as_bool(ttl.get("Enabled"), False)}
        )
    elif updating and table.ttl.get("TimeToLiveStatus") == "ENABLED":
        backend.update_time_to_live(table.name, {"AttributeName": table.ttl.get("AttributeName"), "Enabled": False})
    pitr = p.get("PointInTimeRecoverySpecification")
    spec: dict[str, Any] = {"PointInTimeRecoveryEnabled": False}
    if isinstance(pitr, dict):
        spec["PointInTimeRecoveryEnabled"] = as_bool(pitr.get("PointInTimeRecoveryEnabled"), False)
        if pitr.get("RecoveryPeriodInDays") is not None:
            spec["RecoveryPeriodInDays"] = int(pitr["RecoveryPeriodInDays"])
    if isinstance(pitr, dict) or updating:
        backend.update_continuous_backups(table.name, spec)


def _update_indexes(backend: Any, table: Table, wanted: list[Any]) -> None:
    current = {i.name: i for i in table.global_indexes}
    new = {i["IndexName"]: i for i in wanted if isinstance(i, dict) and "IndexName" in i}
    added = [n for n in new if n not in current]
    deleted = [n for n in current if n not in new]
    if added and deleted:
        raise ValidationError(
            message=(
                f"Table {table.name}: cannot add global secondary index(es) {added} and delete {deleted} "
                "in the same update; add or delete them in separate updates."
            )
        )
    changes: list[dict[str, Any]] = [{"Delete": {"IndexName": n}} for n in deleted]
    changes += [{"Create": new[n]} for n in added]
    for name in set(new) & set(current):
        if new[name].get("KeySchema") != current[name].schema:
            raise ValidationError(
                message=(
                    f"Table {table.name}: cannot update global secondary index {name}'s key schema; "
                    "create a new index with a different name."
                )
            )
        if new[name].get("ProvisionedThroughput"):
            changes.append({"Update": {"IndexName": name, "ProvisionedThroughput": new[name]["ProvisionedThroughput"]}})
    if changes:
        backend.update_table_global_indexes(table, changes)


def _update_stream(table: Table, spec: Any) -> None:
    view = spec.get("StreamViewType") if isinstance(spec, dict) else None
    current = table.stream_specification or {}
    enabled = bool(current.get("StreamEnabled"))
    if view is None and enabled:
        table.set_stream_specification(None)
    elif view is not None and (not enabled or current.get("StreamViewType") != view):
        # A new view type is a new stream (a new label and StreamArn).
        table.set_stream_specification({"StreamViewType": view})


def _update(account_id: str, region_name: str, table: Table, p: dict[str, Any]) -> Table:
    backend = _backend(account_id, region_name)
    table.billing_mode = "PAY_PER_REQUEST" if p.get("BillingMode") == "PAY_PER_REQUEST" else "PROVISIONED"
    if p.get("ProvisionedThroughput"):
        table.throughput = dict(p["ProvisionedThroughput"], NumberOfDecreasesToday=0)
    if p.get("AttributeDefinitions"):
        table.attr = copy.deepcopy(p["AttributeDefinitions"])
    _update_indexes(backend, table, as_list(p.get("GlobalSecondaryIndexes")))
    _update_stream(table, p.get("StreamSpecification"))
    _apply_ttl_and_recovery(backend, table, p, updating=True)
    sse = sse_for_api(account_id, region_name, p.get("SSESpecification"))
    if sse is not None and "KMSMasterKeyId" not in sse:
        sse["KMSMasterKeyId"] = table._get_default_encryption_key(account_id, region_name)
    table.sse_specification = sse
    table.deletion_protection_enabled = as_bool(p.get("DeletionProtectionEnabled"), False)
    table.tags = copy.deepcopy(as_list(p.get("Tags")))
    return table


def install() -> None:
    original_create = Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original_create, "_gantry", False):
        return
    original_get_attr = Table.get_cfn_attribute

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        template = copy.deepcopy(cloudformation_json)
        p = template.setdefault("Properties", {})
        validate(p)
        p["SSESpecification"] = sse_for_api(account_id, region_name, p.get("SSESpecification"))
        p["DeletionProtectionEnabled"] = as_bool(p.get("DeletionProtectionEnabled"), False)
        table = original_create(cls, resource_name, template, account_id, region_name, **kwargs)
        _apply_ttl_and_recovery(_backend(account_id, region_name), table, p, updating=False)
        return table

    def update_from_cloudformation_json(
        cls: type,
        original_resource: Table,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Table:
        return _update(account_id, region_name, original_resource, props(cloudformation_json))

    def get_cfn_attribute(self: Table, attribute_name: str) -> Any:
        if attribute_name == "StreamArn" and not self.latest_stream_label:
            raise no_such_attribute()
        return original_get_attr(self, attribute_name)

    create_from_cloudformation_json._gantry = True  # type: ignore[attr-defined]
    Table.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    Table.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
    Table.get_cfn_attribute = get_cfn_attribute  # type: ignore[method-assign]
