"""Tests of the emulator extensions issue 12 needs: the template-size limit,
ECS tasks that stop with an exit code and write log lines, and EventBridge
Scheduler schedules in CloudFormation.

They share test_emulator.py's emulator helpers (start, reset, clients):

    .venv/bin/python -m unittest discover -s e2e/emulator
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

import test_emulator as emu


def _close_pipes() -> None:
    """Close the pipes of an emulator test_emulator.py started and stopped."""
    server = emu._server
    if server is not None and server.poll() is not None:
        for pipe in (server.stdout, server.stderr):
            if pipe is not None:
                pipe.close()


def setUpModule() -> None:  # noqa: N802 - unittest's name
    _close_pipes()
    emu.setUpModule()


def tearDownModule() -> None:  # noqa: N802 - unittest's name
    emu.tearDownModule()
    _close_pipes()


def padded_template(size: int) -> str:
    """A valid template of exactly size bytes: one bucket and Metadata
    padding."""
    doc: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Metadata": {"Padding": ""},
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
    }
    bare = len(json.dumps(doc))
    doc["Metadata"]["Padding"] = "x" * (size - bare)
    body = json.dumps(doc)
    assert len(body) == size, (len(body), size)
    return body


class TemplateSizeTest(emu.EmulatorTest):
    def change_set(self, cfn: Any, stack: str, **template: str) -> dict[str, Any]:
        resp = cfn.create_change_set(
            StackName=stack, ChangeSetName=f"gantry-{uuid.uuid4().hex[:12]}", ChangeSetType="CREATE", **template
        )
        return emu.wait_change_set(cfn, resp["Id"])

    def test_body_over_51200_bytes_is_refused(self) -> None:
        cfn = emu.client("cloudformation")
        for call in (
            lambda body: cfn.create_change_set(StackName="big", ChangeSetName="gantry-big", ChangeSetType="CREATE", TemplateBody=body),
            lambda body: cfn.create_stack(StackName="big", TemplateBody=body),
            lambda body: cfn.validate_template(TemplateBody=body),
        ):
            with self.assertRaises(ClientError) as caught:
                call(padded_template(51_201))
            err = caught.exception.response["Error"]
            self.assertEqual(err["Code"], "ValidationError")
            self.assertIn("Member must have length less than or equal to 51200", err["Message"])
        self.assertFalse(emu.stack_exists(cfn, "big"))

    def test_body_of_51200_bytes_is_taken(self) -> None:
        cfn = emu.client("cloudformation")
        cs = self.change_set(cfn, "edge", TemplateBody=padded_template(51_200))
        self.assertEqual(cs["Status"], "CREATE_COMPLETE", cs.get("StatusReason"))

    def test_a_large_template_comes_by_url(self) -> None:
        s3 = emu.client("s3")
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="artifacts", Key="templates/big.json", Body=padded_template(60_000).encode())
        cfn = emu.client("cloudformation")
        url = f"https://artifacts.s3.{emu.REGION}.amazonaws.com/templates/big.json"
        cs = self.change_set(cfn, "big", TemplateURL=url)
        self.assertEqual(cs["Status"], "CREATE_COMPLETE", cs.get("StatusReason"))
        cfn.execute_change_set(ChangeSetName=cs["ChangeSetId"])
        body = cfn.get_template(StackName="big")["TemplateBody"]
        text = body if isinstance(body, str) else json.dumps(body)
        self.assertGreater(len(text), 51_200)

        s3.put_object(Bucket="artifacts", Key="templates/huge.json", Body=padded_template(1_000_001).encode())
        with self.assertRaises(ClientError) as caught:
            cfn.create_change_set(StackName="huge", ChangeSetName="gantry-huge", ChangeSetType="CREATE",
                                  TemplateURL=f"https://artifacts.s3.{emu.REGION}.amazonaws.com/templates/huge.json")
        self.assertIn("Template may not exceed 1000000 bytes", caught.exception.response["Error"]["Message"])


def schedule_template(expression: str, retries: int = 1) -> dict[str, Any]:
    """A cluster, a task definition, a role and a schedule starting the task
    on the cluster, wired as gantry's app stack wires a scheduled job."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"}, "Group": {"Type": "String"}},
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "jobs"}},
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": "shop-dev-report",
                    "RequiresCompatibilities": ["FARGATE"],
                    "NetworkMode": "awsvpc",
                    "Cpu": "256",
                    "Memory": "512",
                    "ContainerDefinitions": [{"Name": "report", "Image": "repo/shop:1", "Command": ["bin/report"]}],
                },
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}]}},
            },
            "Schedule": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "ScheduleExpression": expression,
                    "ScheduleExpressionTimezone": "Europe/Berlin",
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Target": {
                        "Arn": {"Fn::GetAtt": ["Cluster", "Arn"]},
                        "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                        "EcsParameters": {
                            "TaskDefinitionArn": {"Ref": "Task"},
                            "LaunchType": "FARGATE",
                            "TaskCount": 1,
                            "NetworkConfiguration": {"AwsvpcConfiguration": {
                                "Subnets": [{"Ref": "Subnets"}], "SecurityGroups": [{"Ref": "Group"}], "AssignPublicIp": "DISABLED"}},
                        },
                        "RetryPolicy": {"MaximumRetryAttempts": str(retries)},
                    },
                },
            },
        },
        "Outputs": {"Name": {"Value": {"Ref": "Schedule"}}, "Arn": {"Value": {"Fn::GetAtt": ["Schedule", "Arn"]}}},
    }


