"""A PLC directory stand-in for VM tests: nobody packages did-method-plc, and a PDS cannot
create an account without one. It keeps the operations it is sent and answers the reads a PDS,
a relay and Jetstream make, in the shapes of the did-method-plc HTTP API:

  POST /<did>            store a signed operation (not verified: this is a test fixture)
  GET  /<did>            the DID document derived from the last operation
  GET  /<did>/data       the last operation's data (rotationKeys, verificationMethods, ...)
  GET  /<did>/log        every operation; /log/last, /log/audit as in did-method-plc
  GET  /_health          {"version": "plc-stand-in"}

Signatures and the DID's derivation from the genesis operation are not checked: it trusts
whoever writes. Never run it outside a test.

  python3 plc-stand-in.py --port 2582 [--bind 127.0.0.1]
"""

import argparse
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

OPS = {}
LOCK = threading.Lock()


def did_document(did, op):
    doc = {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/suites/secp256k1-2019/v1",
        ],
        "id": did,
        "alsoKnownAs": op.get("alsoKnownAs", []),
        "verificationMethod": [],
        "service": [],
    }
    for name, key in sorted(op.get("verificationMethods", {}).items()):
        doc["verificationMethod"].append(
            {
                "id": f"{did}#{name}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.removeprefix("did:key:"),
            }
        )
    for name, service in sorted(op.get("services", {}).items()):
        doc["service"].append(
            {
                "id": f"#{name}",
                "type": service.get("type", ""),
                "serviceEndpoint": service.get("endpoint", ""),
            }
        )
    return doc


def op_data(op):
    keys = ("rotationKeys", "verificationMethods", "alsoKnownAs", "services")
    return {k: op.get(k) for k in keys}


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self, did):
        self.reply(404, {"message": f"DID not registered: {did}"})

    def do_GET(self):
        path = unquote(self.path.split("?", 1)[0]).strip("/")
        if path == "_health":
            return self.reply(200, {"version": "plc-stand-in"})
        did, _, rest = path.partition("/")
        with LOCK:
            log = list(OPS.get(did, []))
        if not log:
            return self.not_found(did)
        last = log[-1]["operation"]
        views = {
            "": lambda: did_document(did, last),
            "data": lambda: {"did": did, **op_data(last)},
            "log": lambda: [entry["operation"] for entry in log],
            "log/last": lambda: last,
            "log/audit": lambda: log,
        }
        view = views.get(rest)
        if view is None:
            return self.reply(404, {"message": f"no such route: /{path}"})
        self.reply(200, view())

    def do_POST(self):
        # Clients may percent-encode the DID's colons.
        did = unquote(self.path.split("?", 1)[0]).strip("/")
        if not did.startswith("did:plc:") or "/" in did:
            return self.reply(400, {"message": "POST /did:plc:<id> with an operation"})
        length = int(self.headers.get("Content-Length", "0"))
        try:
            op = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return self.reply(400, {"message": "the body is not JSON"})
        if not isinstance(op, dict):
            return self.reply(400, {"message": "the operation must be a JSON object"})
        entry = {
            "did": did,
            "operation": op,
            "cid": f"stand-in-{did}-{len(OPS.get(did, []))}",
            "nullified": False,
            "createdAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        with LOCK:
            OPS.setdefault(did, []).append(entry)
        self.reply(200, {})

    def log_message(self, fmt, *args):
        print(f"plc-stand-in: {self.command} {self.path} " + (fmt % args), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2582)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    print(f"plc-stand-in: listening on {args.bind}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
