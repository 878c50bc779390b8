"""AWS::KMS::Key tags.

moto 5.2.5's Key model hands the template's ``Tags`` (``Key``/``Value``, as
CloudFormation writes them) straight to the KMS backend, which wants the KMS
API's ``TagKey``/``TagValue``: any tagged key failed to create with
``'TagKey'``. gantry's stacks tag their keys like every other resource.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.kms.models import Key


def install() -> None:
    original = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original, "_gantry", False):
        return

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        template = copy.deepcopy(cloudformation_json)
        props = template.setdefault("Properties", {})
        props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags") or []]
        return original(cls, resource_name, template, account_id, region_name, **kwargs)

    create_from_cloudformation_json._gantry = True  # type: ignore[attr-defined]
    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
