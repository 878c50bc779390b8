"""Small helpers shared by the extension modules.

CloudFormation hands models their properties after moto's ``clean_json``:
intrinsics are resolved, but scalars keep the type the template gave them, so
a boolean may arrive as ``true`` or ``"true"`` and a number as ``6379`` or
``"6379"``. These helpers read them the way CloudFormation does.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException


def props(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    """The resource's Properties (always a dict)."""
    return cloudformation_json.get("Properties") or {}


def as_bool(value: Any, default: bool | None = None) -> bool | None:
    """A CloudFormation boolean: true/false or "true"/"false"."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def as_int(value: Any, default: int | None = None) -> int | None:
    """A CloudFormation integer: 6379 or "6379"."""
    if value is None or value == "":
        return default
    return int(value)


def as_float(value: Any, default: float | None = None) -> float | None:
    if value is None or value == "":
        return default
    return float(value)


def as_list(value: Any) -> list[Any]:
    """A list property; a scalar becomes a one-element list, None an empty one."""
    if value is None:
        return []
    if isinstance(value, list):
        out: list[Any] = []
        for v in value:
            # [Ref ListParam] arrives as [[a, b]]: flatten one level, as
            # CloudFormation does for list-typed parameters.
            out.extend(v if isinstance(v, list) else [v])
        return out
    return [value]


def tag_list(value: Any) -> list[dict[str, str]]:
    """Tags as the [{Key, Value}] list the service APIs take."""
    return [
        {"Key": str(t["Key"]), "Value": str(t.get("Value", ""))}
        for t in as_list(value)
        if isinstance(t, dict) and "Key" in t
    ]


def no_such_attribute() -> UnformattedGetAttTemplateException:
    """The exception moto turns into 'resource X does not support attribute
    type Y in Fn::GetAtt' (a ValidationError), as CloudFormation reports it."""
    return UnformattedGetAttTemplateException()


def shorten(generated: str, limit: int) -> str:
    """Cut a name moto generated ("<stack>-<logical>-<12 random>") to a type's
    length limit, keeping the random suffix so names stay unique."""
    if len(generated) <= limit:
        return generated
    head, _, suffix = generated.rpartition("-")
    room = limit - len(suffix) - 1
    return f"{head[:room].rstrip('-')}-{suffix}"


class GantryModel:
    """The parts of moto's CloudFormationModel protocol every gantry model
    shares, declared as class attributes. A model lists it before
    CloudFormationModel, which it must still subclass directly: moto finds
    models through CloudFormationModel.__subclasses__().
    """

    CFN_TYPE = ""
    # The property that names the resource ("" when CloudFormation does).
    CFN_NAME_TYPE = ""
    # The attributes Fn::GetAtt may read.
    ATTRIBUTES: tuple[str, ...] = ()
    # A model may instead name, for each attribute, the instance field that
    # answers it, and the field that is its physical id (its Ref); then it
    # needs no get_cfn_attribute or physical_resource_id of its own.
    ATTRIBUTE_FIELDS: dict[str, str] = {}
    PHYSICAL_ID_FIELD = ""

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.CFN_NAME_TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES or attr in cls.ATTRIBUTE_FIELDS

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.ATTRIBUTE_FIELDS:
            return getattr(self, self.ATTRIBUTE_FIELDS[attribute_name])
        raise no_such_attribute()

    @property
    def physical_resource_id(self) -> Any:
        return getattr(self, self.PHYSICAL_ID_FIELD)

    def is_created(self) -> bool:
        return True
