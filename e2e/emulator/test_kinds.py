"""The emulator on DynamoDB tables, SQS queues and SNS topics as gantry
renders them (issue 11): what reaches the real resource, updates in place,
replacement of create-only properties, retained data, and queue-backlog
scaling.

Run with the rest of the emulator's tests:

    .venv/bin/python -m unittest discover -s e2e/emulator

It starts its own emulator (``test_emulator``'s module set-up) and uses that
module's helpers.
"""

from __future__ import annotations

import copy
import json
import sys
import unittest
from typing import Any


import test_emulator
from test_emulator import ACCOUNT, REGION, EmulatorTest, change_set, client, deploy, outputs

setUpModule = test_emulator.setUpModule  # noqa: N816 - unittest's name
tearDownModule = test_emulator.tearDownModule  # noqa: N816 - unittest's name

KEY = {
    "Type": "AWS::KMS::Key",
    "Properties": {
        "KeyPolicy": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}],
        },
        "Tags": [{"Key": "gantry:service", "Value": "orders"}],
    },
}


def table_template(name: str = "orders-dev-orders") -> dict[str, Any]:
    """A table as gantry renders a dynamodb resource: keys, an index, TTL,
    a stream, PITR, the service's KMS key, deletion protection, Retain."""
    return {
        "Resources": {
            "Key": copy.deepcopy(KEY),
            "Orders": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "TableName": name,
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                        {"AttributeName": "customerId", "AttributeType": "S"},
                        {"AttributeName": "createdAt", "AttributeType": "N"},
                    ],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "by-customer",
                            "KeySchema": [
                                {"AttributeName": "customerId", "KeyType": "HASH"},
                                {"AttributeName": "createdAt", "KeyType": "RANGE"},
                            ],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    ],
                    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "Key"}},
                    "DeletionProtectionEnabled": True,
                    "Tags": [{"Key": "gantry:service", "Value": "orders"}],
                },
            },
        },
        "Outputs": {
            "TableName": {"Value": {"Ref": "Orders"}},
            "TableArn": {"Value": {"Fn::GetAtt": ["Orders", "Arn"]}},
            "StreamArn": {"Value": {"Fn::GetAtt": ["Orders", "StreamArn"]}},
            "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}},
        },
    }


def messaging_template(fifo: bool = False, prefix: str = "orders-dev") -> dict[str, Any]:
    """A queue with its dead-letter queue and policy, and a topic the queue
    subscribes to with a filter, as gantry renders sqs and sns resources."""
    suffix = ".fifo" if fifo else ""
    dlq: dict[str, Any] = {"QueueName": f"{prefix}-work-dlq{suffix}", "MessageRetentionPeriod": 1209600, "KmsMasterKeyId": {"Ref": "Key"}}
    work: dict[str, Any] = {
        "QueueName": f"{prefix}-work{suffix}",
        "VisibilityTimeout": 120,
        "MessageRetentionPeriod": 345600,
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["WorkDlq", "Arn"]}, "maxReceiveCount": 5},
        "KmsMasterKeyId": {"Ref": "Key"},
    }
    topic: dict[str, Any] = {"TopicName": f"{prefix}-events{suffix}", "KmsMasterKeyId": {"Ref": "Key"}}
    if fifo:
        dlq["FifoQueue"] = work["FifoQueue"] = topic["FifoTopic"] = True
    queue_arn = {"Fn::GetAtt": ["Work", "Arn"]}
    return {
        "Resources": {
            "Key": copy.deepcopy(KEY),
            "WorkDlq": {"Type": "AWS::SQS::Queue", "Properties": dlq},
            "Work": {"Type": "AWS::SQS::Queue", "Properties": work},
            "WorkPolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "Work"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "DenyInsecureTransport",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "sqs:*",
                                "Resource": queue_arn,
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            },
                            {
                                "Sid": "AllowTopic",
                                "Effect": "Allow",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": queue_arn,
                                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "Events"}}},
                            },
                        ],
                    },
                },
            },
            "Events": {"Type": "AWS::SNS::Topic", "Properties": topic},
            "EventsToWork": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Events"},
                    "Protocol": "sqs",
                    "Endpoint": queue_arn,
                    "FilterPolicy": {"eventType": ["order.created"]},
                    "RawMessageDelivery": True,
                },
            },
        },
        "Outputs": {
            "QueueUrl": {"Value": {"Ref": "Work"}},
            "QueueUrlAttr": {"Value": {"Fn::GetAtt": ["Work", "QueueUrl"]}},
            "QueueArn": {"Value": queue_arn},
            "QueueName": {"Value": {"Fn::GetAtt": ["Work", "QueueName"]}},
            "DlqUrl": {"Value": {"Ref": "WorkDlq"}},
            "DlqArn": {"Value": {"Fn::GetAtt": ["WorkDlq", "Arn"]}},
            "PolicyId": {"Value": {"Ref": "WorkPolicy"}},
            "PolicyIdAttr": {"Value": {"Fn::GetAtt": ["WorkPolicy", "Id"]}},
            "TopicArn": {"Value": {"Ref": "Events"}},
            "TopicArnAttr": {"Value": {"Fn::GetAtt": ["Events", "TopicArn"]}},
            "TopicName": {"Value": {"Fn::GetAtt": ["Events", "TopicName"]}},
            "SubscriptionArn": {"Value": {"Ref": "EventsToWork"}},
            "SubscriptionArnAttr": {"Value": {"Fn::GetAtt": ["EventsToWork", "Arn"]}},
            "KeyId": {"Value": {"Ref": "Key"}},
        },
    }


