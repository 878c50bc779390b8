"""AWS::SQS::QueuePolicy.

moto 5.2.5 has no CloudFormation model for queue policies: the resource was
listed with empty fields (DescribeStackResources had an entry without a
logical id or type) and the policy never reached the queue. This model sets
the ``Policy`` attribute of every queue in ``Queues`` (URLs, as a queue's Ref
gives them), so GetQueueAttributes shows it; an update moves it to the new
list of queues and a delete takes it off. An unknown queue fails the
resource, as on AWS.

Ref and GetAtt Id are the policy's id, a name CloudFormation makes up
(``<stack>-<logical id>-<random>``). The schema has no create-only property:
every change is in place.

moto does not evaluate queue policies (neither the TLS-only Deny nor the
``aws:SourceArn`` condition on SNS's SendMessage): they are stored and shown.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sqs.models import sqs_backends

from ._util import GantryModel, as_list, props


def _queue(url: str, account_id: str, region_name: str) -> Any:
    """The queue a URL names: https://sqs.<region>.amazonaws.com/<account>/<name>
    or the emulator's own http://host:port/<account>/<name>."""
    parts = str(url).rstrip("/").split("/")
    name = parts[-1]
    account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else account_id
    host = parts[2] if len(parts) > 2 else ""
    region = host.split(".")[1] if host.startswith("sqs.") and host.count(".") >= 2 else region_name
    return sqs_backends[account][region].get_queue(name)


def _set(p: dict[str, Any], account_id: str, region_name: str) -> list[str]:
    """Puts the template's policy on its queues; returns their URLs."""
    queues = [str(q) for q in as_list(p.get("Queues"))]
    document = p.get("PolicyDocument")
    text = document if isinstance(document, str) or document is None else json.dumps(document)
    for url in queues:
        _queue(url, account_id, region_name).policy = text
    return queues


def _clear(queues: list[str], account_id: str, region_name: str) -> None:
    for url in queues:
        try:
            _queue(url, account_id, region_name).policy = None
        except Exception:  # noqa: BLE001 - the queue may be gone already
            pass


class CfnQueuePolicy(GantryModel, CloudFormationModel):
    """AWS::SQS::QueuePolicy backed by the queues' Policy attribute."""

    CFN_TYPE = "AWS::SQS::QueuePolicy"
    ATTRIBUTE_FIELDS = {"Id": "policy_id"}
    PHYSICAL_ID_FIELD = "policy_id"

    def __init__(self, policy_id: str, queues: list[str], properties: dict[str, Any]):
        self.policy_id = policy_id
        self.queues = queues
        self.properties = properties

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnQueuePolicy:
        p = props(cloudformation_json)
        return cls(resource_name, _set(p, account_id, region_name), copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnQueuePolicy,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnQueuePolicy:
        p = props(cloudformation_json)
        queues = _set(p, account_id, region_name)
        _clear([q for q in original_resource.queues if q not in queues], account_id, region_name)
        original_resource.queues = queues
        original_resource.properties = copy.deepcopy(p)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        _clear(self.queues, account_id, region_name)
