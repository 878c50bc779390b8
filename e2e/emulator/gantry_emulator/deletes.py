"""Deleting resources of types moto can create but not delete.

When a stack is deleted, rolled back, or a resource replaced, moto calls the
resource's ``delete`` (or its type's ``delete_from_cloudformation_json``);
several types gantry's app stack uses have neither, so their objects stayed
behind. The one that hurts is the listener rule: a second deploy of the
same service (after a failed first create, for example) then hit
``PriorityInUse`` on the shared platform listener. This adds ``delete`` to:

- ``AWS::ElasticLoadBalancingV2::ListenerRule`` (DeleteRule),
- ``AWS::ElasticLoadBalancingV2::TargetGroup`` (DeleteTargetGroup; in use by a
  rule it fails and moto retries it after the rule is gone),
- ``AWS::ECS::Service`` (DeleteService with force),
- ``AWS::ECS::TaskDefinition`` (DeregisterTaskDefinition, as CloudFormation
  does when it replaces or deletes a revision).
"""

from __future__ import annotations

from typing import Any

from moto.ecs.models import Service, TaskDefinition, ecs_backends
from moto.elbv2.models import FakeListenerRule, FakeTargetGroup, elbv2_backends


def install() -> None:
    if getattr(FakeListenerRule, "_gantry_delete", False):
        return

    def delete_rule(self: Any, account_id: str, region_name: str) -> None:
        elbv2_backends[account_id][region_name].delete_rule(self.arn)

    def delete_target_group(self: Any, account_id: str, region_name: str) -> None:
        backend = elbv2_backends[account_id][region_name]
        if self.arn in backend.target_groups:
            backend.delete_target_group(self.arn)

    def delete_service(self: Any, account_id: str, region_name: str) -> None:
        backend = ecs_backends[account_id][region_name]
        try:
            backend.delete_service(self.cluster_name, self.name, force=True)
        except Exception:  # noqa: BLE001 - already gone, or its cluster is
            pass

    def deregister(self: Any, account_id: str, region_name: str) -> None:
        try:
            ecs_backends[account_id][region_name].deregister_task_definition(self.arn)
        except Exception:  # noqa: BLE001 - already deregistered
            pass

    for cls, method in (
        (FakeListenerRule, delete_rule),
        (FakeTargetGroup, delete_target_group),
        (Service, delete_service),
        (TaskDefinition, deregister),
    ):
        if "delete" not in cls.__dict__:
            cls.delete = method  # type: ignore[attr-defined]
    FakeListenerRule._gantry_delete = True  # type: ignore[attr-defined]
