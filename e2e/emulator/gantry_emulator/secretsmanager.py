"""AWS::SecretsManager::Secret, and dynamic references in properties.

moto 5.2.5 has the Secrets Manager API but no CloudFormation model for
secrets. gantry's data stack renders the Redis AUTH token as a secret with
``GenerateSecretString`` and hands it to the replication group through a
dynamic reference, so:

- ``CfnSecret`` creates a real secret in moto's Secrets Manager backend.
  ``GenerateSecretString`` draws the password with the backend's own
  GetRandomPassword and, with ``SecretStringTemplate`` and
  ``GenerateStringKey``, stores ``template + {key: password}`` as JSON, as AWS
  does. Ref and GetAtt Id are the secret's ARN. Deleting the resource deletes
  the secret without a recovery window, so a test can create it again.

- ``{{resolve:secretsmanager:...}}`` and ``{{resolve:ssm:...}}`` in a
  resource's properties are resolved at deploy from moto's backends, as
  CloudFormation does (moto would pass the literal text on). The
  secretsmanager form is
  ``{{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}``
  where secret-id is a name or a full ARN and the trailing parts are
  optional. A reference that cannot be resolved fails the resource with a
  ValidationError, as on AWS.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends

from ._util import GantryModel, as_bool, as_int, no_such_attribute, props, shorten, tag_list


def _backend(account_id: str, region_name: str) -> Any:
    return secretsmanager_backends[account_id][region_name]


def _secret_string(account_id: str, region_name: str, p: dict[str, Any]) -> str | None:
    gen = p.get("GenerateSecretString")
    if not gen:
        return p.get("SecretString")
    password = json.loads(
        _backend(account_id, region_name).get_random_password(
            password_length=as_int(gen.get("PasswordLength"), 32),
            exclude_characters=gen.get("ExcludeCharacters", ""),
            exclude_numbers=as_bool(gen.get("ExcludeNumbers"), False),
            exclude_punctuation=as_bool(gen.get("ExcludePunctuation"), False),
            exclude_uppercase=as_bool(gen.get("ExcludeUppercase"), False),
            exclude_lowercase=as_bool(gen.get("ExcludeLowercase"), False),
            include_space=as_bool(gen.get("IncludeSpace"), False),
            require_each_included_type=as_bool(gen.get("RequireEachIncludedType"), True),
        )
    )["RandomPassword"]
    template, key = gen.get("SecretStringTemplate"), gen.get("GenerateStringKey")
    if template is not None and key:
        doc = json.loads(template)
        doc[key] = password
        return json.dumps(doc)
    return password


class CfnSecret(GantryModel, CloudFormationModel):
    """AWS::SecretsManager::Secret backed by moto's FakeSecret."""

    CFN_TYPE = "AWS::SecretsManager::Secret"
    CFN_NAME_TYPE = "Name"
    ATTRIBUTES = ("Id",)

    def __init__(self, account_id: str, region_name: str, arn: str, name: str, properties: dict[str, Any]):
        self.account_id = account_id
        self.region_name = region_name
        self.arn = arn
        self.name = name
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.arn
        raise no_such_attribute()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnSecret:
        p = props(cloudformation_json)
        name = p.get("Name") or shorten(resource_name, 256)
        created = json.loads(
            _backend(account_id, region_name).create_secret(
                name=name,
                secret_string=_secret_string(account_id, region_name, p),
                secret_binary=None,
                description=p.get("Description"),
                tags=tag_list(p.get("Tags")) or None,
                kms_key_id=p.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
        )
        return cls(account_id, region_name, created["ARN"], name, copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnSecret,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnSecret:
        p = props(cloudformation_json)
        old = original_resource.properties
        backend = _backend(account_id, region_name)
        value_changed = p.get("SecretString") != old.get("SecretString") or p.get(
            "GenerateSecretString"
        ) != old.get("GenerateSecretString")
        if value_changed:
            # A new SecretString, or new generation rules, gives a new value.
            backend.update_secret(
                original_resource.arn,
                secret_string=_secret_string(account_id, region_name, p),
                description=p.get("Description"),
            )
        secret = backend.secrets.get(original_resource.arn)
        if secret is not None and "Description" in p:
            secret.description = p.get("Description")
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
        _backend(account_id, region_name).delete_secret(
            resource_name, recovery_window_in_days=None, force_delete_without_recovery=True
        )

    def delete(self, account_id: str, region_name: str) -> None:
        self.delete_from_cloudformation_json(self.arn, {}, account_id, region_name)


DYNAMIC_REF = re.compile(r"\{\{resolve:(secretsmanager|ssm|ssm-secure):([^}]*)\}\}")


def _resolve_secret(account_id: str, region_name: str, body: str) -> str:
    parts = body.split(":")
    if parts[0] == "arn":
        secret_id, rest = ":".join(parts[:7]), parts[7:]
    else:
        secret_id, rest = parts[0], parts[1:]
    rest += [""] * (4 - len(rest))
    _, json_key, version_stage, version_id = rest[:4]
    value = _backend(account_id, region_name).get_secret_value(
        secret_id, version_id or None, version_stage or None
    )
    text = value.get("SecretString")
    if text is None:
        raise ValueError("the secret has no SecretString")
    if json_key:
        return str(json.loads(text)[json_key])
    return text


def _resolve_ssm(account_id: str, region_name: str, body: str) -> str:
    from moto.ssm.models import ssm_backends

    parameter = ssm_backends[account_id][region_name].get_parameter(body)
    if parameter is None:
        raise ValueError("no such parameter")
    return parameter.value


def resolve_dynamic_references(value: Any, account_id: str, region_name: str) -> Any:
    """value with every {{resolve:...}} replaced by what it names."""
    if isinstance(value, dict):
        return {k: resolve_dynamic_references(v, account_id, region_name) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_dynamic_references(v, account_id, region_name) for v in value]
    if not isinstance(value, str) or "{{resolve:" not in value:
        return value

    def one(match: re.Match[str]) -> str:
        service, body = match.group(1), match.group(2)
        try:
            if service == "secretsmanager":
                return _resolve_secret(account_id, region_name, body)
            return _resolve_ssm(account_id, region_name, body)
        except Exception as e:  # noqa: BLE001 - any failure is the template's
            raise ValidationError(
                message=f"Could not resolve the dynamic reference {match.group(0)}: {e.__class__.__name__}: {e}"
            ) from e

    return DYNAMIC_REF.sub(one, value)


def install() -> None:
    """Resolve dynamic references in every resource's properties, after
    moto's clean_json and before the model sees them."""
    from moto.cloudformation import parsing

    original = parsing.parse_resource
    if getattr(original, "_gantry", False):
        return

    def parse_resource(resource_json: dict[str, Any], resources_map: Any) -> Any:
        parsed = original(resource_json, resources_map)
        if not parsed:
            return parsed
        resource_class, cleaned, resource_type = parsed
        if "Properties" in cleaned:
            cleaned["Properties"] = resolve_dynamic_references(
                cleaned["Properties"], resources_map._account_id, resources_map._region_name
            )
        return resource_class, cleaned, resource_type

    parse_resource._gantry = True  # type: ignore[attr-defined]
    parsing.parse_resource = parse_resource
