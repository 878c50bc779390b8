"""Tests of the emulator extensions issue 12 needs: the template-size limit,
ECS tasks that stop with an exit code and write log lines, and EventBridge
Scheduler schedules in CloudFormation.

They share test_emulator.py's emulator helpers (start, reset, clients):

    .venv/bin/python -m unittest discover -s e2e/emulator
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.exceptions import ClientError

import test_emulator as emu


def setUpModule() -> None:  # noqa: N802 - unittest's name
    emu.setUpModule()


def tearDownModule() -> None:  # noqa: N802 - unittest's name
    emu.tearDownModule()


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
