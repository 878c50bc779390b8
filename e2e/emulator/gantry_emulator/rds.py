"""AWS::RDS::DBInstance: what moto's own model leaves out that gantry uses.

moto 5.2.5 has a CloudFormation model for DBInstance, but:

- it ignores ``ManageMasterUserPassword``, so no master-user secret is made,
  and it has no ``MasterUserSecret.SecretArn`` attribute: gantry's data stack
  outputs that ARN (the app reads the password from it), so the stack failed
  with "does not support attribute type MasterUserSecret.SecretArn"; and
  the secret moto makes for it always says username "admin";
- it defaults ``Port`` to 3306 whatever the engine, so a Postgres instance
  reported ``Endpoint.Port`` 3306;
- it reads security groups from ``VpcSecurityGroupIds``, which is not a
  DBInstance property; the template's ``VPCSecurityGroups`` was dropped.

This module wraps moto's ``create_from_cloudformation_json`` to fix those, and
adds the GetAtt attributes the CloudFormation user guide lists for the type:
``DBInstanceArn``, ``DbiResourceId``, ``Endpoint.HostedZoneId`` and
``MasterUserSecret.SecretArn``.
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

from moto.rds.models import DBInstance, MasterUserSecret

from ._util import as_bool

EXTRA_ATTRIBUTES = ("DBInstanceArn", "DbiResourceId", "Endpoint.HostedZoneId", "MasterUserSecret.SecretArn")


def install() -> None:
    original_create = DBInstance.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original_create, "_gantry", False):
        return
    original_has = DBInstance.has_cfn_attr.__func__  # type: ignore[attr-defined]
    original_get = DBInstance.get_cfn_attribute

    def create_from_cloudformation_json(cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Any:
        cfn = copy.copy(cloudformation_json)
        p = dict(cfn.get("Properties") or {})
        if p.get("Port") is not None:
            p["Port"] = int(p["Port"])
        elif p.get("Engine"):
            try:
                p["Port"] = DBInstance.default_port(p["Engine"])
            except KeyError:
                pass
        if "VPCSecurityGroups" in p and "VpcSecurityGroupIds" not in p:
            p["VpcSecurityGroupIds"] = p["VPCSecurityGroups"]
        cfn["Properties"] = p
        database = original_create(cls, resource_name, cfn, account_id, region_name, **kwargs)
        if as_bool(p.get("ManageMasterUserPassword"), False) and not hasattr(database, "master_user_secret"):
            database.manage_master_user_password = True
            kms = (p.get("MasterUserSecret") or {}).get("KmsKeyId")
            database.master_user_secret = MasterUserSecret(database, kms)
            # moto stores {"username": "admin", ...} whatever the instance's
            # user; AWS stores the real master user name.
            secret = database.master_user_secret.secret
            secret.versions[secret.default_version_id]["secret_string"] = json.dumps(
                {"username": database.master_username, "password": secrets.token_urlsafe(24)}
            )
        return database

    def has_cfn_attr(cls: type, attr: str) -> bool:
        return attr in EXTRA_ATTRIBUTES or original_has(cls, attr)

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name == "MasterUserSecret.SecretArn":
            secret = getattr(self, "master_user_secret", None)
            if secret is None:
                from ._util import no_such_attribute

                raise no_such_attribute()
            return secret.secret_arn
        if attribute_name == "DBInstanceArn":
            return self.db_instance_arn
        if attribute_name == "DbiResourceId":
            return self.dbi_resource_id
        if attribute_name == "Endpoint.HostedZoneId":
            return "Z2R2ITUGPM61AM"
        return original_get(self, attribute_name)

    create_from_cloudformation_json._gantry = True  # type: ignore[attr-defined]
    DBInstance.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    DBInstance.has_cfn_attr = classmethod(has_cfn_attr)  # type: ignore[assignment]
    DBInstance.get_cfn_attribute = get_cfn_attribute  # type: ignore[method-assign]