class SchedulerTest(emu.EmulatorTest):
    def test_schedule_through_a_change_set(self) -> None:
        ec2 = emu.client("ec2")
        _, subnets = emu.make_network(ec2)
        params = {"Subnets": ",".join(subnets), "Group": "sg-123"}
        stack = emu.deploy(self.cfn, "jobs", schedule_template("cron(0 3 * * ? *)"), params)
        out = emu.outputs(stack)
        sched = emu.client("scheduler")
        got = sched.get_schedule(Name=out["Name"])
        self.assertEqual(got["Arn"], out["Arn"])
        self.assertLessEqual(len(out["Name"]), 64)
        self.assertEqual(got["ScheduleExpression"], "cron(0 3 * * ? *)")
        self.assertEqual(got["ScheduleExpressionTimezone"], "Europe/Berlin")
        self.assertEqual(got["FlexibleTimeWindow"], {"Mode": "OFF"})
        target = got["Target"]
        self.assertTrue(target["Arn"].endswith(":cluster/jobs"), target["Arn"])
        self.assertIn(":task-definition/shop-dev-report:", target["EcsParameters"]["TaskDefinitionArn"])
        self.assertEqual(target["EcsParameters"]["NetworkConfiguration"]["awsvpcConfiguration"]["Subnets"], subnets)
        self.assertEqual(target["RetryPolicy"]["MaximumRetryAttempts"], 1)

        emu.deploy(self.cfn, "jobs", schedule_template("rate(15 minutes)", retries=3), params)
        got = sched.get_schedule(Name=out["Name"])
        self.assertEqual(got["ScheduleExpression"], "rate(15 minutes)")
        self.assertEqual(got["Target"]["RetryPolicy"]["MaximumRetryAttempts"], 3)

        self.cfn.delete_stack(StackName="jobs")
        with self.assertRaises(ClientError):
            sched.get_schedule(Name=out["Name"])


class TaskRunTest(emu.EmulatorTest):
    def setUp(self) -> None:
        super().setUp()
        self.ecs, self.logs = emu.client("ecs"), emu.client("logs")
        ec2 = emu.client("ec2")
        vpc, self.subnets = emu.make_network(ec2)
        self.group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
        self.ecs.create_cluster(clusterName="demo")
        self.logs.create_log_group(logGroupName="/gantry/shop/dev")
        self.ecs.register_task_definition(
            family="shop-dev-migrate",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[{
                "name": "migrate",
                "image": "repo/shop:1",
                "command": ["sh", "-c", "echo migrating $STAGE; sleep 1.5; echo done in ${STAGE}; exit 3"],
                "environment": [{"name": "STAGE", "value": "dev"}],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": "/gantry/shop/dev", "awslogs-region": emu.REGION, "awslogs-stream-prefix": "shop"}},
            }],
        )

    def run_task(self, **overrides: Any) -> dict[str, Any]:
        return self.ecs.run_task(
            cluster="demo", taskDefinition="shop-dev-migrate", launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": self.subnets, "securityGroups": [self.group], "assignPublicIp": "DISABLED"}},
            **overrides,
        )["tasks"][0]

    def describe(self, arn: str) -> dict[str, Any]:
        return self.ecs.describe_tasks(cluster="demo", tasks=[arn])["tasks"][0]

    def log(self, arn: str) -> list[str]:
        stream = "shop/migrate/" + arn.rsplit("/", 1)[1]
        events = self.logs.get_log_events(logGroupName="/gantry/shop/dev", logStreamName=stream, startFromHead=True)["events"]
        return [e["message"] for e in events]

    def test_task_logs_and_stops_with_its_exit_code(self) -> None:
        task = self.run_task()
        arn = task["taskArn"]
        self.assertEqual(task["lastStatus"], "RUNNING")
        running = self.describe(arn)
        self.assertEqual(running["lastStatus"], "RUNNING")
        self.assertEqual(self.log(arn), ["migrating dev"])
        time.sleep(1.7)
        stopped = self.describe(arn)
        self.assertEqual(stopped["lastStatus"], "STOPPED")
        self.assertEqual(stopped["stopCode"], "EssentialContainerExited")
        self.assertEqual(stopped["containers"][0]["exitCode"], 3)
        self.assertEqual(self.log(arn), ["migrating dev", "done in dev"])

    def test_override_command_and_plain_commands(self) -> None:
        task = self.run_task(overrides={"containerOverrides": [{"name": "migrate", "command": ["bin/migrate", "--dry-run"]}]})
        stopped = self.describe(task["taskArn"])
        self.assertEqual(stopped["lastStatus"], "STOPPED")
        self.assertEqual(stopped["containers"][0]["exitCode"], 0)
        self.assertEqual(self.log(task["taskArn"]), ["emulator: would run: bin/migrate --dry-run"])

    def test_stop_task(self) -> None:
        task = self.run_task(overrides={"containerOverrides": [{"name": "migrate", "command": ["sh", "-c", "echo up; sleep 60"]}]})
        self.ecs.stop_task(cluster="demo", task=task["taskArn"], reason="gantry: timeout")
        stopped = self.describe(task["taskArn"])
        self.assertEqual((stopped["lastStatus"], stopped["stopCode"], stopped["containers"][0]["exitCode"]), ("STOPPED", "UserInitiated", 143))
        self.assertEqual(stopped["stoppedReason"], "gantry: timeout")
        self.assertEqual(self.log(task["taskArn"]), ["up"])
