"""Schemathesis hooks for tests/contract/run.sh.

A gesture request needs an Idempotency-Key when its kind moves money, which the
contract cannot say per kind (the header is optional there: recognitions and
favours need none). A client that follows the contract sends a fresh key with
every gesture request; so does this hook, when the generated case has none.
Every other operation's header is left to Schemathesis: where the contract
requires it, its "missing header" cases must still get 400.
"""
import uuid

import schemathesis


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.operation.path == "/v1/customers/{id}/gestures" and case.method.upper() == "POST":
        headers = case.headers or {}
        if not any(k.lower() == "idempotency-key" for k in headers):
            headers["Idempotency-Key"] = uuid.uuid4().hex
            case.headers = headers
