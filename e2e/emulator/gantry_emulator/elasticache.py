"""AWS::ElastiCache::ReplicationGroup and AWS::ElastiCache::SubnetGroup.

moto 5.2.5 implements the ElastiCache API (CreateReplicationGroup,
CreateCacheSubnetGroup, Describe*) but has no CloudFormation model for
either type, so a stack that reads ``PrimaryEndPoint.Address`` fails. These
models create the real objects in moto's ElastiCache backend, so
DescribeReplicationGroups shows what the stack made.

Ref and GetAtt follow the CloudFormation user guide:

- ReplicationGroup: Ref is the replication group id; GetAtt
  PrimaryEndPoint.Address/.Port, ReaderEndPoint.Address/.Port,
  ReadEndPoint.Addresses(.List)/.Ports(.List) and, in cluster mode,
  ConfigurationEndPoint.Address/.Port. Ports are strings, as GetAtt gives.
- SubnetGroup: Ref is the subnet group name; no attributes.

Generated names are lower case and within ElastiCache's limits (40 and 255
characters), as CloudFormation makes them.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.elasticache.models import elasticache_backends

from ._util import GantryModel, as_bool, as_int, as_list, no_such_attribute, props, shorten, tag_list


def _backend(account_id: str, region_name: str) -> Any:
    return elasticache_backends[account_id][region_name]


class CfnCacheSubnetGroup(GantryModel, CloudFormationModel):
    """AWS::ElastiCache::SubnetGroup backed by moto's CacheSubnetGroup."""

    CFN_TYPE = "AWS::ElastiCache::SubnetGroup"
    CFN_NAME_TYPE = "CacheSubnetGroupName"

    def __init__(self, account_id: str, region_name: str, name: str, properties: dict[str, Any]):
        self.account_id = account_id
        self.region_name = region_name
        self.name = name
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        raise no_such_attribute()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnCacheSubnetGroup:
        p = props(cloudformation_json)
        name = (p.get("CacheSubnetGroupName") or shorten(resource_name, 255)).lower()
        _backend(account_id, region_name).create_cache_subnet_group(
            cache_subnet_group_name=name,
            cache_subnet_group_description=p.get("Description", ""),
            subnet_ids=[str(s) for s in as_list(p.get("SubnetIds"))],
            tags=tag_list(p.get("Tags")) or None,
        )
        return cls(account_id, region_name, name, copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnCacheSubnetGroup,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnCacheSubnetGroup:
        p = props(cloudformation_json)
        group = _backend(account_id, region_name).cache_subnet_groups.get(original_resource.name)
        if group is not None:
            group.cache_subnet_group_description = p.get("Description", "")
            group.subnet_ids = [str(s) for s in as_list(p.get("SubnetIds"))]
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
        _backend(account_id, region_name).cache_subnet_groups.pop(resource_name, None)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).cache_subnet_groups.pop(self.name, None)


