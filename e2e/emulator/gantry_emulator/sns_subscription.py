"""AWS::SNS::Subscription.

moto 5.2.5 has no CloudFormation model for subscriptions (only a topic's
inline ``Subscription`` list): the resource was listed with empty fields and
nothing was subscribed. This model subscribes ``Endpoint`` with ``Protocol``
to ``TopicArn`` in moto's SNS (for ``sqs``, SNS's own check applies: a FIFO
queue cannot subscribe to a standard topic) and sets the subscription's
attributes, so GetSubscriptionAttributes shows them and a Publish reaches
the queue as SNS would deliver it:

- ``FilterPolicy`` (an object or a JSON string; moto validates it and
  filters on it, with ``FilterPolicyScope`` MessageAttributes or
  MessageBody),
- ``RawMessageDelivery`` (the message body as published, its attributes as
  SQS message attributes),
- ``RedrivePolicy``, ``DeliveryPolicy``, ``SubscriptionRoleArn``.

Ref and GetAtt Arn are the subscription ARN. An update sets the attributes
in place (one removed from the template is cleared). Endpoint, Protocol and
TopicArn are create-only: a change set reports their change as a
replacement (``replacement.py``), and when one changes because a resource it
refers to was replaced (a queue's Arn), the update subscribes anew and
unsubscribes the old subscription, as CloudFormation's replacement would.
Delete unsubscribes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sns.models import sns_backends
from moto.utilities.arns import parse_arn

from ._util import GantryModel, as_bool, props

# Attributes a template may set, in the order SNS needs them (the filter
# policy is validated against the scope already set).
_ATTRIBUTES = ("FilterPolicyScope", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn")


def _backend(topic_arn: str, account_id: str, region_name: str) -> Any:
    try:
        arn = parse_arn(topic_arn)
        return sns_backends[arn.account][arn.region]
    except ValueError:
        return sns_backends[account_id][region_name]


def _set_attributes(backend: Any, arn: str, p: dict[str, Any]) -> None:
    subscription = backend.subscriptions[arn]
    for name in _ATTRIBUTES:
        value = p.get(name)
        if name == "RawMessageDelivery":
            subscription.attributes[name] = bool(as_bool(value, False))
        elif value is None or value == "":
            subscription.attributes.pop(name, None)
            if name == "FilterPolicy":
                subscription._filter_policy = None
                subscription._filter_policy_matcher = None
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            backend.set_subscription_attributes(arn, name, text)


def _target(p: dict[str, Any]) -> tuple[str, str, str]:
    return str(p["TopicArn"]), str(p["Endpoint"]), str(p["Protocol"])


class CfnSubscription(GantryModel, CloudFormationModel):
    """AWS::SNS::Subscription backed by a subscription in moto's SNS."""

    CFN_TYPE = "AWS::SNS::Subscription"
    ATTRIBUTE_FIELDS = {"Arn": "arn"}
    PHYSICAL_ID_FIELD = "arn"

    def __init__(self, arn: str, target: tuple[str, str, str], properties: dict[str, Any]):
        self.arn = arn
        self.target = target
        self.properties = properties

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnSubscription:
        p = props(cloudformation_json)
        topic_arn, endpoint, protocol = _target(p)
        backend = _backend(topic_arn, account_id, region_name)
        subscription = backend.subscribe(topic_arn, endpoint, protocol)
        _set_attributes(backend, subscription.arn, p)
        return cls(subscription.arn, (topic_arn, endpoint, protocol), copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnSubscription,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnSubscription:
        p = props(cloudformation_json)
        if _target(p) != original_resource.target:
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            original_resource.delete(account_id, region_name)
            return new
        _set_attributes(_backend(original_resource.target[0], account_id, region_name), original_resource.arn, p)
        original_resource.properties = copy.deepcopy(p)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(self.target[0], account_id, region_name).unsubscribe(self.arn)
