"""AWS::ApplicationAutoScaling::ScalableTarget and ::ScalingPolicy.

moto 5.2.5 has the Application Auto Scaling API but no CloudFormation model
for these types. These models register real targets and policies in moto's
backend, so DescribeScalableTargets / DescribeScalingPolicies show them (and a
target-tracking policy on an ECS service gets moto's generated
``TargetTracking-...`` CloudWatch alarms, as on AWS).

Ref and GetAtt follow the CloudFormation user guide:

- ScalableTarget: Ref is ``<ResourceId>|<ScalableDimension>|<ServiceNamespace>``;
  GetAtt Id is the same string.
- ScalingPolicy: Ref and GetAtt Arn are the policy ARN. The target is named
  either by ScalingTargetId (a ScalableTarget's Ref) or by ResourceId,
  ScalableDimension and ServiceNamespace.

Registering a target for an ECS service checks that the service exists, as
AWS does; the ECS service must therefore be created first (Ref/GetAtt or
DependsOn order it, see updates.py).
"""

from __future__ import annotations

import copy
from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.core.common_models import CloudFormationModel

from ._util import GantryModel, as_int, no_such_attribute, props


def _backend(account_id: str, region_name: str) -> Any:
    return applicationautoscaling_backends[account_id][region_name]


class CfnScalableTarget(GantryModel, CloudFormationModel):
    """AWS::ApplicationAutoScaling::ScalableTarget."""

    CFN_TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
    ATTRIBUTES = ("Id",)

    def __init__(self, account_id: str, region_name: str, namespace: str, resource_id: str, dimension: str, properties: dict[str, Any]):
        self.account_id = account_id
        self.region_name = region_name
        self.namespace = namespace
        self.resource_id = resource_id
        self.dimension = dimension
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return f"{self.resource_id}|{self.dimension}|{self.namespace}"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.physical_resource_id
        raise no_such_attribute()

    @staticmethod
    def _register(account_id: str, region_name: str, p: dict[str, Any]) -> None:
        suspended = p.get("SuspendedState")
        _backend(account_id, region_name).register_scalable_target(
            namespace=p["ServiceNamespace"],
            r_id=p["ResourceId"],
            dimension=p["ScalableDimension"],
            min_capacity=as_int(p.get("MinCapacity")),
            max_capacity=as_int(p.get("MaxCapacity")),
            role_arn=p.get("RoleARN"),
            suspended_state=suspended,
        )

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnScalableTarget:
        p = props(cloudformation_json)
        cls._register(account_id, region_name, p)
        return cls(account_id, region_name, p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"], copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnScalableTarget,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnScalableTarget:
        p = props(cloudformation_json)
        # Registering an existing target updates its capacities in place.
        cls._register(account_id, region_name, p)
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
        resource_id, dimension, namespace = resource_name.split("|")
        _deregister(account_id, region_name, namespace, resource_id, dimension)

    def delete(self, account_id: str, region_name: str) -> None:
        _deregister(account_id, region_name, self.namespace, self.resource_id, self.dimension)


def _deregister(account_id: str, region_name: str, namespace: str, resource_id: str, dimension: str) -> None:
    backend = _backend(account_id, region_name)
    if backend._scalable_target_exists(resource_id, dimension):
        backend.deregister_scalable_target(namespace, resource_id, dimension)
    # AWS also deletes the target's scaling policies with it.
    for key, policy in list(backend.policies.items()):
        if policy.resource_id == resource_id and policy.scalable_dimension == dimension:
            policy.delete_alarms(account_id, region_name)
            del backend.policies[key]


class CfnScalingPolicy(GantryModel, CloudFormationModel):
    """AWS::ApplicationAutoScaling::ScalingPolicy."""

    CFN_TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    ATTRIBUTES = ("Arn",)

    def __init__(self, account_id: str, region_name: str, policy: Any, properties: dict[str, Any]):
        self.account_id = account_id
        self.region_name = region_name
        self.policy_arn = policy.policy_arn
        self.policy_name = policy.policy_name
        self.namespace = policy.service_namespace
        self.resource_id = policy.resource_id
        self.dimension = policy.scalable_dimension
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.policy_arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return self.policy_arn
        raise no_such_attribute()

    @staticmethod
    def _put(account_id: str, region_name: str, p: dict[str, Any], name: str) -> Any:
        if p.get("ScalingTargetId"):
            resource_id, dimension, namespace = str(p["ScalingTargetId"]).split("|")
        else:
            resource_id, dimension, namespace = p["ResourceId"], p["ScalableDimension"], p["ServiceNamespace"]
        policy_type = p.get("PolicyType")
        if policy_type == "TargetTrackingScaling":
            body = p.get("TargetTrackingScalingPolicyConfiguration") or {}
        else:
            body = p.get("StepScalingPolicyConfiguration") or {}
        return _backend(account_id, region_name).put_scaling_policy(
            policy_name=name,
            service_namespace=namespace,
            resource_id=resource_id,
            scalable_dimension=dimension,
            policy_body=body,
            policy_type=policy_type,
        )

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnScalingPolicy:
        p = props(cloudformation_json)
        policy = cls._put(account_id, region_name, p, p.get("PolicyName") or resource_name)
        return cls(account_id, region_name, policy, copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnScalingPolicy,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnScalingPolicy:
        p = props(cloudformation_json)
        old = _backend(account_id, region_name).policies.get(
            f"{original_resource.namespace}\t{original_resource.resource_id}\t{original_resource.dimension}\t{original_resource.policy_name}"
        )
        if old is not None:
            old.delete_alarms(account_id, region_name)
        policy = cls._put(account_id, region_name, p, original_resource.policy_name)
        # PutScalingPolicy on an existing policy keeps its ARN on AWS.
        policy.policy_arn = original_resource.policy_arn
        return cls(account_id, region_name, policy, copy.deepcopy(p))

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        backend = _backend(account_id, region_name)
        for key, policy in list(backend.policies.items()):
            if policy.policy_arn == resource_name:
                policy.delete_alarms(account_id, region_name)
                del backend.policies[key]

    def delete(self, account_id: str, region_name: str) -> None:
        self.delete_from_cloudformation_json(self.policy_arn, {}, account_id, region_name)
