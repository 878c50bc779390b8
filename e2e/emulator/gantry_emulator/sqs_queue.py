"""AWS::SQS::Queue: updates, QueueUrl, and SSE-KMS.

moto 5.2.5 creates the queue with every attribute of the template (a
RedrivePolicy's dead-letter queue must exist first, as on AWS), Ref is the
queue URL and GetAtt has Arn and QueueName. It lacked:

- ``Fn::GetAtt QueueUrl`` (in the resource's schema; same value as Ref).
- **Updates**: moto's update applied VisibilityTimeout and
  ReceiveMessageWaitTimeSeconds only; a new retention period, redrive policy
  or KMS key stayed as before. Now every attribute of the template is set
  with SetQueueAttributes, a property removed from the template goes back to
  SQS's default (a removed RedrivePolicy detaches the dead-letter queue), the
  policy an ``AWS::SQS::QueuePolicy`` put on the queue is kept, and tags are
  replaced. Switching between standard and FIFO, or renaming, replaces the
  queue (``replacement.py``).
- **SSE-KMS**: with a ``KmsMasterKeyId`` moto still reported
  ``SqsManagedSseEnabled: true``; SQS uses one or the other, so it is now
  false unless the template says otherwise.
- A FIFO queue without ``QueueName`` got a generated name without the
  ``.fifo`` suffix, which SQS refuses; CloudFormation adds the suffix.

Ref is moto's ``https://sqs.<region>.amazonaws.com/<account>/<name>``, the
URL AWS gives. moto's GetQueueUrl answers with the emulator's own host
instead; every SQS call takes either (moto looks at the name only).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.core.utils import tags_from_cloudformation_tags_list
from moto.sqs.constants import MAXIMUM_MESSAGE_LENGTH
from moto.sqs.models import Queue, sqs_backends

from ._util import as_bool, props, shorten

# SQS's defaults, for the attributes CloudFormation can set (as moto's Queue
# starts them).
DEFAULTS: dict[str, Any] = {
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "DelaySeconds": 0,
    "FifoThroughputLimit": "perQueue",
    "KmsDataKeyReusePeriodSeconds": 300,
    "KmsMasterKeyId": None,
    "MaximumMessageSize": MAXIMUM_MESSAGE_LENGTH,
    "MessageRetentionPeriod": 86400 * 4,
    "ReceiveMessageWaitTimeSeconds": 0,
    "RedrivePolicy": "",
    "VisibilityTimeout": 30,
    "SqsManagedSseEnabled": True,
}


def attributes(p: dict[str, Any]) -> dict[str, Any]:
    """The queue attributes a template's properties ask for; those it does
    not name take SQS's defaults."""
    out = {k: p.get(k, default) for k, default in DEFAULTS.items()}
    if p.get("KmsMasterKeyId") and "SqsManagedSseEnabled" not in p:
        out["SqsManagedSseEnabled"] = False
    if isinstance(out["RedrivePolicy"], str) and out["RedrivePolicy"]:
        out["RedrivePolicy"] = json.loads(out["RedrivePolicy"])
    return out


def install() -> None:
    original_create = Queue.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original_create, "_gantry", False):
        return
    original_has_attr = Queue.has_cfn_attr.__func__  # type: ignore[attr-defined]
    original_get_attr = Queue.get_cfn_attribute

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        template = copy.deepcopy(cloudformation_json)
        p = template.setdefault("Properties", {})
        if as_bool(p.get("FifoQueue"), False) and "QueueName" not in p:
            resource_name = shorten(str(resource_name), 75) + ".fifo"
        if p.get("KmsMasterKeyId") and "SqsManagedSseEnabled" not in p:
            p["SqsManagedSseEnabled"] = False
        return original_create(cls, resource_name, template, account_id, region_name, **kwargs)

    def update_from_cloudformation_json(
        cls: type,
        original_resource: Queue,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Queue:
        p = props(cloudformation_json)
        queue = sqs_backends[account_id][region_name].get_queue(original_resource.name)
        wanted = attributes(p)
        # moto's _set_attributes resets the policy unless it is passed on.
        wanted["Policy"] = queue.policy
        queue._set_attributes(wanted)
        queue.tags = tags_from_cloudformation_tags_list(p.get("Tags") or [])
        return queue

    def has_cfn_attr(cls: type, attr: str) -> bool:
        return attr == "QueueUrl" or original_has_attr(cls, attr)

    def get_cfn_attribute(self: Queue, attribute_name: str) -> Any:
        if attribute_name == "QueueUrl":
            return self.physical_resource_id
        return original_get_attr(self, attribute_name)

    create_from_cloudformation_json._gantry = True  # type: ignore[attr-defined]
    Queue.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    Queue.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
    Queue.has_cfn_attr = classmethod(has_cfn_attr)  # type: ignore[assignment]
    Queue.get_cfn_attribute = get_cfn_attribute  # type: ignore[method-assign]
