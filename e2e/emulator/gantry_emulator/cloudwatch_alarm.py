"""AWS::CloudWatch::Alarm.

moto 5.2.5 has CloudWatch alarms in its API (PutMetricAlarm, DescribeAlarms,
SetAlarmState) but no CloudFormation model for them. gantry's app stack
renders the alarms its bake watches, and its tests put one into ALARM by name,
so this model creates a real alarm in moto's CloudWatch backend.

Ref is the alarm name; GetAtt Arn is its ARN (CloudFormation user guide).
An update keeps the alarm's state, as PutMetricAlarm on an existing alarm does
on AWS ("its state is left unchanged"); moto would reset it to OK.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel

from ._util import GantryModel, as_bool, as_float, as_int, as_list, no_such_attribute, props, shorten, tag_list


def _backend(account_id: str, region_name: str) -> Any:
    return cloudwatch_backends[account_id][region_name]


def _queries(metrics: Any) -> list[MetricDataQuery] | None:
    """The Metrics property as moto's MetricDataQuery objects (as its
    PutMetricAlarm handler builds them)."""
    if not metrics:
        return None
    out = []
    for m in as_list(metrics):
        stat = None
        ms = m.get("MetricStat") or {}
        metric = ms.get("Metric") or {}
        if metric.get("MetricName"):
            stat = MetricStat(
                metric=Metric(
                    metric_name=metric["MetricName"],
                    namespace=metric.get("Namespace"),
                    dimensions=[Dimension(name=d.get("Name"), value=d.get("Value")) for d in as_list(metric.get("Dimensions"))],
                ),
                period=ms.get("Period"),
                stat=ms.get("Stat"),
                unit=ms.get("Unit"),
            )
        out.append(
            MetricDataQuery(
                query_id=m.get("Id"),
                label=m.get("Label"),
                period=m.get("Period"),
                return_data=m.get("ReturnData"),
                expression=m.get("Expression"),
                metric_stat=stat,
            )
        )
    return out


def _put(account_id: str, region_name: str, name: str, p: dict[str, Any]) -> Any:
    return _backend(account_id, region_name).put_metric_alarm(
        name=name,
        namespace=p.get("Namespace"),
        metric_name=p.get("MetricName"),
        metric_data_queries=_queries(p.get("Metrics")),
        comparison_operator=p.get("ComparisonOperator"),
        evaluation_periods=as_int(p.get("EvaluationPeriods")),
        datapoints_to_alarm=as_int(p.get("DatapointsToAlarm")),
        period=as_int(p.get("Period")),
        threshold=as_float(p.get("Threshold")),
        statistic=p.get("Statistic"),
        extended_statistic=p.get("ExtendedStatistic"),
        description=p.get("AlarmDescription"),
        dimensions=[{"Name": d["Name"], "Value": str(d["Value"])} for d in as_list(p.get("Dimensions"))],
        alarm_actions=[str(a) for a in as_list(p.get("AlarmActions"))],
        ok_actions=[str(a) for a in as_list(p.get("OKActions"))],
        insufficient_data_actions=[str(a) for a in as_list(p.get("InsufficientDataActions"))],
        unit=p.get("Unit"),
        actions_enabled=as_bool(p.get("ActionsEnabled"), True),
        treat_missing_data=p.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=p.get("EvaluateLowSampleCountPercentile"),
        threshold_metric_id=p.get("ThresholdMetricId"),
        rule=None,
        tags=tag_list(p.get("Tags")) or None,
    )


class CfnAlarm(GantryModel, CloudFormationModel):
    """AWS::CloudWatch::Alarm backed by moto's Alarm."""

    CFN_TYPE = "AWS::CloudWatch::Alarm"
    CFN_NAME_TYPE = "AlarmName"
    ATTRIBUTES = ("Arn",)

    def __init__(self, account_id: str, region_name: str, name: str, arn: str, properties: dict[str, Any]):
        self.account_id = account_id
        self.region_name = region_name
        self.name = name
        self.arn = arn
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return self.arn
        raise no_such_attribute()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnAlarm:
        p = props(cloudformation_json)
        name = p.get("AlarmName") or shorten(resource_name, 255)
        alarm = _put(account_id, region_name, name, p)
        return cls(account_id, region_name, name, alarm.alarm_arn, copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnAlarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnAlarm:
        p = props(cloudformation_json)
        backend = _backend(account_id, region_name)
        old = backend.alarms.get(original_resource.name)
        alarm = _put(account_id, region_name, original_resource.name, p)
        if old is not None:
            for attr in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history"):
                setattr(alarm, attr, getattr(old, attr))
        original_resource.properties = copy.deepcopy(p)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        _backend(account_id, region_name).delete_alarms([resource_name])

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_alarms([self.name])
