"""tomodachi's SigV4 signer against an independent implementation: Debian's python3-botocore.

Every request is signed by both (same credentials, same instant) and the Authorization,
X-Amz-Date and X-Amz-Security-Token headers must be byte-identical.
"""
import datetime
import json
import os
import subprocess
import unittest
from unittest import mock

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TOOL = os.path.join(os.environ.get("TOMODACHI_BUILD_DIR", "build"), "bin", "aws_sigv4_tool")

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SQS_JSON = [["Content-Type", "application/x-amz-json-1.0"]]
FORM = [["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]]


def case(name, url, body="", headers=(), method="POST", token="", region="eu-west-1",
         service="sqs", epoch=1712345678, key=KEY, secret=SECRET):
    return {"name": name, "method": method, "url": url, "headers": [list(h) for h in headers],
            "body": body, "access_key_id": key, "secret_access_key": secret, "session_token": token,
            "region": region, "service": service, "epoch": epoch}


CASES = [
    case("sqs-json-receive", "http://127.0.0.1:4566/",
         '{"QueueUrl": "http://127.0.0.1:4566/000000000000/q", "WaitTimeSeconds": 20}',
         SQS_JSON + [["X-Amz-Target", "AmazonSQS.ReceiveMessage"]]),
    case("sqs-json-https-default-port", "https://sqs.eu-west-1.amazonaws.com:443/",
         '{"QueueName": "x"}', SQS_JSON + [["X-Amz-Target", "AmazonSQS.GetQueueUrl"]]),
    case("sns-form-publish", "https://sns.eu-west-1.amazonaws.com/",
         "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123%3At"
         "&Message=h%C3%A4llo%20%26%20%2B%3D%20w%C3%B6rld",
         FORM, service="sns"),
    case("sts-get-query", "https://sts.amazonaws.com/?Version=2011-06-15&Action=GetCallerIdentity",
         method="GET", service="sts", region="us-east-1"),
    case("session-token", "https://sqs.eu-west-1.amazonaws.com/", '{"QueueUrl": "u"}',
         SQS_JSON + [["X-Amz-Target", "AmazonSQS.DeleteMessage"]],
         token="IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+example/token=="),
    case("unusual-path-and-query",
         "http://Localhost:9324/000000000000/queue%20name/./a/../b//c%2Fd~e%C3%A5?b=2&a=1&a=0&c&e=%2B%20x&d=",
         method="GET", service="sqs"),
    case("unusual-header-values", "https://sns.us-gov-west-1.amazonaws.com/path/",
         "Action=ListTopics", FORM + [["X-Custom-Header", "  a   b\t c  "], ["x-amz-meta-Mixed", "Value:With;Chars"]],
         service="sns", region="us-gov-west-1"),
    case("unicode-json-body", "http://[::1]:8080/", '{"MessageBody": "友達 😀 \\u00e5"}',
         SQS_JSON + [["X-Amz-Target", "AmazonSQS.SendMessage"]]),
    case("empty-body", "http://127.0.0.1:4566/", "", FORM, service="sns"),
    case("ignored-headers", "http://127.0.0.1:4566/", "Action=ListTopics",
         FORM + [["User-Agent", "tomodachi/0.1"], ["X-Amzn-Trace-Id", "Root=1"]], service="sns"),
    case("leap-day-midnight", "http://127.0.0.1:4566/", "{}",
         SQS_JSON + [["X-Amz-Target", "AmazonSQS.ListQueues"]], epoch=1709164800),
    case("secret-with-symbols", "http://127.0.0.1:4566/", "{}", SQS_JSON,
         key="ASIA/KEY+1", secret="s3cr3t/+=%&\u00e5"),
]


def botocore_sign(spec):
    request = AWSRequest(method=spec["method"], url=spec["url"], headers=dict(spec["headers"]),
                         data=spec["body"].encode("utf-8"))
    fixed = datetime.datetime.utcfromtimestamp(spec["epoch"])

    class FixedDateTime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    credentials = Credentials(spec["access_key_id"], spec["secret_access_key"],
                              spec["session_token"] or None)
    with mock.patch.object(botocore.auth.datetime, "datetime", FixedDateTime):
        signer = SigV4Auth(credentials, spec["service"], spec["region"])
        canonical = None
        original = signer.canonical_request

        def capture(req):
            nonlocal canonical
            canonical = original(req)
            return canonical

        signer.canonical_request = capture
        signer.add_auth(request)
    return {"authorization": request.headers["Authorization"],
            "x_amz_date": request.headers["X-Amz-Date"],
            "x_amz_security_token": request.headers.get("X-Amz-Security-Token"),
            "canonical_request": canonical}


class SigV4AgainstBotocore(unittest.TestCase):
    def test_authorization_headers_are_identical(self):
        output = subprocess.run([TOOL], input=json.dumps(CASES), capture_output=True, text=True, check=True)
        ours = json.loads(output.stdout)
        self.assertEqual(len(ours), len(CASES))
        for spec, mine in zip(CASES, ours):
            with self.subTest(spec["name"]):
                theirs = botocore_sign(spec)
                self.assertEqual(mine["canonical_request"], theirs["canonical_request"])
                self.assertEqual(mine["authorization"], theirs["authorization"])
                self.assertEqual(mine["x_amz_date"], theirs["x_amz_date"])
                self.assertEqual(mine.get("x_amz_security_token"), theirs["x_amz_security_token"])


if __name__ == "__main__":
    unittest.main()
