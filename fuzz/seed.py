#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the shared conformance vectors (tests/vectors), in the input
encodings of fuzz/src/checks/input.rs. Run once before the first fuzzing (scripts/fuzz does it
when a target's corpus is empty); libFuzzer and `cargo fuzz cmin` take it from there."""

import base64
import hashlib
import json
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "tests", "vectors")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
KNOWN_HEADERS = ["retry-after", "Retry-After", "date", "Date", "x-request-id", "X-Request-Id", "content-type", "RETRY-AFTER", "DATE"]


def short(b):
    b = b[:255]
    return bytes([len(b)]) + b


def encode_response(r):
    status = r.get("status", 200)
    out = b"\x00" if status == 200 else b"\x80" + struct.pack(">H", status & 0xFFFF)
    headers = r.get("headers", [])[:7]
    out += bytes([len(headers)])
    for name, value in headers:
        if name in KNOWN_HEADERS:
            out += bytes([KNOWN_HEADERS.index(name)])
        else:
            out += b"\xff" + short(name.encode())
        out += short(value.encode())
    if "body" in r:
        out += r["body"].encode()
    elif "body_json" in r:
        out += json.dumps(r["body_json"], separators=(",", ":")).encode()
    elif "body_base64" in r:
        out += base64.b64decode(r["body_base64"])
    return out


def write(target, data, only_if_empty):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if only_if_empty and target in only_if_empty:
        return
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def load(name):
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)["vectors"]


def main():
    targets = sys.argv[1:]  # seed only these (default: every target whose corpus is empty)
    skip = set()
    for t in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        if os.listdir(os.path.join(CORPUS, t)) and (not targets or t not in targets):
            skip.add(t)
    w = lambda t, d: write(t, d, skip)

    for v in load("responses.json"):
        resp = encode_response(v["response"])
        t = v["target"]
        if t == "parse_delete":
            w(t, short(v.get("delete_id", "job_1").encode()) + resp)
        elif t == "error_from_response":
            w(t, b"\x00\x00\x00\x00" + resp)
            w("retry_after", b"\x00" * 13 + resp)
        else:
            w(t, resp)
        for h in v["response"].get("headers", []):
            if h[0].lower() in ("retry-after", "date"):
                w("http_date", b"\x00" + h[1].encode())
    for v in load("retry.json"):
        o = v.get("input", {}).get("outcome", {})
        if "status" in o:
            w("error_from_response", b"\x01\x01\x00\x00\x10\x00\x00\x00" + encode_response(o))
            w("retry_after", b"\x00" * 13 + encode_response(o))
    for f in ("validation.json", "bad_input.json"):
        for v in load(f):
            text = json.dumps(v["input"]).encode()
            t = v["target"]
            if t == "create_request":
                w("validate_create", b"\x00" + text)
            elif t == "job_id":
                w("validate_loose", b"\x00" + v["input"].encode())
            elif t == "list_params":
                w("validate_loose", b"\x01\x00" + text)
            elif t == "api_key":
                w("validate_loose", b"\x02" + v["input"].encode())
            elif t == "jwt":
                w("validate_loose", b"\x03" + v["input"].encode())
    for v in load("pricing.json"):
        if v["target"] == "from_json":
            w("pricing_table", b"\x00" * 8 + b"\x00" + json.dumps(v["input"]["table"]).encode())
            w("parse_pricing", b"\x00\x00" + json.dumps(v["input"]["table"]).encode())
    for text in ["2026-04-21T15:30:00Z", "2026-04-21T17:30:00.5+02:00", "Sun, 06 Nov 1994 08:49:37 GMT", "1970-01-01T00:00:00Z"]:
        w("http_date", b"\x00" + text.encode())
    w("http_date", bytes([1, 7, 0xEA, 3, 20, 15, 30, 0, 2, 0]))
    rng = random.Random(7)
    for t in ("machine_call", "machine_create", "machine_job_run", "machine_batch"):
        for n in (8, 32, 64, 128, 256):
            w(t, bytes(rng.randrange(256) for _ in range(n)))
    for t in ("validate_create", "validate_loose", "pricing_table"):
        for n in (16, 64):
            w(t, bytes([1]) + bytes(rng.randrange(256) for _ in range(n)))


if __name__ == "__main__":
    main()
