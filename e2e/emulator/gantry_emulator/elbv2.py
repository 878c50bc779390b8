"""AWS::ElasticLoadBalancingV2::TargetGroup attributes.

moto 5.2.5's TargetGroup model has no ``get_cfn_attribute`` at all, so any
``Fn::GetAtt`` on a target group failed with an AttributeError. gantry's app
stack builds its alarms' ``TargetGroup`` dimension from
``TargetGroupFullName``. This adds the attributes the CloudFormation user
guide lists: TargetGroupArn, TargetGroupFullName
(``targetgroup/<name>/<id>``), TargetGroupName and LoadBalancerArns.
"""

from __future__ import annotations

from typing import Any

from moto.elbv2.models import FakeTargetGroup

from ._util import no_such_attribute

ATTRIBUTES = ("LoadBalancerArns", "TargetGroupArn", "TargetGroupFullName", "TargetGroupName")


def install() -> None:
    if getattr(FakeTargetGroup, "_gantry", False):
        return

    def has_cfn_attr(cls: type, attr: str) -> bool:
        return attr in ATTRIBUTES

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name == "TargetGroupArn":
            return self.arn
        if attribute_name == "TargetGroupFullName":
            return self.arn.split(":", 5)[5]
        if attribute_name == "TargetGroupName":
            return self.name
        if attribute_name == "LoadBalancerArns":
            return list(self.load_balancer_arns)
        raise no_such_attribute()

    FakeTargetGroup.has_cfn_attr = classmethod(has_cfn_attr)  # type: ignore[assignment]
    FakeTargetGroup.get_cfn_attribute = get_cfn_attribute  # type: ignore[attr-defined]
    FakeTargetGroup._gantry = True  # type: ignore[attr-defined]
