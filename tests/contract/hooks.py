"""Schemathesis hooks for tests/contract/run.sh.

A gesture request needs an Idempotency-Key when its kind moves money, which the
contract cannot say per kind (the header is optional there: recognitions and
favours need none). A client that follows the contract sends a fresh key with
every gesture request; so does this hook, when the generated case has none.
Every other operation's header is left to Schemathesis: where the contract
requires it, its "missing header" cases must still get 400.

Also: `ast.parse` is serialised. CPython 3.11 up to 3.11.7 (this machine's)
keeps the AST constructor's recursion counter in per-interpreter state, so two
threads parsing at once (`--workers 2`; Hypothesis parses source files to
describe lambdas) can corrupt it and fail with "SystemError: AST constructor
recursion depth mismatch" (CPython gh-106905). It failed one CI run that way,
inside Schemathesis, with nothing wrong in the service.
"""
import ast
import threading
import uuid

import schemathesis

_parse, _parse_lock = ast.parse, threading.Lock()


def _serialised_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serialised_parse


@schemathesis.hook
def before_call(context, case, **kwargs):
    gestures = ("/v1/customers/{id}/gestures", "/v1/customers/by-ref/{external_ref}/gestures")
    if case.operation.path in gestures and case.method.upper() == "POST":
        headers = case.headers or {}
        if not any(k.lower() == "idempotency-key" for k in headers):
            headers["Idempotency-Key"] = uuid.uuid4().hex
            case.headers = headers