class CfnReplicationGroup(GantryModel, CloudFormationModel):
    """AWS::ElastiCache::ReplicationGroup backed by moto's ReplicationGroup."""

    CFN_TYPE = "AWS::ElastiCache::ReplicationGroup"
    CFN_NAME_TYPE = "ReplicationGroupId"

    def __init__(self, account_id: str, region_name: str, group_id: str, properties: dict[str, Any]):
        self.account_id = account_id
        self.region_name = region_name
        self.group_id = group_id
        self.properties = properties

    ATTRIBUTES = (
        "ConfigurationEndPoint.Address",
        "ConfigurationEndPoint.Port",
        "PrimaryEndPoint.Address",
        "PrimaryEndPoint.Port",
        "ReaderEndPoint.Address",
        "ReaderEndPoint.Port",
        "ReadEndPoint.Addresses",
        "ReadEndPoint.Addresses.List",
        "ReadEndPoint.Ports",
        "ReadEndPoint.Ports.List",
    )

    @property
    def physical_resource_id(self) -> str:
        return self.group_id

    @property
    def group(self) -> Any:
        return _backend(self.account_id, self.region_name).replication_groups[self.group_id]

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        group = self.group
        port = str(group.port)
        if group.cluster_enabled:
            endpoint = getattr(group, "configuration_endpoint", {})
            if attribute_name == "ConfigurationEndPoint.Address":
                return endpoint.get("address")
            if attribute_name == "ConfigurationEndPoint.Port":
                return port
            raise no_such_attribute()
        node_group = group.node_groups[0]
        replicas = [
            m["read_endpoint"]["address"]
            for m in node_group["node_group_members"]
            if m.get("current_role") == "replica"
        ]
        values: dict[str, Any] = {
            "PrimaryEndPoint.Address": node_group["primary_endpoint_address"],
            "PrimaryEndPoint.Port": port,
            "ReaderEndPoint.Address": node_group["reader_endpoint_address"],
            "ReaderEndPoint.Port": port,
            "ReadEndPoint.Addresses": ",".join(replicas),
            "ReadEndPoint.Addresses.List": replicas,
            "ReadEndPoint.Ports": ",".join(port for _ in replicas),
            "ReadEndPoint.Ports.List": [port for _ in replicas],
        }
        if attribute_name not in values:
            raise no_such_attribute()
        return values[attribute_name]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CfnReplicationGroup:
        p = props(cloudformation_json)
        group_id = (p.get("ReplicationGroupId") or shorten(resource_name, 40)).lower()
        replicas = as_int(p.get("ReplicasPerNodeGroup"))
        clusters = as_int(p.get("NumCacheClusters"))
        if replicas is None and clusters:
            # moto derives the member count from ReplicasPerNodeGroup only.
            replicas = clusters - 1
        _backend(account_id, region_name).create_replication_group(
            replication_group_id=group_id,
            replication_group_description=p.get("ReplicationGroupDescription", ""),
            global_replication_group_id=p.get("GlobalReplicationGroupId"),
            primary_cluster_id=p.get("PrimaryClusterId"),
            automatic_failover_enabled=as_bool(p.get("AutomaticFailoverEnabled"), False),
            multi_az_enabled=as_bool(p.get("MultiAZEnabled"), False),
            num_cache_clusters=clusters,
            preferred_cache_cluster_azs=as_list(p.get("PreferredCacheClusterAZs")),
            num_node_groups=as_int(p.get("NumNodeGroups")),
            replicas_per_node_group=replicas,
            node_group_configuration=as_list(p.get("NodeGroupConfiguration")),
            cache_node_type=p.get("CacheNodeType"),
            engine=p.get("Engine"),
            engine_version=p.get("EngineVersion"),
            cache_parameter_group_name=p.get("CacheParameterGroupName"),
            cache_subnet_group_name=p.get("CacheSubnetGroupName"),
            cache_security_group_names=as_list(p.get("CacheSecurityGroupNames")),
            security_group_ids=[str(s) for s in as_list(p.get("SecurityGroupIds"))],
            tags=tag_list(p.get("Tags")),
            snapshot_arns=as_list(p.get("SnapshotArns")),
            snapshot_name=p.get("SnapshotName"),
            preferred_maintenance_window=p.get("PreferredMaintenanceWindow"),
            port=as_int(p.get("Port")),
            notification_topic_arn=p.get("NotificationTopicArn"),
            auto_minor_version_upgrade=as_bool(p.get("AutoMinorVersionUpgrade")),
            snapshot_retention_limit=as_int(p.get("SnapshotRetentionLimit"), 0),
            snapshot_window=p.get("SnapshotWindow"),
            auth_token=p.get("AuthToken"),
            transit_encryption_enabled=as_bool(p.get("TransitEncryptionEnabled")),
            at_rest_encryption_enabled=as_bool(p.get("AtRestEncryptionEnabled")),
            kms_key_id=p.get("KmsKeyId"),
            user_group_ids=as_list(p.get("UserGroupIds")),
            log_delivery_configurations=as_list(p.get("LogDeliveryConfigurations")),
            data_tiering_enabled=as_bool(p.get("DataTieringEnabled")),
            network_type=p.get("NetworkType"),
            ip_discovery=p.get("IpDiscovery"),
            transit_encryption_mode=p.get("TransitEncryptionMode"),
            cluster_mode=p.get("ClusterMode"),
            serverless_cache_snapshot_name=None,
        )
        return cls(account_id, region_name, group_id, copy.deepcopy(p))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CfnReplicationGroup,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CfnReplicationGroup:
        # Replacements were handled before this is called (see updates.py);
        # what is left changes in place, as ModifyReplicationGroup would.
        p = props(cloudformation_json)
        backend = _backend(account_id, region_name)
        backend.modify_replication_group(
            replication_group_id=original_resource.group_id,
            replication_group_description=p.get("ReplicationGroupDescription"),
            engine=p.get("Engine"),
            cache_node_type=p.get("CacheNodeType"),
            automatic_failover_enabled=as_bool(p.get("AutomaticFailoverEnabled")),
            multi_az_enabled=as_bool(p.get("MultiAZEnabled")),
            snapshot_retention_limit=as_int(p.get("SnapshotRetentionLimit")),
        )
        group = original_resource.group
        if "AuthToken" in p:
            group.auth_token_enabled = bool(p.get("AuthToken"))
        if "EngineVersion" in p:
            group.engine_version = p.get("EngineVersion")
        if "TransitEncryptionEnabled" in p:
            group.transit_encryption_enabled = as_bool(p.get("TransitEncryptionEnabled"), False)
        if "SecurityGroupIds" in p:
            group.security_group_ids = [str(s) for s in as_list(p.get("SecurityGroupIds"))]
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
        _backend(account_id, region_name).replication_groups.pop(resource_name, None)

    def delete(self, account_id: str, region_name: str) -> None:
        # moto's DeleteReplicationGroup only marks the group "deleting" and
        # keeps its id taken; CloudFormation waits until it is gone.
        _backend(account_id, region_name).replication_groups.pop(self.group_id, None)
