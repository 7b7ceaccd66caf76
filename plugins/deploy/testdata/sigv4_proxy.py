#!/usr/bin/python3
"""A reverse proxy in front of s3rver that checks every request's AWS Signature V4 the way S3
does, with botocore (Debian's python3-botocore) computing the expected signature.

s3rver checks only the access key, so without this the deploy stage's signing of real requests
(host header, multipart query strings, x-amz-security-token) would go unchecked. A request whose
signature, credential scope, payload hash or session token is wrong gets S3's 403
SignatureDoesNotMatch / InvalidToken; a good one is forwarded to the upstream unchanged. One line
per request goes to --log: "OK <method> <path>" or "BAD <method> <path>: <why>".

Usage: sigv4_proxy.py --port P --upstream http://127.0.0.1:Q --access-key AK --secret-key SK
                      [--session-token T] [--region us-east-1] --log FILE
"""

import argparse
import hashlib
import http.client
import http.server
import re
import threading
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

# S3 accepts the three parts separated by "," or ", ".
AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?"
                  r"SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class SignedHeadersOnly(S3SigV4Auth):
    """S3's canonicalisation over exactly the headers the client listed in SignedHeaders."""

    def __init__(self, credentials, region, signed):
        super().__init__(credentials, "s3", region)
        self.signed = signed

    def headers_to_sign(self, request):
        headers = HTTPHeaders()
        for name in self.signed:
            value = request.headers.get(name)
            if value is not None:
                headers[name] = value
        return headers


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        problem, code = self.check(body)
        with self.server.lock:
            with open(self.server.args.log, "a") as log:
                log.write(f"{'BAD' if problem else 'OK'} {self.command} {self.path}"
                          f"{': ' + problem if problem else ''}\n")
        if problem:
            error = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
                     f"<Message>{problem}</Message></Error>").encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(error)
            return
        self.forward(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_any

    def check(self, body):
        args = self.server.args
        match = AUTH.match(self.headers.get("Authorization", ""))
        if not match:
            return "no AWS4-HMAC-SHA256 Authorization header", "AccessDenied"
        access_key, date, region, service, signed, signature = match.groups()
        if access_key != args.access_key:
            return f"unknown access key {access_key}", "InvalidAccessKeyId"
        amz_date = self.headers.get("x-amz-date", "")
        if region != args.region or service != "s3" or not amz_date.startswith(date):
            return f"credential scope {date}/{region}/{service} does not match", \
                "SignatureDoesNotMatch"
        names = signed.split(";")
        for required in ("host", "x-amz-date", "x-amz-content-sha256"):
            if required not in names:
                return f"{required} is not signed", "SignatureDoesNotMatch"
        if args.session_token is not None:
            if "x-amz-security-token" not in names:
                return "x-amz-security-token missing from SignedHeaders", "InvalidToken"
            if self.headers.get("x-amz-security-token") != args.session_token:
                return "wrong x-amz-security-token", "InvalidToken"
        payload = self.headers.get("x-amz-content-sha256", "")
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
            return "x-amz-content-sha256 does not match the body", "XAmzContentSHA256Mismatch"
        parts = urllib.parse.urlsplit(self.path)
        request = AWSRequest(method=self.command, url=f"http://{self.headers['host']}{parts.path}",
                             headers={k.lower(): v for k, v in self.headers.items()}, data=body)
        # What S3 canonicalises is the decoded query, re-encoded (botocore does the encoding).
        request.params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        request.context["timestamp"] = amz_date
        auth = SignedHeadersOnly(Credentials(args.access_key, args.secret_key,
                                             args.session_token), args.region, names)
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if expected != signature:
            return f"signature mismatch; canonical request was {canonical!r}", \
                "SignatureDoesNotMatch"
        return None, None

    def forward(self, body):
        upstream = urllib.parse.urlsplit(self.server.args.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        # A HEAD answer keeps the object's length without a body.
        length = response.getheader("Content-Length") if self.command == "HEAD" else len(data)
        self.send_header("Content-Length", str(length or 0))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--session-token")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.args = args
    server.lock = threading.Lock()
    server.serve_forever()


if __name__ == "__main__":
    main()
