"""AWS::S3::BucketPolicy.

moto 5.2.5 has no CloudFormation model for bucket policies; the resource was
listed with empty fields and the policy never reached the bucket. gantry's
data stack renders a TLS-only policy for every bucket, so this model puts the
policy on the bucket in moto's S3 backend (GetBucketPolicy returns it).

Ref is the bucket name (CloudFormation user guide); there are no attributes.

Note: moto evaluates bucket policies without their conditions, and the
emulator speaks plain HTTP, so the TLS-only Deny refuses object reads and
writes on such a bucket -- which is also what AWS would do over HTTP.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from ._util import GantryModel, no_such_attribute, props


def _backend(account_id: str, region_name: str) -> Any:
    return s3_backends[account_id][get_partition(region_name)]


class CfnBucketPolicy(GantryModel, CloudFormationModel):
    """AWS::S3::BucketPolicy backed by the bucket's policy in moto's S3."""

    CFN_TYPE = "AWS::S3::BucketPolicy"

    def __init__(self, bucket: str, properties: dict[str, Any]):
        self.bucket = bucket
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        raise no_such_attribute()

    @staticmethod
    def _put(account_id: str, region_name: str, p: dict[str, Any]) -> str:
        bucket = str(p["Bucket"])
        document = p.get("PolicyDocument") or {}
        if not isinstance(document, str):
            document = json.dumps(document)
        _backend(account_id, region_name).put_bucket_policy(bucket, document.encode())
        return bucket

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnBucketPolicy:
        p = props(cloudformation_json)
        return cls(cls._put(account_id, region_name, p), copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnBucketPolicy,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnBucketPolicy:
        p = props(cloudformation_json)
        cls._put(account_id, region_name, p)
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
        try:
            _backend(account_id, region_name).delete_bucket_policy(resource_name)
        except Exception:  # noqa: BLE001 - the bucket may be gone already
            pass

    def delete(self, account_id: str, region_name: str) -> None:
        self.delete_from_cloudformation_json(self.bucket, {}, account_id, region_name)
