"""AWS::SNS::Topic: updates in place, TopicArn, FIFO and tags.

moto 5.2.5 creates the topic (Ref is its ARN, GetAtt TopicName works,
GetTopicAttributes shows KmsMasterKeyId), but:

- ``Fn::GetAtt TopicArn`` (in the resource's schema) was missing.
- **An update deleted the topic and made it again**, which drops every
  subscription made by ``AWS::SNS::Subscription`` resources (moto's delete
  takes a topic's subscriptions with it). On AWS DisplayName, KmsMasterKeyId,
  ContentBasedDeduplication, Tags and the inline Subscription list change in
  place; TopicName and FifoTopic replace the topic (``replacement.py``).
  Now an update sets those attributes on the same topic, subscribes the
  inline subscriptions added and unsubscribes the ones removed.
- moto copied every property onto the topic as an attribute: ``FifoTopic:
  "false"`` (a string) made a FIFO topic, and ``Tags`` never reached
  ListTagsForResource. Booleans are read as CloudFormation reads them and the
  tags are the topic's.
- A FIFO topic without ``TopicName`` got a generated name without the
  ``.fifo`` suffix, which SNS refuses; CloudFormation adds the suffix.
"""

from __future__ import annotations

import json
from typing import Any

from moto.sns.models import Topic, sns_backends

from ._util import as_bool, as_list, props, shorten, tag_list


def _set_attributes(topic: Topic, p: dict[str, Any]) -> None:
    topic.display_name = p.get("DisplayName") or ""
    topic.kms_master_key_id = p.get("KmsMasterKeyId") or ""
    delivery = p.get("DeliveryPolicy")
    topic.delivery_policy = json.dumps(delivery) if isinstance(delivery, dict) else (delivery or "")
    topic.fifo_topic = bool(as_bool(p.get("FifoTopic"), False))
    topic.content_based_deduplication = bool(as_bool(p.get("ContentBasedDeduplication"), False))
    topic._tags = {t["Key"]: t["Value"] for t in tag_list(p.get("Tags"))}
    # What the inline subscriptions were, for the next update.
    topic._gantry_properties = p  # type: ignore[attr-defined]


def _inline(p: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(s["Endpoint"]), str(s["Protocol"])) for s in as_list(p.get("Subscription")) if isinstance(s, dict)]


def install() -> None:
    original_has_attr = Topic.has_cfn_attr.__func__  # type: ignore[attr-defined]
    if getattr(original_has_attr, "_gantry", False):
        return
    original_get_attr = Topic.get_cfn_attribute

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Topic:
        backend = sns_backends[account_id][region_name]
        p = props(cloudformation_json)
        fifo = bool(as_bool(p.get("FifoTopic"), False))
        if fifo and "TopicName" not in p:
            resource_name = shorten(str(resource_name), 251) + ".fifo"
        topic = backend.create_topic(str(resource_name), {"FifoTopic": fifo} if fifo else {})
        _set_attributes(topic, p)
        for endpoint, protocol in _inline(p):
            backend.subscribe(topic.arn, endpoint, protocol)
        return topic

    def update_from_cloudformation_json(
        cls: type,
        original_resource: Topic,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Topic:
        backend = sns_backends[account_id][region_name]
        p = props(cloudformation_json)
        old = _inline(getattr(original_resource, "_gantry_properties", {}))
        new = _inline(p)
        _set_attributes(original_resource, p)
        for endpoint, protocol in old:
            if (endpoint, protocol) not in new:
                sub = backend._find_subscription(original_resource.arn, endpoint, protocol)
                if sub is not None:
                    backend.unsubscribe(sub.arn)
        for endpoint, protocol in new:
            backend.subscribe(original_resource.arn, endpoint, protocol)
        return original_resource

    def has_cfn_attr(cls: type, attr: str) -> bool:
        return attr == "TopicArn" or original_has_attr(cls, attr)

    def get_cfn_attribute(self: Topic, attribute_name: str) -> Any:
        if attribute_name == "TopicArn":
            return self.arn
        return original_get_attr(self, attribute_name)

    has_cfn_attr._gantry = True  # type: ignore[attr-defined]
    Topic.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    Topic.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
    Topic.has_cfn_attr = classmethod(has_cfn_attr)  # type: ignore[assignment]
    Topic.get_cfn_attribute = get_cfn_attribute  # type: ignore[method-assign]