def changes_of(cs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in cs.get("Changes") or []}


def recreations(change: dict[str, Any]) -> dict[str, str]:
    """{property: RequiresRecreation} of a change's static details."""
    return {d["Target"]["Name"]: d["Target"]["RequiresRecreation"] for d in change.get("Details") or [] if d["Evaluation"] == "Static" and "Name" in d["Target"]}


def failure_reasons(cfn: Any, stack: str) -> list[str]:
    return [e.get("ResourceStatusReason") or "" for e in cfn.describe_stack_events(StackName=stack)["StackEvents"] if e["ResourceStatus"].endswith("FAILED")]


class DynamoDBTableTest(EmulatorTest):
    def test_every_setting_reaches_the_table(self) -> None:
        stack = deploy(self.cfn, "orders-dev-data", table_template())
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        out = outputs(stack)
        ddb = client("dynamodb")
        table = ddb.describe_table(TableName="orders-dev-orders")["Table"]
        self.assertEqual(out["TableName"], "orders-dev-orders")
        self.assertEqual(out["TableArn"], table["TableArn"])
        self.assertEqual(out["StreamArn"], table["LatestStreamArn"])
        self.assertEqual(table["StreamSpecification"], {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual([(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]], [("pk", "HASH"), ("sk", "RANGE")])
        index = table["GlobalSecondaryIndexes"][0]
        self.assertEqual((index["IndexName"], index["Projection"]["ProjectionType"]), ("by-customer", "ALL"))
        self.assertEqual([k["AttributeName"] for k in index["KeySchema"]], ["customerId", "createdAt"])
        # The key's ARN, though the template gives its id (Ref).
        self.assertEqual(table["SSEDescription"], {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": out["KeyArn"]})
        self.assertTrue(table["DeletionProtectionEnabled"])
        self.assertEqual(ddb.describe_time_to_live(TableName="orders-dev-orders")["TimeToLiveDescription"], {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"})
        pitr = ddb.describe_continuous_backups(TableName="orders-dev-orders")["ContinuousBackupsDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertIn({"Key": "gantry:service", "Value": "orders"}, ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"])
        resources = {r["LogicalResourceId"]: r for r in self.cfn.describe_stack_resources(StackName="orders-dev-data")["StackResources"]}
        self.assertEqual(resources["Orders"]["PhysicalResourceId"], "orders-dev-orders")
        self.assertEqual(json.loads(json.dumps(self.cfn.get_template(StackName="orders-dev-data")["TemplateBody"])), table_template())
        again = change_set(self.cfn, "orders-dev-data", table_template())
        self.assertEqual(again["Status"], "FAILED")
        self.assertIn("didn't contain changes", again["StatusReason"])

    def test_a_table_without_a_stream_has_no_stream_arn(self) -> None:
        template = table_template()
        del template["Resources"]["Orders"]["Properties"]["StreamSpecification"]
        stack = deploy(self.cfn, "orders-dev-data", template)
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        self.assertNotIn("Outputs", stack)
        events = self.cfn.describe_stack_events(StackName="orders-dev-data")["StackEvents"]
        reasons = [e.get("ResourceStatusReason") or "" for e in events]
        self.assertIn("resource Orders does not support attribute type StreamArn in Fn::GetAtt", "\n".join(reasons))

    def test_dynamodb_refuses_an_unused_attribute_definition(self) -> None:
        template = table_template()
        template["Resources"]["Orders"]["Properties"]["AttributeDefinitions"].append({"AttributeName": "status", "AttributeType": "S"})
        stack = deploy(self.cfn, "orders-dev-data", template)
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        self.assertTrue(any("Some AttributeDefinitions are not used" in r for r in failure_reasons(self.cfn, "orders-dev-data")))

    def test_settings_change_in_place(self) -> None:
        first = outputs(deploy(self.cfn, "orders-dev-data", table_template()))
        ddb = client("dynamodb")
        ddb.put_item(TableName="orders-dev-orders", Item={"pk": {"S": "a"}, "sk": {"S": "1"}})

        updated = table_template()
        p = updated["Resources"]["Orders"]["Properties"]
        p["StreamSpecification"] = {"StreamViewType": "KEYS_ONLY"}
        p["TimeToLiveSpecification"]["Enabled"] = False
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False
        p["AttributeDefinitions"].append({"AttributeName": "status", "AttributeType": "S"})
        p["GlobalSecondaryIndexes"].append(
            {"IndexName": "by-status", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}
        )
        p["DeletionProtectionEnabled"] = False
        cs = change_set(self.cfn, "orders-dev-data", updated)
        change = changes_of(cs)["Orders"]
        self.assertEqual(change["Replacement"], "False")
        self.assertEqual(set(recreations(change).values()), {"Never"})
        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])

        out = outputs(self.cfn.describe_stacks(StackName="orders-dev-data")["Stacks"][0])
        table = ddb.describe_table(TableName="orders-dev-orders")["Table"]
        self.assertEqual([i["IndexName"] for i in table["GlobalSecondaryIndexes"]], ["by-customer", "by-status"])
        self.assertEqual(table["StreamSpecification"]["StreamViewType"], "KEYS_ONLY")
        # A new view type is a new stream.
        self.assertNotEqual(out["StreamArn"], first["StreamArn"])
        self.assertEqual(out["StreamArn"], table["LatestStreamArn"])
        self.assertFalse(table["DeletionProtectionEnabled"])
        self.assertEqual(ddb.describe_time_to_live(TableName="orders-dev-orders")["TimeToLiveDescription"]["TimeToLiveStatus"], "DISABLED")
        pitr = ddb.describe_continuous_backups(TableName="orders-dev-orders")["ContinuousBackupsDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "DISABLED")
        # The same table: its items are still there.
        self.assertIn("Item", ddb.get_item(TableName="orders-dev-orders", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}))

        # Removing the stream disables it; its ARN stays the latest.
        del updated["Resources"]["Orders"]["Properties"]["StreamSpecification"]
        deploy(self.cfn, "orders-dev-data", updated)
        self.assertNotIn("StreamSpecification", ddb.describe_table(TableName="orders-dev-orders")["Table"])

    def test_adding_and_deleting_an_index_in_one_update_fails(self) -> None:
        deploy(self.cfn, "orders-dev-data", table_template())
        renamed = table_template()
        renamed["Resources"]["Orders"]["Properties"]["GlobalSecondaryIndexes"][0]["IndexName"] = "by-customer-2"
        stack = deploy(self.cfn, "orders-dev-data", renamed)
        self.assertEqual(stack["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        self.assertTrue(any("in the same update" in r for r in failure_reasons(self.cfn, "orders-dev-data")))

    def test_key_changes_replace_the_table(self) -> None:
        deploy(self.cfn, "orders-dev-data", table_template())

        def edit(f: Any) -> dict[str, Any]:
            template = table_template()
            f(template["Resources"]["Orders"]["Properties"])
            return template

        def key_schema(p: dict[str, Any]) -> None:
            p["KeySchema"] = [{"AttributeName": "pk", "KeyType": "HASH"}]

        def key_type(p: dict[str, Any]) -> None:
            p["AttributeDefinitions"][0]["AttributeType"] = "N"

        def index_keys(p: dict[str, Any]) -> None:
            p["GlobalSecondaryIndexes"][0]["KeySchema"] = [
                {"AttributeName": "createdAt", "KeyType": "HASH"},
                {"AttributeName": "customerId", "KeyType": "RANGE"},
            ]

        def index_added(p: dict[str, Any]) -> None:
            p["GlobalSecondaryIndexes"].append(
                {"IndexName": "by-date", "KeySchema": [{"AttributeName": "createdAt", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}
            )

        def attribute_added(p: dict[str, Any]) -> None:
            p["AttributeDefinitions"].append({"AttributeName": "status", "AttributeType": "S"})

        cases = [
            (key_schema, "KeySchema", "True", "Always"),
            (key_type, "AttributeDefinitions", "True", "Always"),
            (index_keys, "GlobalSecondaryIndexes", "True", "Always"),
            (index_added, "GlobalSecondaryIndexes", "False", "Never"),
            (attribute_added, "AttributeDefinitions", "False", "Never"),
        ]
        for f, prop, replacement, recreation in cases:
            with self.subTest(change=f.__name__):
                cs = change_set(self.cfn, "orders-dev-data", edit(f))
                change = changes_of(cs)["Orders"]
                self.assertEqual((change["Replacement"], recreations(change)), (replacement, {prop: recreation}))
                self.assertEqual(change["PhysicalResourceId"], "orders-dev-orders")
                self.cfn.delete_change_set(ChangeSetName=cs["ChangeSetId"])

        ddb = client("dynamodb")
        ddb.put_item(TableName="orders-dev-orders", Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
        # Replacing a custom-named table under the same name fails, as on AWS.
        stack = deploy(self.cfn, "orders-dev-data", edit(index_keys))
        self.assertEqual(stack["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        self.assertTrue(any("custom-named resource requires replacing" in r for r in failure_reasons(self.cfn, "orders-dev-data")))

        # Under a new name: a new table; the old one and its data are kept
        # (UpdateReplacePolicy Retain).
        renamed = edit(index_keys)
        renamed["Resources"]["Orders"]["Properties"]["TableName"] = "orders-dev-orders-2"
        # The key by its ARN this time.
        renamed["Resources"]["Orders"]["Properties"]["SSESpecification"]["KMSMasterKeyId"] = {"Fn::GetAtt": ["Key", "Arn"]}
        stack = deploy(self.cfn, "orders-dev-data", renamed)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(outputs(stack)["TableName"], "orders-dev-orders-2")
        new = ddb.describe_table(TableName="orders-dev-orders-2")["Table"]
        self.assertEqual([k["AttributeName"] for k in new["GlobalSecondaryIndexes"][0]["KeySchema"]], ["createdAt", "customerId"])
        self.assertEqual(new["SSEDescription"]["KMSMasterKeyArn"], outputs(stack)["KeyArn"])
        self.assertIn("Item", ddb.get_item(TableName="orders-dev-orders", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}))

    def test_a_retained_table_outlives_its_removal_and_the_stack(self) -> None:
        template = table_template()
        template["Resources"]["Other"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders-dev-other"}}
        deploy(self.cfn, "orders-dev-data", template)
        ddb = client("dynamodb")
        ddb.put_item(TableName="orders-dev-orders", Item={"pk": {"S": "a"}, "sk": {"S": "1"}})

        without = copy.deepcopy(template)
        del without["Resources"]["Orders"]
        without["Outputs"] = {}
        stack = deploy(self.cfn, "orders-dev-data", without)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE", failure_reasons(self.cfn, "orders-dev-data"))
        events = self.cfn.describe_stack_events(StackName="orders-dev-data")["StackEvents"]
        self.assertIn(("Orders", "DELETE_SKIPPED"), [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events])
        self.assertIn("Item", ddb.get_item(TableName="orders-dev-orders", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}))
        self.assertNotIn("Orders", {r["LogicalResourceId"] for r in self.cfn.describe_stack_resources(StackName="orders-dev-data")["StackResources"]})

        # A resource removed without Retain is deleted.
        del without["Resources"]["Other"]
        deploy(self.cfn, "orders-dev-data", without)
        self.assertNotIn("QueueUrls", client("sqs").list_queues(QueueNamePrefix="orders-dev-other"))

        # Deleting the stack keeps a Retain table (moto did this already).
        deploy(self.cfn, "orders-dev-data", table_template("orders-dev-kept"))
        self.cfn.delete_stack(StackName="orders-dev-data")
        self.assertIn("orders-dev-kept", ddb.list_tables()["TableNames"])

    def test_a_protected_table_fails_the_stack_deletion(self) -> None:
        template = table_template()
        del template["Resources"]["Orders"]["DeletionPolicy"]
        stack_id = deploy(self.cfn, "orders-dev-data", template)["StackId"]
        self.cfn.delete_stack(StackName="orders-dev-data")
        stack = self.cfn.describe_stacks(StackName="orders-dev-data")["Stacks"][0]
        self.assertEqual((stack["StackId"], stack["StackStatus"]), (stack_id, "DELETE_FAILED"))
        self.assertEqual(stack["StackStatusReason"], "The following resource(s) failed to delete: [Orders]. ")
        events = self.cfn.describe_stack_events(StackName="orders-dev-data")["StackEvents"]
        failed = [e for e in events if e["ResourceStatus"] == "DELETE_FAILED" and e["LogicalResourceId"] == "Orders"]
        self.assertIn("DeletionProtectionEnabled", failed[0]["ResourceStatusReason"])
        self.assertEqual(failed[0]["PhysicalResourceId"], "orders-dev-orders")
        ddb = client("dynamodb")
        self.assertIn("orders-dev-orders", ddb.list_tables()["TableNames"])

        # Without the protection a second DeleteStack finishes the job.
        ddb.update_table(TableName="orders-dev-orders", DeletionProtectionEnabled=False)
        self.cfn.delete_stack(StackName=stack_id)
        deleted = self.cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        self.assertEqual((deleted["StackStatus"], deleted.get("StackStatusReason")), ("DELETE_COMPLETE", None))
        self.assertNotIn("orders-dev-orders", ddb.list_tables()["TableNames"])


class QueueTest(EmulatorTest):
    def test_queue_dead_letter_queue_and_policy(self) -> None:
        stack = deploy(self.cfn, "orders-dev-data", messaging_template())
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", failure_reasons(self.cfn, "orders-dev-data"))
        out = outputs(stack)
        url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders-dev-work"
        self.assertEqual((out["QueueUrl"], out["QueueUrlAttr"]), (url, url))
        self.assertEqual(out["QueueArn"], f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dev-work")
        self.assertEqual(out["QueueName"], "orders-dev-work")
        self.assertEqual(out["DlqArn"], f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dev-work-dlq")
        self.assertEqual(out["PolicyId"], out["PolicyIdAttr"])
        self.assertTrue(out["PolicyId"].startswith("orders-dev-data-WorkPolicy-"), out["PolicyId"])

        sqs = client("sqs")
        attrs = sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["All"])["Attributes"]
        self.assertEqual(json.loads(attrs["RedrivePolicy"]), {"deadLetterTargetArn": out["DlqArn"], "maxReceiveCount": 5})
        self.assertEqual((attrs["VisibilityTimeout"], attrs["MessageRetentionPeriod"]), ("120", "345600"))
        self.assertEqual((attrs["KmsMasterKeyId"], attrs["SqsManagedSseEnabled"]), (out["KeyId"], "false"))
        policy = json.loads(attrs["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["DenyInsecureTransport", "AllowTopic"])
        self.assertEqual(policy["Statement"][1]["Condition"], {"ArnEquals": {"aws:SourceArn": out["TopicArn"]}})
        self.assertEqual(policy["Statement"][0]["Resource"], out["QueueArn"])
        dlq = sqs.get_queue_attributes(QueueUrl=out["DlqUrl"], AttributeNames=["All"])["Attributes"]
        self.assertEqual(dlq["MessageRetentionPeriod"], "1209600")
        self.assertNotIn("Policy", dlq)
        # The URL the stack gives works with the SQS API as on AWS.
        sqs.send_message(QueueUrl=out["QueueUrl"], MessageBody="hello")
        self.assertEqual(sqs.receive_message(QueueUrl=out["QueueUrl"])["Messages"][0]["Body"], "hello")

        resources = self.cfn.describe_stack_resources(StackName="orders-dev-data")["StackResources"]
        physical = {r.get("LogicalResourceId"): (r.get("ResourceType"), r.get("PhysicalResourceId")) for r in resources}
        self.assertEqual(physical["WorkPolicy"], ("AWS::SQS::QueuePolicy", out["PolicyId"]))
        self.assertEqual(physical["EventsToWork"], ("AWS::SNS::Subscription", out["SubscriptionArn"]))
        self.assertEqual(physical["Work"], ("AWS::SQS::Queue", out["QueueUrl"]))
        self.assertEqual(physical["Events"], ("AWS::SNS::Topic", out["TopicArn"]))

        # An unchanged rerun is an empty change set.
        again = change_set(self.cfn, "orders-dev-data", messaging_template())
        self.assertEqual(again["Status"], "FAILED")
        self.assertIn("didn't contain changes", again["StatusReason"])

        # Deleting the stack deletes the queues, the topic and the subscription.
        self.cfn.delete_stack(StackName="orders-dev-data")
        self.assertNotIn("QueueUrls", sqs.list_queues())
        sns = client("sns")
        self.assertEqual((sns.list_topics()["Topics"], sns.list_subscriptions()["Subscriptions"]), ([], []))

    def test_queue_settings_change_in_place(self) -> None:
        out = outputs(deploy(self.cfn, "orders-dev-data", messaging_template()))
        sqs = client("sqs")
        sqs.send_message(QueueUrl=out["QueueUrl"], MessageBody="kept")

        updated = messaging_template()
        work = updated["Resources"]["Work"]["Properties"]
        work["VisibilityTimeout"] = 60
        work["MessageRetentionPeriod"] = 86400
        work["RedrivePolicy"]["maxReceiveCount"] = 3
        work["Tags"] = [{"Key": "gantry:version", "Value": "2"}]
        del updated["Resources"]["WorkDlq"]["Properties"]["MessageRetentionPeriod"]
        cs = change_set(self.cfn, "orders-dev-data", updated)
        changes = changes_of(cs)
        self.assertEqual((changes["Work"]["Replacement"], changes["WorkDlq"]["Replacement"]), ("False", "False"))
        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])

        attrs = sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["All"])["Attributes"]
        self.assertEqual((attrs["VisibilityTimeout"], attrs["MessageRetentionPeriod"]), ("60", "86400"))
        self.assertEqual(json.loads(attrs["RedrivePolicy"])["maxReceiveCount"], 3)
        self.assertIn("Policy", attrs)
        self.assertEqual(sqs.list_queue_tags(QueueUrl=out["QueueUrl"])["Tags"], {"gantry:version": "2"})
        # A property gone from the template is back at SQS's default.
        dlq = sqs.get_queue_attributes(QueueUrl=out["DlqUrl"], AttributeNames=["MessageRetentionPeriod"])["Attributes"]
        self.assertEqual(dlq["MessageRetentionPeriod"], "345600")
        self.assertEqual(sqs.receive_message(QueueUrl=out["QueueUrl"])["Messages"][0]["Body"], "kept")

        # Without a redrive policy or a queue policy.
        del work["RedrivePolicy"]
        del updated["Resources"]["WorkPolicy"]
        for key in ("PolicyId", "PolicyIdAttr"):
            del updated["Outputs"][key]
        deploy(self.cfn, "orders-dev-data", updated)
        attrs = sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["All"])["Attributes"]
        self.assertNotIn("RedrivePolicy", attrs)
        self.assertNotIn("Policy", attrs)

    def test_switching_to_fifo_replaces_the_queue_and_the_topic(self) -> None:
        before = outputs(deploy(self.cfn, "orders-dev-data", messaging_template()))
        cs = change_set(self.cfn, "orders-dev-data", messaging_template(fifo=True))
        changes = changes_of(cs)
        for name, props in (("Work", {"QueueName", "FifoQueue"}), ("WorkDlq", {"QueueName", "FifoQueue"}), ("Events", {"TopicName", "FifoTopic"})):
            self.assertEqual(changes[name]["Replacement"], "True", name)
            self.assertEqual(recreations(changes[name]), {p: "Always" for p in props}, name)
        # The subscription follows both (resolved only while updating).
        self.assertEqual(changes["EventsToWork"]["Replacement"], "Conditional")
        self.assertEqual(
            {d["CausingEntity"] for d in changes["EventsToWork"]["Details"]}, {"Events", "Work.Arn"}
        )
        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])

        stack = self.cfn.describe_stacks(StackName="orders-dev-data")["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE", failure_reasons(self.cfn, "orders-dev-data"))
        out = outputs(stack)
        self.assertTrue(out["QueueUrl"].endswith("/orders-dev-work.fifo"))
        self.assertTrue(out["TopicArn"].endswith(":orders-dev-events.fifo"))
        sqs, sns = client("sqs"), client("sns")
        names = sorted(u.rsplit("/", 1)[1] for u in sqs.list_queues()["QueueUrls"])
        self.assertEqual(names, ["orders-dev-work-dlq.fifo", "orders-dev-work.fifo"])
        attrs = sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["FifoQueue"], "true")
        self.assertEqual(json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"], out["DlqArn"])
        self.assertIn(out["TopicArn"], json.loads(attrs["Policy"])["Statement"][1]["Condition"]["ArnEquals"]["aws:SourceArn"])
        self.assertEqual([t["TopicArn"] for t in sns.list_topics()["Topics"]], [out["TopicArn"]])
        self.assertEqual(sns.get_topic_attributes(TopicArn=out["TopicArn"])["Attributes"]["FifoTopic"], "true")
        subs = sns.list_subscriptions()["Subscriptions"]
        self.assertEqual([(s["SubscriptionArn"], s["Endpoint"]) for s in subs], [(out["SubscriptionArn"], out["QueueArn"])])
        self.assertNotEqual(out["SubscriptionArn"], before["SubscriptionArn"])

    def test_a_fifo_queue_cannot_subscribe_to_a_standard_topic(self) -> None:
        template = messaging_template(fifo=True)
        template["Resources"]["Events"]["Properties"] = {"TopicName": "orders-dev-events"}
        stack = deploy(self.cfn, "orders-dev-data", template)
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        self.assertTrue(any("FIFO SQS Queues can not be subscribed to standard SNS topics" in r for r in failure_reasons(self.cfn, "orders-dev-data")))


class TopicTest(EmulatorTest):
    def receive(self, url: str) -> list[dict[str, Any]]:
        return client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])

    def test_topic_and_subscription_deliver_as_sns_would(self) -> None:
        stack = deploy(self.cfn, "orders-dev-data", messaging_template())
        out = outputs(stack)
        self.assertEqual(out["TopicArn"], f"arn:aws:sns:{REGION}:{ACCOUNT}:orders-dev-events")
        self.assertEqual((out["TopicArnAttr"], out["TopicName"]), (out["TopicArn"], "orders-dev-events"))
        self.assertEqual(out["SubscriptionArn"], out["SubscriptionArnAttr"])
        sns = client("sns")
        self.assertEqual(sns.get_topic_attributes(TopicArn=out["TopicArn"])["Attributes"]["KmsMasterKeyId"], out["KeyId"])
        attrs = sns.get_subscription_attributes(SubscriptionArn=out["SubscriptionArn"])["Attributes"]
        self.assertEqual(json.loads(attrs["FilterPolicy"]), {"eventType": ["order.created"]})
        self.assertEqual((attrs["RawMessageDelivery"], attrs["Protocol"], attrs["Endpoint"]), ("true", "sqs", out["QueueArn"]))
        self.assertEqual(attrs["TopicArn"], out["TopicArn"])

        def publish(event: str, body: str) -> None:
            sns.publish(TopicArn=out["TopicArn"], Message=body, MessageAttributes={"eventType": {"DataType": "String", "StringValue": event}})

        publish("order.shipped", "filtered out")
        publish("order.created", '{"id": 1}')
        got = self.receive(out["QueueUrl"])
        self.assertEqual([m["Body"] for m in got], ['{"id": 1}'])
        self.assertEqual(got[0]["MessageAttributes"]["eventType"]["StringValue"], "order.created")

    def test_topic_and_subscription_change_in_place(self) -> None:
        before = outputs(deploy(self.cfn, "orders-dev-data", messaging_template()))
        updated = messaging_template()
        updated["Resources"]["Events"]["Properties"]["DisplayName"] = "orders events"
        updated["Resources"]["Events"]["Properties"]["Tags"] = [{"Key": "gantry:service", "Value": "orders"}]
        sub = updated["Resources"]["EventsToWork"]["Properties"]
        sub["FilterPolicy"] = {"eventType": ["order.shipped"]}
        sub["RawMessageDelivery"] = False
        cs = change_set(self.cfn, "orders-dev-data", updated)
        changes = changes_of(cs)
        self.assertEqual((changes["Events"]["Replacement"], changes["EventsToWork"]["Replacement"]), ("False", "False"))
        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])

        out = outputs(self.cfn.describe_stacks(StackName="orders-dev-data")["Stacks"][0])
        self.assertEqual((out["TopicArn"], out["SubscriptionArn"]), (before["TopicArn"], before["SubscriptionArn"]))
        sns = client("sns")
        self.assertEqual(sns.get_topic_attributes(TopicArn=out["TopicArn"])["Attributes"]["DisplayName"], "orders events")
        self.assertEqual(sns.list_tags_for_resource(ResourceArn=out["TopicArn"])["Tags"], [{"Key": "gantry:service", "Value": "orders"}])
        # moto deleted the topic and made it again on every update, losing
        # its subscriptions.
        self.assertEqual([s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=out["TopicArn"])["Subscriptions"]], [out["SubscriptionArn"]])
        attrs = sns.get_subscription_attributes(SubscriptionArn=out["SubscriptionArn"])["Attributes"]
        self.assertEqual((json.loads(attrs["FilterPolicy"]), attrs["RawMessageDelivery"]), ({"eventType": ["order.shipped"]}, "false"))
        sns.publish(TopicArn=out["TopicArn"], Message="shipped", MessageAttributes={"eventType": {"DataType": "String", "StringValue": "order.shipped"}})
        got = self.receive(out["QueueUrl"])
        self.assertEqual(len(got), 1)
        self.assertEqual(json.loads(got[0]["Body"])["Message"], "shipped")  # SNS's envelope

        # No filter: every message.
        del sub["FilterPolicy"]
        deploy(self.cfn, "orders-dev-data", updated)
        self.assertNotIn("FilterPolicy", sns.get_subscription_attributes(SubscriptionArn=out["SubscriptionArn"])["Attributes"])
        sns.publish(TopicArn=out["TopicArn"], Message="anything")
        self.assertEqual(len(self.receive(out["QueueUrl"])), 1)

    def test_subscription_create_only_properties(self) -> None:
        deploy(self.cfn, "orders-dev-data", messaging_template())
        updated = messaging_template()
        updated["Resources"]["Other"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders-dev-other"}}
        updated["Resources"]["EventsToWork"]["Properties"]["Endpoint"] = {"Fn::GetAtt": ["Other", "Arn"]}
        updated["Resources"]["EventsToWork"]["Properties"]["Protocol"] = "sqs"
        cs = change_set(self.cfn, "orders-dev-data", updated)
        change = changes_of(cs)["EventsToWork"]
        self.assertEqual((change["Replacement"], recreations(change)), ("True", {"Endpoint": "Always"}))
        self.cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])
        out = outputs(self.cfn.describe_stacks(StackName="orders-dev-data")["Stacks"][0])
        subs = client("sns").list_subscriptions_by_topic(TopicArn=out["TopicArn"])["Subscriptions"]
        self.assertEqual([(s["SubscriptionArn"], s["Endpoint"]) for s in subs], [(out["SubscriptionArn"], f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dev-other")])

        renamed = copy.deepcopy(updated)
        renamed["Resources"]["Events"]["Properties"]["TopicName"] = "orders-dev-events-2"
        change = changes_of(change_set(self.cfn, "orders-dev-data", renamed))["Events"]
        self.assertEqual((change["Replacement"], recreations(change)), ("True", {"TopicName": "Always"}))


class QueueBacklogScalingTest(EmulatorTest):
    def test_target_tracking_on_backlog_per_task(self) -> None:
        ecs = client("ecs")
        ecs.create_cluster(clusterName="platform")
        ecs.register_task_definition(family="thumbs-dev", containerDefinitions=[{"name": "app", "image": "thumbs:1", "memory": 512}])
        ecs.create_service(cluster="platform", serviceName="thumbs-dev", taskDefinition="thumbs-dev", desiredCount=1)

        def metric(id_: str, namespace: str, name: str, dims: dict[str, str], stat: str) -> dict[str, Any]:
            dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
            return {"Id": id_, "ReturnData": False, "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions}, "Stat": stat}}

        template = {
            "Resources": {
                "Target": {
                    "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                    "Properties": {
                        "ServiceNamespace": "ecs",
                        "ResourceId": "service/platform/thumbs-dev",
                        "ScalableDimension": "ecs:service:DesiredCount",
                        "MinCapacity": 1,
                        "MaxCapacity": 10,
                    },
                },
                "Backlog": {
                    "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                    "Properties": {
                        "PolicyName": "backlog-per-task",
                        "PolicyType": "TargetTrackingScaling",
                        "ScalingTargetId": {"Ref": "Target"},
                        "TargetTrackingScalingPolicyConfiguration": {
                            "TargetValue": 100,
                            "CustomizedMetricSpecification": {
                                "Metrics": [
                                    metric("m1", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "thumbs-dev-work"}, "Sum"),
                                    metric("m2", "ECS/ContainerInsights", "RunningTaskCount", {"ClusterName": "platform", "ServiceName": "thumbs-dev"}, "Average"),
                                    {"Id": "e1", "Expression": "m1 / m2", "Label": "backlog per task", "ReturnData": True},
                                ]
                            },
                        },
                    },
                },
            },
            "Outputs": {"PolicyArn": {"Value": {"Ref": "Backlog"}}},
        }
        stack = deploy(self.cfn, "thumbs-dev-app", template)
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", failure_reasons(self.cfn, "thumbs-dev-app"))
        aas = client("application-autoscaling")
        policy = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"][0]
        self.assertEqual(policy["PolicyARN"], outputs(stack)["PolicyArn"])
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        self.assertEqual(config["TargetValue"], 100)
        metrics = config["CustomizedMetricSpecification"]["Metrics"]
        self.assertEqual([(m["Id"], m["ReturnData"]) for m in metrics], [("m1", False), ("m2", False), ("e1", True)])
        self.assertEqual(metrics[0]["MetricStat"]["Metric"]["Dimensions"], [{"Name": "QueueName", "Value": "thumbs-dev-work"}])
        self.assertEqual(metrics[2]["Expression"], "m1 / m2")

        template["Resources"]["Backlog"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] = 50
        stack = deploy(self.cfn, "thumbs-dev-app", template)
        policy = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"][0]
        self.assertEqual((policy["PolicyARN"], policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]), (outputs(stack)["PolicyArn"], 50))


if __name__ == "__main__":
    sys.exit(unittest.main())
