"""AWS::Scheduler::Schedule (EventBridge Scheduler).

moto 5.2.5 has EventBridge Scheduler's API (CreateSchedule, GetSchedule,
UpdateSchedule, DeleteSchedule) but no CloudFormation model for a schedule.
gantry's app stack renders one per scheduled job, so this model creates a
real schedule in moto's scheduler backend: GetSchedule shows the expression,
time zone, flexible window and target (the ECS task definition, network
configuration and retry policy) of what the stack deployed.

Ref is the schedule's name; GetAtt Arn is its ARN (CloudFormation user
guide). Without a Name, CloudFormation names the schedule from the stack and
logical ID (at most 64 characters). An update changes the schedule in place
(a new Name or GroupName replaces it: they are create-only).
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.scheduler.models import scheduler_backends

from ._util import GantryModel, as_int, as_list, props, shorten

# Numbers in the target that CloudFormation may hand over as strings.
_NUMBERS = {"MaximumRetryAttempts", "MaximumEventAgeInSeconds", "TaskCount", "MaximumWindowInMinutes", "Weight", "Base"}
# Lists that a Ref to a list parameter makes a list inside a list.
_LISTS = {"Subnets", "SecurityGroups"}
# Keys the service API spells otherwise than CloudFormation.
_API_KEYS = {"AwsvpcConfiguration": "awsvpcConfiguration"}


def _backend(account_id: str, region_name: str) -> Any:
    return scheduler_backends[account_id][region_name]


def _normalise(value: Any, key: str = "") -> Any:
    """The target as the service API takes it: numbers as numbers, list
    parameters flattened."""
    if isinstance(value, dict):
        return {_API_KEYS.get(k, k): _normalise(v, k) for k, v in value.items()}
    if key in _LISTS:
        return [str(v) for v in as_list(value)]
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if key in _NUMBERS:
        return as_int(value)
    return value


def _args(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": p.get("Description"),
        "end_date": p.get("EndDate"),
        "flexible_time_window": _normalise(p.get("FlexibleTimeWindow") or {"Mode": "OFF"}),
        "group_name": p.get("GroupName"),
        "kms_key_arn": p.get("KmsKeyArn"),
        "schedule_expression": p.get("ScheduleExpression"),
        "schedule_expression_timezone": p.get("ScheduleExpressionTimezone"),
        "start_date": p.get("StartDate"),
        "state": p.get("State"),
        "target": _normalise(copy.deepcopy(p.get("Target") or {})),
    }


class CfnSchedule(GantryModel, CloudFormationModel):
    """AWS::Scheduler::Schedule backed by moto's Schedule."""

    CFN_TYPE = "AWS::Scheduler::Schedule"
    CFN_NAME_TYPE = "Name"
    ATTRIBUTE_FIELDS = {"Arn": "arn"}
    PHYSICAL_ID_FIELD = "name"

    def __init__(self, name: str, group: str | None, arn: str):
        self.name = name
        self.group = group
        self.arn = arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnSchedule:
        p = props(cloudformation_json)
        name = p.get("Name") or shorten(resource_name, 64)
        schedule = _backend(account_id, region_name).create_schedule(name=name, action_after_completion=None, **_args(p))
        return cls(name, p.get("GroupName"), schedule.arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnSchedule,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnSchedule:
        p = props(cloudformation_json)
        args = _args(p)
        args["group_name"] = original_resource.group
        _backend(account_id, region_name).update_schedule(name=original_resource.name, **args)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        group = props(cloudformation_json).get("GroupName")
        try:
            _backend(account_id, region_name).delete_schedule(group_name=group, name=resource_name)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(account_id, region_name).delete_schedule(group_name=self.group, name=self.name)
        except Exception:  # noqa: BLE001 - already gone
            pass
