#!/usr/bin/env python3
"""A Kejue webhook receiver in Python, standard library only (docs/receiving.md).

    KEJUE_WEBHOOK_SECRET=whsec_... python3 receiver.py        # listens on PORT (default 3000)

POST /webhooks/kejue: verifies X-Kejue-Signature (HMAC-SHA256 over "<X-Kejue-Timestamp>.<raw body>")
and the five-minute timestamp window, then calls handle_event. Answers 204 when handled, 400 when
the request is not a genuine delivery (Kejue does not retry a 4xx), and 500 when this receiver is
at fault (no secret configured, handle_event raised), so Kejue retries. CI runs this file against
real deliveries (test/receiver/python-receiver.test.ts).
"""
import hashlib
import hmac
import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = '/webhooks/kejue'
TOLERANCE_MS = 5 * 60 * 1000
MAX_BODY_BYTES = 5 * 1024 * 1024
SIGNATURE = re.compile(r'sha256=[0-9a-f]{64}')
TIMESTAMP = re.compile(r'(0|[1-9][0-9]{0,15})')


class VerificationError(Exception):
    """code is one of docs/receiving.md's codes; status is the answer to give."""

    def __init__(self, code, status=400):
        super().__init__(code)
        self.code = code
        self.status = status


def verify(raw_body, headers, secret, now_ms=None):
    """Returns the event; raises VerificationError. headers: anything with get_all(name)."""
    if not secret:
        raise VerificationError('MISSING_SECRET', 500)

    def header(name):
        values = headers.get_all(name) or []
        if len(values) > 1:
            raise VerificationError('INVALID_SIGNATURE_FORMAT')
        return values[0] if values and values[0] else None

    signature, timestamp = header('X-Kejue-Signature'), header('X-Kejue-Timestamp')
    if signature is None or timestamp is None:
        raise VerificationError('MISSING_HEADER')
    if not TIMESTAMP.fullmatch(timestamp):
        raise VerificationError('INVALID_TIMESTAMP')
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - int(timestamp)) > TOLERANCE_MS:
        raise VerificationError('TIMESTAMP_OUT_OF_RANGE')
    if not SIGNATURE.fullmatch(signature):
        raise VerificationError('INVALID_SIGNATURE_FORMAT')
    expected = 'sha256=' + hmac.new(secret.encode('utf-8'), timestamp.encode('ascii') + b'.' + raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise VerificationError('SIGNATURE_MISMATCH')
    try:
        event = json.loads(raw_body.decode('utf-8'))
    except ValueError:
        raise VerificationError('INVALID_BODY')
    if not isinstance(event, dict) or not isinstance(event.get('event'), str) or not isinstance(event.get('data'), dict):
        raise VerificationError('INVALID_BODY')
    return event


def handle_event(event, headers):
    """Your code: store or queue the event, and return quickly. Raising makes the answer 500."""
    print(f"{time.strftime('%H:%M:%S')}  {event['event']:<17} {event['event_id']}  "
          f"delivery {headers.get('X-Kejue-Delivery-Id')}  attempt {headers.get('X-Kejue-Attempt')}", flush=True)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != PATH:
            return self.answer(404, {'code': 'NOT_FOUND'})
        length = int(self.headers.get('Content-Length') or 0)
        if length > MAX_BODY_BYTES:
            return self.answer(413, {'code': 'BODY_TOO_LARGE'})
        raw_body = self.rfile.read(length)   # the exact bytes: never re-serialize before verifying
        try:
            event = verify(raw_body, self.headers, os.environ.get('KEJUE_WEBHOOK_SECRET'))
        except VerificationError as err:
            return self.answer(err.status, {'code': err.code})
        try:
            handle_event(event, self.headers)
        except Exception as err:   # your own failure: 500, so Kejue retries
            print(f'handle_event failed: {err!r}', file=sys.stderr, flush=True)
            return self.answer(500, {'code': 'INTERNAL'})
        self.answer(204)

    def answer(self, status, body=None):
        data = b'' if body is None else json.dumps(body).encode('utf-8')
        self.send_response(status)
        if data:
            self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):   # one line per delivery comes from handle_event instead
        pass


def main():
    server = ThreadingHTTPServer((os.environ.get('HOST', '127.0.0.1'), int(os.environ.get('PORT', '3000'))), Handler)
    host, port = server.server_address[:2]
    if not os.environ.get('KEJUE_WEBHOOK_SECRET'):
        print('warning: KEJUE_WEBHOOK_SECRET is not set; every delivery will be answered 500', file=sys.stderr, flush=True)
    print(f'Listening on http://{host}:{port}{PATH}', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
