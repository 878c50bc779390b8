"""Tests of gantry's local AWS emulator (e2e/emulator).

Run from the repository root with the project's venv:

    .venv/bin/python -m unittest discover -s e2e/emulator

The module starts the emulator once through ``e2e/emulator/run --port 0``,
talks to it with boto3 (us-east-1, dummy credentials) and stops it with
SIGTERM at the end; every test starts from a reset emulator. Only the
standard library and boto3 (installed with moto) are used.

``GANTRY_EMULATOR_URL=http://127.0.0.1:PORT`` reuses an emulator that is
already running instead of starting one.
"""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.request
import uuid
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
# The machine may be busy (parallel builds): importing moto can take a while.
START_TIMEOUT = float(os.environ.get("GANTRY_EMULATOR_START_TIMEOUT", "300"))

_server: subprocess.Popen[str] | None = None
_endpoint = ""
_stderr_tail: list[str] = []
_drain: threading.Thread | None = None


def setUpModule() -> None:  # noqa: N802 - unittest's name
    global _server, _endpoint, _drain
    if os.environ.get("GANTRY_EMULATOR_URL"):
        _endpoint = os.environ["GANTRY_EMULATOR_URL"].rstrip("/")
        return
    _server = subprocess.Popen(
        [os.path.join(HERE, "run"), "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )

    def drain() -> None:
        assert _server is not None and _server.stderr is not None
        for line in _server.stderr:
            _stderr_tail.append(line)
            del _stderr_tail[:-200]

    _drain = threading.Thread(target=drain, daemon=True)
    _drain.start()
    ready: list[str] = []

    def read_ready() -> None:
        assert _server is not None and _server.stdout is not None
        ready.append(_server.stdout.readline())

    reader = threading.Thread(target=read_ready, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    line = ready[0] if ready else ""
    match = re.fullmatch(r"emulator listening on (http://127\.0\.0\.1:\d+)\n", line)
    if not match:
        _stop()
        raise RuntimeError(f"emulator did not start: first line {line!r}; stderr:\n{''.join(_stderr_tail)}")
    _endpoint = match.group(1)


def _stop() -> int | None:
    if _server is None:
        return None
    if _server.poll() is None:
        _server.send_signal(signal.SIGTERM)
        try:
            _server.wait(60)
        except subprocess.TimeoutExpired:
            _server.kill()
            _server.wait()
    # Another test module may start its own emulator: close this one's pipes
    # once its stderr is read to the end.
    if _drain is not None:
        _drain.join(10)
    if _drain is None or not _drain.is_alive():
        for pipe in (_server.stdout, _server.stderr):
            if pipe is not None:
                pipe.close()
    return _server.returncode


def tearDownModule() -> None:  # noqa: N802 - unittest's name
    code = _stop()
    if code not in (None, 0):
        raise RuntimeError(f"emulator exited {code} on SIGTERM; stderr:\n{''.join(_stderr_tail)}")


def client(service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=300),
    )


def reset() -> None:
    req = urllib.request.Request(f"{_endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()


def wait_change_set(cfn: Any, change_set_id: str) -> dict[str, Any]:
    deadline = time.time() + 60
    while True:
        cs = cfn.describe_change_set(ChangeSetName=change_set_id)
        if cs["Status"] in ("CREATE_COMPLETE", "FAILED") or time.time() > deadline:
            return cs
        time.sleep(0.2)


def stack_exists(cfn: Any, name: str) -> bool:
    try:
        cfn.describe_stacks(StackName=name)
        return True
    except ClientError:
        return False


def change_set(
    cfn: Any,
    name: str,
    template: dict[str, Any],
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Creates a change set (CREATE or UPDATE as the stack requires) and
    waits for it; returns DescribeChangeSet."""
    kind = "UPDATE" if stack_exists(cfn, name) and cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] != "REVIEW_IN_PROGRESS" else "CREATE"
    resp = cfn.create_change_set(
        StackName=name,
        ChangeSetName=f"gantry-{uuid.uuid4().hex[:12]}",
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (params or {}).items()],
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    return wait_change_set(cfn, resp["Id"])


def deploy(cfn: Any, name: str, template: dict[str, Any], params: dict[str, str] | None = None, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """Change set, execute, return the stack (as gantry deploys)."""
    cs = change_set(cfn, name, template, params, tags)
    if cs["Status"] != "CREATE_COMPLETE":
        raise AssertionError(f"change set {cs['Status']}: {cs.get('StatusReason')}")
    cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def make_network(ec2: Any) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    return vpc, subnets


# A template with every type the emulator adds, wired the way gantry's
# rendered stacks wire them.
EXTRA_TYPES_TEMPLATE: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "every type gantry's emulator adds",
    "Parameters": {
        "VpcId": {"Type": "AWS::EC2::VPC::Id"},
        "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"},
    },
    "Resources": {
        "StoreSG": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "stores", "VpcId": {"Ref": "VpcId"}},
        },
        "CacheSubnets": {
            "Type": "AWS::ElastiCache::SubnetGroup",
            "Properties": {"Description": "cache subnets", "SubnetIds": {"Ref": "Subnets"}},
        },
        "CacheAuth": {
            "Type": "AWS::SecretsManager::Secret",
            "DeletionPolicy": "Retain",
            "Properties": {
                "Description": "AUTH token",
                "GenerateSecretString": {
                    "SecretStringTemplate": "{}",
                    "GenerateStringKey": "auth",
                    "PasswordLength": 64,
                    "ExcludePunctuation": True,
                },
            },
        },
        "Cache": {
            "Type": "AWS::ElastiCache::ReplicationGroup",
            "Properties": {
                "ReplicationGroupId": "payments-dev-cache",
                "ReplicationGroupDescription": "payments dev cache",
                "Engine": "redis",
                "CacheNodeType": "cache.t4g.small",
                "NumCacheClusters": 2,
                "AutomaticFailoverEnabled": True,
                "MultiAZEnabled": True,
                "Port": 6379,
                "CacheSubnetGroupName": {"Ref": "CacheSubnets"},
                "SecurityGroupIds": [{"Fn::GetAtt": ["StoreSG", "GroupId"]}],
                "AtRestEncryptionEnabled": True,
                "TransitEncryptionEnabled": True,
                "AuthToken": {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "CacheAuth"}, ":SecretString:auth}}"]]},
                "Tags": [{"Key": "gantry:service", "Value": "payments"}],
            },
        },
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "platform"}},
        "TaskDef": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "payments-dev",
                "Cpu": "512",
                "Memory": "1024",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "ContainerDefinitions": [{"Name": "app", "Image": "example/payments:v1", "Essential": True}],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "ServiceName": "payments-dev",
                "TaskDefinition": {"Ref": "TaskDef"},
                "DesiredCount": 2,
                "LaunchType": "FARGATE",
            },
        },
        "ScalingTarget": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "DependsOn": "Service",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": {"Fn::Join": ["/", ["service", "platform", "payments-dev"]]},
                "MinCapacity": 2,
                "MaxCapacity": 10,
            },
        },
        "CpuScaling": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": "cpu-target",
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": {"Ref": "ScalingTarget"},
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": 60,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                },
            },
        },
        "Errors5xx": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": "payments-dev-5xx",
                "AlarmDescription": "5xx rate",
                "Namespace": "AWS/ApplicationELB",
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": [{"Name": "TargetGroup", "Value": "tg"}],
                "Statistic": "Sum",
                "Period": 60,
                "EvaluationPeriods": 3,
                "Threshold": 10,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        },
        "Uploads": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "payments-dev-uploads"}},
        "UploadsPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Uploads"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [{"Fn::GetAtt": ["Uploads", "Arn"]}, {"Fn::Join": ["", [{"Fn::GetAtt": ["Uploads", "Arn"]}, "/*"]]}],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    },
    "Outputs": {
        "CacheHost": {"Value": {"Fn::GetAtt": ["Cache", "PrimaryEndPoint.Address"]}, "Export": {"Name": "payments-dev-CacheHost"}},
        "CachePort": {"Value": {"Fn::GetAtt": ["Cache", "PrimaryEndPoint.Port"]}},
        "CacheUrl": {
            "Value": {
                "Fn::Join": ["", ["rediss://", {"Fn::GetAtt": ["Cache", "PrimaryEndPoint.Address"]}, ":", {"Fn::GetAtt": ["Cache", "PrimaryEndPoint.Port"]}]]
            }
        },
        "CacheReader": {"Value": {"Fn::GetAtt": ["Cache", "ReaderEndPoint.Address"]}},
        "CacheAuthArn": {"Value": {"Ref": "CacheAuth"}},
        "CacheAuthId": {"Value": {"Fn::GetAtt": ["CacheAuth", "Id"]}},
        "CacheGroup": {"Value": {"Ref": "Cache"}},
        "CacheSubnetGroup": {"Value": {"Ref": "CacheSubnets"}},
        "ScalingTargetId": {"Value": {"Ref": "ScalingTarget"}},
        "ScalingPolicyArn": {"Value": {"Ref": "CpuScaling"}},
        "AlarmName": {"Value": {"Ref": "Errors5xx"}},
        "AlarmArn": {"Value": {"Fn::GetAtt": ["Errors5xx", "Arn"]}},
        "PolicyBucket": {"Value": {"Ref": "UploadsPolicy"}},
    },
}


def bucket_template(description: str = "a bucket") -> dict[str, Any]:
    return {
        "Description": description,
        "Parameters": {"BucketName": {"Type": "String"}, "Version": {"Type": "String", "Default": "v1"}},
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "BucketName": {"Ref": "BucketName"},
                    "Tags": [{"Key": "gantry:version", "Value": {"Ref": "Version"}}],
                },
            },
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"RetentionInDays": 7, "Tags": [{"Key": "gantry:version", "Value": {"Ref": "Version"}}]},
            },
        },
        "Outputs": {
            "BucketName": {"Value": {"Ref": "Bucket"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-BucketName"}}},
            "BucketArn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}},
            "LogGroupArn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}},
            "Version": {"Value": {"Ref": "Version"}},
        },
    }


class EmulatorTest(unittest.TestCase):
    def setUp(self) -> None:
        reset()
        self.cfn = client("cloudformation")


class ExtraTypesTest(EmulatorTest):
    def test_every_extra_type_deploys_through_a_change_set(self) -> None:
        ec2 = client("ec2")
        vpc, subnets = make_network(ec2)
        params = {"VpcId": vpc, "Subnets": ",".join(subnets)}

        cs = change_set(self.cfn, "payments-dev-data", EXTRA_TYPES_TEMPLATE, params)
        self.assertEqual(cs["Status"], "CREATE_COMPLETE", cs.get("StatusReason"))
        added = {c["ResourceChange"]["LogicalResourceId"] for c in cs["Changes"] if c["ResourceChange"]["Action"] == "Add"}
        self.assertEqual(added, set(EXTRA_TYPES_TEMPLATE["Resources"]))
        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])

        stack = self.cfn.describe_stacks(StackName="payments-dev-data")["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", stack.get("StackStatusReason"))
        out = outputs(stack)
        self.assertEqual(set(out), set(EXTRA_TYPES_TEMPLATE["Outputs"]))

        # Every resource has its own events, as on AWS.
        events = self.cfn.describe_stack_events(StackName="payments-dev-data")["StackEvents"]
        done = {e["LogicalResourceId"]: e["PhysicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"}
        self.assertTrue(set(EXTRA_TYPES_TEMPLATE["Resources"]) <= set(done), done)
        self.assertEqual(done["Cache"], "payments-dev-cache")
        self.assertEqual(events[0]["ResourceStatus"], "CREATE_COMPLETE")
        self.assertEqual(events[0]["LogicalResourceId"], "payments-dev-data")

        # ElastiCache: the replication group is real and the outputs agree.
        group = client("elasticache").describe_replication_groups(ReplicationGroupId="payments-dev-cache")["ReplicationGroups"][0]
        primary = group["NodeGroups"][0]["PrimaryEndpoint"]
        self.assertEqual(out["CacheHost"], primary["Address"])
        self.assertEqual(out["CachePort"], "6379")
        self.assertEqual(out["CacheUrl"], f"rediss://{primary['Address']}:6379")
        self.assertEqual(out["CacheReader"], primary["Address"].replace("master.", "replica.", 1))
        self.assertEqual(out["CacheGroup"], "payments-dev-cache")
        self.assertEqual(len(group["MemberClusters"]), 2)
        self.assertTrue(group["AuthTokenEnabled"])
        self.assertTrue(group["AtRestEncryptionEnabled"])
        self.assertTrue(group["TransitEncryptionEnabled"])
        subnet_group = client("elasticache").describe_cache_subnet_groups(CacheSubnetGroupName=out["CacheSubnetGroup"])["CacheSubnetGroups"][0]
        self.assertEqual(subnet_group["VpcId"], vpc)
        self.assertEqual(self.cfn.list_exports()["Exports"][0]["Value"], out["CacheHost"])

        # Secrets Manager: a generated secret; Ref and GetAtt Id are its ARN.
        self.assertEqual(out["CacheAuthArn"], out["CacheAuthId"])
        secret = client("secretsmanager").get_secret_value(SecretId=out["CacheAuthArn"])
        token = json.loads(secret["SecretString"])["auth"]
        self.assertRegex(token, r"^[A-Za-z0-9]{64}$")

        # Application Auto Scaling: target and policy registered.
        aas = client("application-autoscaling")
        target = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
        self.assertEqual((target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]), ("service/platform/payments-dev", 2, 10))
        self.assertEqual(out["ScalingTargetId"], "service/platform/payments-dev|ecs:service:DesiredCount|ecs")
        policy = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"][0]
        self.assertEqual((policy["PolicyName"], policy["PolicyARN"]), ("cpu-target", out["ScalingPolicyArn"]))

        # CloudWatch: a real alarm, settable to ALARM by name.
        cw = client("cloudwatch")
        self.assertEqual(out["AlarmName"], "payments-dev-5xx")
        alarm = cw.describe_alarms(AlarmNames=["payments-dev-5xx"])["MetricAlarms"][0]
        self.assertEqual((alarm["AlarmArn"], alarm["Threshold"], alarm["EvaluationPeriods"]), (out["AlarmArn"], 10.0, 3))
        cw.set_alarm_state(AlarmName="payments-dev-5xx", StateValue="ALARM", StateReason="test")
        alarm = cw.describe_alarms(AlarmNames=["payments-dev-5xx"])["MetricAlarms"][0]
        self.assertEqual(alarm["StateValue"], "ALARM")

        # S3: the policy is on the bucket.
        policy_doc = json.loads(client("s3").get_bucket_policy(Bucket="payments-dev-uploads")["Policy"])
        self.assertEqual(policy_doc["Statement"][0]["Sid"], "DenyInsecureTransport")
        self.assertEqual(out["PolicyBucket"], "payments-dev-uploads")

        # An update keeps the alarm's state and changes it in place.
        updated = json.loads(json.dumps(EXTRA_TYPES_TEMPLATE))
        updated["Resources"]["Errors5xx"]["Properties"]["Threshold"] = 20
        updated["Resources"]["ScalingTarget"]["Properties"]["MaxCapacity"] = 12
        stack = deploy(self.cfn, "payments-dev-data", updated, params)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        alarm = cw.describe_alarms(AlarmNames=["payments-dev-5xx"])["MetricAlarms"][0]
        self.assertEqual((alarm["Threshold"], alarm["StateValue"]), (20.0, "ALARM"))
        self.assertEqual(aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]["MaxCapacity"], 12)
        self.assertEqual(outputs(stack)["CacheHost"], out["CacheHost"])

        # Deleting the stack removes what it made (the Retain secret stays).
        self.cfn.delete_stack(StackName="payments-dev-data")
        self.assertEqual(client("elasticache").describe_replication_groups()["ReplicationGroups"], [])
        self.assertEqual(cw.describe_alarms(AlarmNames=["payments-dev-5xx"])["MetricAlarms"], [])
        self.assertEqual(aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"], [])
        client("secretsmanager").describe_secret(SecretId=out["CacheAuthArn"])

    def test_dynamic_reference_to_a_missing_secret_fails_the_stack(self) -> None:
        template = {
            "Resources": {
                "Cache": {
                    "Type": "AWS::ElastiCache::ReplicationGroup",
                    "Properties": {
                        "ReplicationGroupDescription": "x",
                        "AuthToken": "{{resolve:secretsmanager:no-such-secret:SecretString:auth}}",
                    },
                }
            }
        }
        cs = change_set(self.cfn, "broken", template)
        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])
        stack = self.cfn.describe_stacks(StackName="broken")["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        events = self.cfn.describe_stack_events(StackName="broken")["StackEvents"]
        failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertEqual(failed[0]["LogicalResourceId"], "Cache")
        self.assertIn("no-such-secret", failed[0]["ResourceStatusReason"])
        self.assertEqual(self.cfn.describe_change_set(ChangeSetName=cs["ChangeSetId"])["ExecutionStatus"], "EXECUTE_FAILED")
        # A stack in ROLLBACK_COMPLETE cannot take a CREATE change set; it
        # must be deleted first, as on AWS.
        with self.assertRaises(ClientError) as err:
            self.cfn.create_change_set(StackName="broken", ChangeSetName="again", ChangeSetType="CREATE", TemplateBody=json.dumps(template))
        self.assertIn("Stack [broken] already exists", str(err.exception))
        with self.assertRaises(ClientError) as err:
            self.cfn.create_change_set(StackName="broken", ChangeSetName="again", ChangeSetType="UPDATE", TemplateBody=json.dumps(template))
        self.assertIn("is in ROLLBACK_COMPLETE state and can not be updated", str(err.exception))
        self.cfn.delete_stack(StackName="broken")
        self.assertFalse(stack_exists(self.cfn, "broken"))

    def test_rds_master_user_secret_and_port(self) -> None:
        ec2 = client("ec2")
        vpc, subnets = make_network(ec2)
        template = {
            "Parameters": {"Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"}},
            "Resources": {
                "DbSubnets": {"Type": "AWS::RDS::DBSubnetGroup", "Properties": {"DBSubnetGroupDescription": "db", "SubnetIds": {"Ref": "Subnets"}}},
                "Db": {
                    "Type": "AWS::RDS::DBInstance",
                    "Properties": {
                        "DBInstanceIdentifier": "payments-dev-db",
                        "Engine": "postgres",
                        "EngineVersion": "16",
                        "DBInstanceClass": "db.t4g.medium",
                        "AllocatedStorage": "50",
                        "StorageEncrypted": True,
                        "DBSubnetGroupName": {"Ref": "DbSubnets"},
                        "DBName": "app",
                        "MasterUsername": "app",
                        "ManageMasterUserPassword": True,
                    },
                },
            },
            "Outputs": {
                "Host": {"Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}},
                "Port": {"Value": {"Fn::GetAtt": ["Db", "Endpoint.Port"]}},
                "Secret": {"Value": {"Fn::GetAtt": ["Db", "MasterUserSecret.SecretArn"]}},
            },
        }
        out = outputs(deploy(self.cfn, "db", template, {"Subnets": ",".join(subnets)}))
        self.assertEqual(out["Port"], "5432")
        secret = json.loads(client("secretsmanager").get_secret_value(SecretId=out["Secret"])["SecretString"])
        self.assertEqual(secret["username"], "app")
        db = client("rds").describe_db_instances(DBInstanceIdentifier="payments-dev-db")["DBInstances"][0]
        self.assertEqual(db["MasterUserSecret"]["SecretArn"], out["Secret"])

    def test_kms_key_takes_cloudformation_tags(self) -> None:
        template = {
            "Resources": {
                "Key": {
                    "Type": "AWS::KMS::Key",
                    "Properties": {
                        "EnableKeyRotation": True,
                        "KeyPolicy": {"Version": "2012-10-17", "Statement": []},
                        "Tags": [{"Key": "gantry:service", "Value": "payments"}],
                    },
                },
            },
            "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
        }
        out = outputs(deploy(self.cfn, "key", template))
        tags = client("kms").list_resource_tags(KeyId=out["Arn"])["Tags"]
        self.assertEqual(tags, [{"TagKey": "gantry:service", "TagValue": "payments"}])


class ChangeSetTest(EmulatorTest):
    def test_empty_change_set_fails_with_the_aws_reason(self) -> None:
        deploy(self.cfn, "app", bucket_template(), {"BucketName": "gantry-empty"})
        cs = change_set(self.cfn, "app", bucket_template(), {"BucketName": "gantry-empty"})
        self.assertEqual(cs["Status"], "FAILED")
        self.assertEqual(cs["ExecutionStatus"], "UNAVAILABLE")
        self.assertIn("didn't contain changes", cs["StatusReason"])
        with self.assertRaises(ClientError) as err:
            self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidChangeSetStatus")

    def test_outputs_exports_parameters_and_tags_follow_each_change_set(self) -> None:
        stack = deploy(self.cfn, "app", bucket_template(), {"BucketName": "gantry-outputs", "Version": "v1"}, {"gantry:version": "v1"})
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(stack["Description"], "a bucket")
        out = outputs(stack)
        self.assertEqual((out["BucketName"], out["Version"]), ("gantry-outputs", "v1"))
        self.assertEqual(out["BucketArn"], "arn:aws:s3:::gantry-outputs")
        self.assertIn("LogGroupArn", out)
        exports = {e["Name"]: e["Value"] for e in self.cfn.list_exports()["Exports"]}
        self.assertEqual(exports, {"app-BucketName": "gantry-outputs"})

        # A second stack imports the export through its own change set.
        importer = {
            "Resources": {"Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/imported", "Type": "String", "Value": {"Fn::ImportValue": "app-BucketName"}}}},
            "Outputs": {"Imported": {"Value": {"Fn::ImportValue": "app-BucketName"}}},
        }
        self.assertEqual(outputs(deploy(self.cfn, "importer", importer))["Imported"], "gantry-outputs")

        # A new version: outputs, parameters and tags are the new ones; the
        # log group (no moto update support) keeps existing.
        stack = deploy(self.cfn, "app", bucket_template("a bucket, v2"), {"BucketName": "gantry-outputs", "Version": "v2"}, {"gantry:version": "v2"})
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(stack["Description"], "a bucket, v2")
        self.assertEqual(outputs(stack)["Version"], "v2")
        self.assertEqual(outputs(stack)["LogGroupArn"], out["LogGroupArn"])
        self.assertEqual({t["Key"]: t["Value"] for t in stack["Tags"]}, {"gantry:version": "v2"})
        self.assertGreaterEqual(stack["LastUpdatedTime"], stack["CreationTime"])
        self.assertEqual({p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}, {"BucketName": "gantry-outputs", "Version": "v2"})
        # ... and deploying v2 again is an empty change set.
        cs = change_set(self.cfn, "app", bucket_template("a bucket, v2"), {"BucketName": "gantry-outputs", "Version": "v2"}, {"gantry:version": "v2"})
        self.assertEqual(cs["Status"], "FAILED")

    def test_an_imported_export_cannot_be_removed(self) -> None:
        deploy(self.cfn, "app", bucket_template(), {"BucketName": "gantry-in-use", "Version": "v1"})
        importer = {
            "Resources": {"Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/in-use", "Type": "String", "Value": {"Fn::ImportValue": "app-BucketName"}}}},
        }
        deploy(self.cfn, "importer", importer)
        without = bucket_template("no export")
        del without["Outputs"]["BucketName"]["Export"]
        stack = deploy(self.cfn, "app", without, {"BucketName": "gantry-in-use", "Version": "v2"})
        self.assertEqual(stack["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        reasons = [e.get("ResourceStatusReason", "") for e in self.cfn.describe_stack_events(StackName="app")["StackEvents"]]
        self.assertTrue(any("Export app-BucketName cannot be deleted as it is in use by importer" in r for r in reasons), reasons)
        exports = {e["Name"] for e in self.cfn.list_exports()["Exports"]}
        self.assertIn("app-BucketName", exports)
        self.assertEqual(self.cfn.list_imports(ExportName="app-BucketName")["Imports"], ["importer"])
        # Once nothing imports it, it can go.
        self.cfn.delete_stack(StackName="importer")
        stack = deploy(self.cfn, "app", without, {"BucketName": "gantry-in-use", "Version": "v3"})
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertNotIn("app-BucketName", {e["Name"] for e in self.cfn.list_exports()["Exports"]})

    def stack_events(self, name: str) -> list[tuple[str, str]]:
        """(logical id, status) of the stack's events, newest first."""
        events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events]

    def test_identical_template_parameters_and_tags_fail_as_empty(self) -> None:
        tags = {"gantry:version": "v1", "gantry:hash": "h"}
        deploy(self.cfn, "app", bucket_template(), {"BucketName": "gantry-same"}, tags)
        for again in (tags, None):  # the same tags, or none (the stack keeps its own)
            cs = change_set(self.cfn, "app", bucket_template(), {"BucketName": "gantry-same"}, again)
            self.assertEqual((cs["Status"], cs["ExecutionStatus"]), ("FAILED", "UNAVAILABLE"), again)
            self.assertIn("didn't contain changes", cs["StatusReason"])
        stack = self.cfn.describe_stacks(StackName="app")["Stacks"][0]
        self.assertEqual({t["Key"]: t["Value"] for t in stack["Tags"]}, tags)

    def test_tags_only_change_set_is_ready_with_no_changes_and_applies_the_tags(self) -> None:
        params = {"BucketName": "gantry-tags", "Version": "v1"}
        before = deploy(self.cfn, "app", bucket_template(), params, {"gantry:version": "v1", "gantry:hash": "h"})
        new_tags = {"gantry:version": "v2", "gantry:hash": "h"}

        cs = change_set(self.cfn, "app", bucket_template(), params, new_tags)
        self.assertEqual((cs["Status"], cs["ExecutionStatus"]), ("CREATE_COMPLETE", "AVAILABLE"), cs.get("StatusReason"))
        self.assertEqual(cs["Changes"], [])
        self.assertNotIn("StatusReason", cs)
        self.assertEqual({t["Key"]: t["Value"] for t in cs["Tags"]}, new_tags)

        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])
        stack = self.cfn.describe_stacks(StackName="app")["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual({t["Key"]: t["Value"] for t in stack["Tags"]}, new_tags)
        self.assertEqual(outputs(stack), outputs(before))
        self.assertEqual(stack["Parameters"], before["Parameters"])
        self.assertGreaterEqual(stack["LastUpdatedTime"], before.get("LastUpdatedTime", before["CreationTime"]))
        self.assertEqual(self.stack_events("app")[:2], [("app", "UPDATE_COMPLETE"), ("app", "UPDATE_IN_PROGRESS")])
        self.assertEqual(self.cfn.describe_change_set(ChangeSetName=cs["ChangeSetId"])["ExecutionStatus"], "EXECUTE_COMPLETE")

        # The new tags are now the stack's: the same again is empty.
        cs = change_set(self.cfn, "app", bucket_template(), params, new_tags)
        self.assertEqual(cs["Status"], "FAILED")
        self.assertIn("didn't contain changes", cs["StatusReason"])

    def test_tags_only_update_stack_with_the_previous_template(self) -> None:
        # Version takes its default: UsePreviousValue must find it too.
        before = deploy(self.cfn, "app", bucket_template(), {"BucketName": "gantry-update-tags"}, {"gantry:version": "v1"})
        previous = [{"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in before["Parameters"]]
        self.assertEqual({p["ParameterKey"] for p in previous}, {"BucketName", "Version"})

        self.cfn.update_stack(
            StackName="app",
            UsePreviousTemplate=True,
            Parameters=previous,
            Tags=[{"Key": "gantry:version", "Value": "v2"}],
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = self.cfn.describe_stacks(StackName="app")["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual({t["Key"]: t["Value"] for t in stack["Tags"]}, {"gantry:version": "v2"})
        self.assertEqual(outputs(stack), outputs(before))
        self.assertEqual(stack["Parameters"], before["Parameters"])
        self.assertIn("LastUpdatedTime", stack)
        self.assertEqual(self.stack_events("app")[:2], [("app", "UPDATE_COMPLETE"), ("app", "UPDATE_IN_PROGRESS")])

        # The same tags again: nothing to do, as on AWS.
        with self.assertRaises(ClientError) as err:
            self.cfn.update_stack(
                StackName="app",
                UsePreviousTemplate=True,
                Parameters=previous,
                Tags=[{"Key": "gantry:version", "Value": "v2"}],
            )
        self.assertIn("No updates are to be performed.", err.exception.response["Error"]["Message"])

    def test_renamed_bucket_is_a_replacement(self) -> None:
        deploy(self.cfn, "data", bucket_template(), {"BucketName": "gantry-old-name"})

        cs = change_set(self.cfn, "data", bucket_template(), {"BucketName": "gantry-new-name"})
        self.assertEqual(cs["Status"], "CREATE_COMPLETE")
        changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in cs["Changes"]}
        bucket = changes["Bucket"]
        self.assertEqual((bucket["Action"], bucket["Replacement"]), ("Modify", "True"))
        self.assertEqual(bucket["PhysicalResourceId"], "gantry-old-name")
        self.assertEqual(bucket["Scope"], ["Properties"])
        self.assertEqual(
            bucket["Details"],
            [
                {
                    "Target": {"Attribute": "Properties", "Name": "BucketName", "RequiresRecreation": "Always"},
                    "Evaluation": "Static",
                    "ChangeSource": "ParameterReference",
                    "CausingEntity": "BucketName",
                }
            ],
        )
        self.assertNotIn("Logs", changes)

        # Executed: a new bucket; the old one is retained (UpdateReplacePolicy).
        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])
        stack = self.cfn.describe_stacks(StackName="data")["Stacks"][0]
        self.assertEqual(outputs(stack)["BucketName"], "gantry-new-name")
        names = {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
        self.assertTrue({"gantry-old-name", "gantry-new-name"} <= names)

        # A direct edit of a create-only property, and one of an updatable one.
        renamed = bucket_template()
        renamed["Resources"]["Bucket"]["Properties"]["BucketName"] = "gantry-literal-name"
        renamed["Resources"]["Logs"]["Properties"]["RetentionInDays"] = 30
        cs = change_set(self.cfn, "data", renamed, {"BucketName": "gantry-new-name"})
        changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in cs["Changes"]}
        self.assertEqual(changes["Bucket"]["Replacement"], "True")
        self.assertEqual(changes["Bucket"]["Details"][0]["ChangeSource"], "DirectModification")
        self.assertEqual(changes["Logs"]["Replacement"], "False")
        self.assertEqual(changes["Logs"]["Details"][0]["Target"], {"Attribute": "Properties", "Name": "RetentionInDays", "RequiresRecreation": "Never"})

    def test_stack_in_review_takes_a_second_create_change_set(self) -> None:
        first = change_set(self.cfn, "review", bucket_template(), {"BucketName": "gantry-review"})
        second = change_set(self.cfn, "review", bucket_template(), {"BucketName": "gantry-review"})
        self.assertEqual(first["StackId"], second["StackId"])
        self.assertEqual(len(self.cfn.describe_stacks()["Stacks"]), 1)
        self.cfn.execute_change_set(ChangeSetName=second["ChangeSetId"])
        self.assertEqual(self.cfn.describe_stacks(StackName="review")["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        # Executing one change set deletes the stack's others.
        with self.assertRaises(ClientError):
            self.cfn.describe_change_set(ChangeSetName=first["ChangeSetId"])

    def test_a_change_set_name_is_taken_once_per_stack(self) -> None:
        # A retried CreateChangeSet whose first answer was lost meets its
        # own change set.
        for kind, name in (("CREATE", "retry-new"), ("UPDATE", "retry-old")):
            if kind == "UPDATE":
                deploy(self.cfn, name, bucket_template(), {"BucketName": "gantry-retry"})
            args = dict(
                StackName=name,
                ChangeSetName="gantry-retried",
                ChangeSetType=kind,
                TemplateBody=json.dumps(bucket_template()),
                Parameters=[{"ParameterKey": "BucketName", "ParameterValue": "gantry-retry-2"}],
            )
            first = self.cfn.create_change_set(**args)
            with self.assertRaises(ClientError) as err:
                self.cfn.create_change_set(**args)
            self.assertEqual(err.exception.response["Error"]["Code"], "AlreadyExistsException", kind)
            got = self.cfn.describe_change_set(ChangeSetName="gantry-retried", StackName=name)
            self.assertEqual(got["ChangeSetId"], first["Id"], kind)
            self.cfn.delete_change_set(ChangeSetName=first["Id"])


class TerminationProtectionTest(EmulatorTest):
    def test_termination_protection_round_trips_and_blocks_deletion(self) -> None:
        stack = deploy(self.cfn, "data", bucket_template(), {"BucketName": "gantry-protected"})
        self.assertFalse(stack["EnableTerminationProtection"])

        resp = self.cfn.update_termination_protection(StackName="data", EnableTerminationProtection=True)
        self.assertEqual(resp["StackId"], stack["StackId"])
        self.assertTrue(self.cfn.describe_stacks(StackName="data")["Stacks"][0]["EnableTerminationProtection"])

        with self.assertRaises(ClientError) as err:
            self.cfn.delete_stack(StackName="data")
        self.assertEqual(err.exception.response["Error"]["Code"], "ValidationError")
        self.assertEqual(
            err.exception.response["Error"]["Message"],
            "Stack [data] cannot be deleted while TerminationProtection is enabled",
        )
        self.assertTrue(stack_exists(self.cfn, "data"))

        self.cfn.update_termination_protection(StackName="data", EnableTerminationProtection=False)
        self.assertFalse(self.cfn.describe_stacks(StackName="data")["Stacks"][0]["EnableTerminationProtection"])
        self.cfn.delete_stack(StackName="data")
        self.assertFalse(stack_exists(self.cfn, "data"))

        with self.assertRaises(ClientError):
            self.cfn.update_termination_protection(StackName="no-such-stack", EnableTerminationProtection=True)


GOLDEN = os.path.join(REPO, "pkg", "render", "testdata", "golden")


def golden_pairs() -> list[tuple[str, str | None]]:
    """(app template, data template or None) for each rendered golden case."""
    pairs = []
    for app in sorted(glob.glob(os.path.join(GOLDEN, "**", "*-app.template.json"), recursive=True)):
        data = app[: -len("-app.template.json")] + "-data.template.json"
        pairs.append((app, data if os.path.exists(data) else None))
    return pairs


def parameters_file(template_path: str) -> dict[str, str]:
    """The parameters gantry passes at deploy, if the golden case has them
    (<stack>.parameters.json, CloudFormation's [{ParameterKey, ParameterValue}])."""
    path = template_path.replace(".template.json", ".parameters.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {p["ParameterKey"]: p["ParameterValue"] for p in json.load(f)}


@unittest.skipUnless(golden_pairs(), "no rendered golden templates under pkg/render/testdata/golden")
class GoldenTemplatesTest(EmulatorTest):
    """Deploys gantry's rendered golden templates: data stack, then app stack,
    on a platform made with boto3 and published under /gantry/platform/."""

    def make_platform(self, region: str = REGION) -> None:
        ec2, ecs, elb, ssm = (client(s) for s in ("ec2", "ecs", "elbv2", "ssm"))
        vpc, subnets = make_network(ec2)
        sg = ec2.create_security_group(GroupName="platform-alb", Description="alb", VpcId=vpc)["GroupId"]
        ecs.create_cluster(clusterName="platform")
        lb = elb.create_load_balancer(Name="platform", Subnets=subnets, SecurityGroups=[sg], Scheme="internal")["LoadBalancers"][0]
        tg = elb.create_target_group(Name="platform-default", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0]
        listener = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
        )["Listeners"][0]
        for name, value, kind in (
            ("vpc-id", vpc, "String"),
            ("private-subnets", ",".join(subnets), "StringList"),
            ("ecs-cluster", "platform", "String"),
            ("alb-listener-arn", listener["ListenerArn"], "String"),
            ("alb-security-group", sg, "String"),
        ):
            ssm.put_parameter(Name=f"/gantry/platform/{name}", Value=value, Type=kind, Overwrite=True)

    def test_rendered_templates_deploy(self) -> None:
        failures = []
        for app, data in golden_pairs():
            with self.subTest(case=os.path.relpath(app, GOLDEN)):
                reset()
                self.make_platform()
                for path in [p for p in (data, app) if p]:
                    name = os.path.basename(path)[: -len(".template.json")]
                    with open(path) as f:
                        template = json.load(f)
                    try:
                        stack = deploy(self.cfn, name, template, parameters_file(path))
                    except (AssertionError, ClientError) as e:
                        failures.append(f"{os.path.relpath(path, GOLDEN)}: {e}")
                        break
                    if stack["StackStatus"] != "CREATE_COMPLETE":
                        events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
                        reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events if e["ResourceStatus"].endswith("FAILED")]
                        failures.append(f"{os.path.relpath(path, GOLDEN)}: {stack['StackStatus']}: {reasons}")
                        break
                    declared = set((template.get("Outputs") or {}).keys())
                    missing = declared - set(outputs(stack))
                    if missing:
                        failures.append(f"{os.path.relpath(path, GOLDEN)}: outputs missing: {sorted(missing)}")
                    if path == app:
                        failures += self.new_version(name, template, parameters_file(path), os.path.relpath(path, GOLDEN))
        if failures:
            self.fail("rendered templates that do not deploy on the emulator:\n" + "\n".join(failures))

    def new_version(self, name: str, template: dict[str, Any], params: dict[str, str], label: str) -> list[str]:
        """Deploys version 2.0.0 of an app stack, then again (empty)."""
        if "Version" not in (template.get("Parameters") or {}):
            return []
        ecs = client("ecs")
        params = dict(params, Version="2.0.0")
        stack = deploy(self.cfn, name, template, params)
        if stack["StackStatus"] != "UPDATE_COMPLETE":
            return [f"{label}: new version: {stack['StackStatus']}"]
        problems = []
        service = outputs(stack).get("ServiceName")
        if service:
            running = ecs.describe_services(cluster="platform", services=[service])["services"][0]["taskDefinition"]
            image = ecs.describe_task_definition(taskDefinition=running)["taskDefinition"]["containerDefinitions"][0]["image"]
            if not image.endswith(":2.0.0"):
                problems.append(f"{label}: new version: the service runs {image}")
        again = change_set(self.cfn, name, template, params)
        if again["Status"] != "FAILED" or "didn't contain changes" not in again.get("StatusReason", ""):
            problems.append(f"{label}: unchanged redeploy: change set {again['Status']} with {len(again.get('Changes', []))} changes")
        # Deleted and deployed again: nothing of the first one is in the way
        # (the listener rule's priority, the target group's name).
        self.cfn.delete_stack(StackName=name)
        stack = deploy(self.cfn, name, template, params)
        if stack["StackStatus"] != "CREATE_COMPLETE":
            events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
            reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events if e["ResourceStatus"].endswith("FAILED")]
            problems.append(f"{label}: deployed again after deletion: {stack['StackStatus']}: {reasons}")
        return problems


CANARY = os.path.join(GOLDEN, "fixtures", "canary", "prod", "us-east-1")


class CanaryTest(EmulatorTest):
    """A canary's traffic split on the emulator: the rendered canary fixture
    deployed, its weights moved by a stack update, then at once by ModifyRule
    (an abort), its alarms put into ALARM by the test."""

    make_platform = GoldenTemplatesTest.make_platform

    def deploy_canary(self) -> tuple[dict[str, Any], dict[str, str]]:
        self.make_platform()
        templates = {}
        for kind in ("data", "app"):
            with open(os.path.join(CANARY, f"checkout-prod-{kind}.template.json")) as f:
                templates[kind] = json.load(f)
        data = os.path.join(CANARY, "checkout-prod-data.template.json")
        deploy(self.cfn, "checkout-prod-data", templates["data"], parameters_file(data))
        app = os.path.join(CANARY, "checkout-prod-app.template.json")
        params = parameters_file(app)
        stack = deploy(self.cfn, "checkout-prod-app", templates["app"], params)
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        return templates["app"], params

    def weights(self, outs: dict[str, str]) -> dict[str, int]:
        """The rule's forward weights, by "stable" and "canary"."""
        rule = client("elbv2").describe_rules(RuleArns=[outs["ListenerRuleArn"]])["Rules"][0]
        self.assertEqual(len(rule["Actions"]), 1)
        groups = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
        names = {outs["StableTargetGroupArn"]: "stable", outs["CanaryTargetGroupArn"]: "canary"}
        return {names[g["TargetGroupArn"]]: g["Weight"] for g in groups}

    def service(self, arn: str) -> tuple[int, str]:
        """An ECS service's desired count and the image it runs."""
        ecs = client("ecs")
        svc = ecs.describe_services(cluster="platform", services=[arn])["services"][0]
        image = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]["containerDefinitions"][0]["image"]
        return svc["desiredCount"], image

    def test_weights_follow_the_stack_and_a_direct_abort(self) -> None:
        template, params = self.deploy_canary()
        outs = outputs(self.cfn.describe_stacks(StackName="checkout-prod-app")["Stacks"][0])
        self.assertEqual(self.weights(outs), {"stable": 100, "canary": 0})
        self.assertEqual(self.service(outs["CanaryServiceArn"])[0], 0)

        # A canary step: the stable keeps 1.0.0, the canary runs 2.0.0 with
        # a quarter of the traffic on one task.
        step = dict(params, CanaryVersion="2.0.0", CanaryWeight="25", StableWeight="75", CanaryTasks="1")
        stack = deploy(self.cfn, "checkout-prod-app", template, step)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(outputs(stack), outs, "a step must keep the rule, target groups and services")
        self.assertEqual(self.weights(outs), {"stable": 75, "canary": 25})
        count, image = self.service(outs["CanaryServiceArn"])
        self.assertEqual((count, image.rsplit(":", 1)[1]), (1, "2.0.0"))
        stable = self.cfn.describe_stack_resource(StackName="checkout-prod-app", LogicalResourceId="Service")["StackResourceDetail"]
        self.assertTrue(self.service(stable["PhysicalResourceId"])[1].endswith(":1.0.0"))

        # The abort: the rule and the canary's count set directly, in one
        # call each, and shown at once.
        client("elbv2").modify_rule(
            RuleArn=outs["ListenerRuleArn"],
            Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": outs["StableTargetGroupArn"], "Weight": 100},
                {"TargetGroupArn": outs["CanaryTargetGroupArn"], "Weight": 0},
            ]}}],
        )
        client("ecs").update_service(cluster=outs["Cluster"], service=outs["CanaryServiceArn"], desiredCount=0)
        self.assertEqual(self.weights(outs), {"stable": 100, "canary": 0})
        self.assertEqual(self.service(outs["CanaryServiceArn"])[0], 0)

        # Then the stack is brought back in line: the rendered parameters
        # again are an update (the stack still says 25), which keeps 100/0.
        stack = deploy(self.cfn, "checkout-prod-app", template, params)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(self.weights(outs), {"stable": 100, "canary": 0})
        self.assertEqual(self.service(outs["CanaryServiceArn"])[0], 0)
        again = change_set(self.cfn, "checkout-prod-app", template, params)
        self.assertEqual(again["Status"], "FAILED", "in line: nothing left to change")

    def test_a_test_sets_a_canary_alarm_and_it_stays(self) -> None:
        template, params = self.deploy_canary()
        cw = client("cloudwatch")
        names = ["checkout-prod-canary-5xx", "checkout-prod-canary-5xx-margin", "checkout-prod-canary-latency"]
        alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=names)["MetricAlarms"]}
        self.assertEqual(sorted(alarms), sorted(names))
        margin = alarms["checkout-prod-canary-5xx-margin"]
        self.assertEqual((margin["Threshold"], len(margin["Metrics"])), (1.0, 5))
        cw.set_alarm_state(AlarmName="checkout-prod-canary-5xx", StateValue="ALARM", StateReason="test")
        # A step's update keeps the state, and nothing re-evaluates it.
        deploy(self.cfn, "checkout-prod-app", template, dict(params, CanaryVersion="2.0.0", CanaryWeight="5", StableWeight="95", CanaryTasks="1"))
        time.sleep(1)
        got = cw.describe_alarms(AlarmNames=["checkout-prod-canary-5xx"])["MetricAlarms"][0]
        self.assertEqual(got["StateValue"], "ALARM")


if __name__ == "__main__":
    sys.exit(unittest.main())


class OneAtATimeTest(unittest.TestCase):
    """server.OneAtATime serialises requests (moto is not thread-safe), but SQS's."""

    def _max_concurrent(self, authorization: str) -> int:
        sys.path.insert(0, HERE)
        import server  # noqa: PLC0415 - the emulator's own module, beside this file

        lock = threading.Lock()
        state = {"now": 0, "max": 0}

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            time.sleep(0.05)
            with lock:
                state["now"] -= 1
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"a", b"b"]

        wrapped = server.OneAtATime(app)
        bodies: list[bytes] = []

        def call() -> None:
            bodies.append(b"".join(wrapped({"HTTP_AUTHORIZATION": authorization}, lambda *a: None)))

        threads = [threading.Thread(target=call) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(bodies, [b"ab"] * 6)
        return state["max"]

    def test_requests_are_served_one_at_a_time(self) -> None:
        auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0"
        self.assertEqual(self._max_concurrent(auth), 1)

    def test_sqs_requests_are_not_held_up(self) -> None:
        auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
        self.assertGreater(self._max_concurrent(auth), 1)
