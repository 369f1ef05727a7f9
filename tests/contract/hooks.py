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

And: Hypothesis's target phase is left out. Its optimiser (hill climbing on
the scores Schemathesis reports through `hypothesis.target`) can index a node
of a test case that has meanwhile been replaced by a shorter one
(`Optimiser.hill_climb`, hypothesis 6.170.17 and still in 6.170.27): "IndexError:
Index 40 out of range [-40, 40)". It failed one CI run that way, inside
Hypothesis, with nothing wrong in the service. Every other phase runs; the
generated cases are no less varied, only no longer steered towards the scores.
"""
import ast
import threading
import uuid

import hypothesis
import schemathesis
from schemathesis.config._projects import ProjectConfig

_parse, _parse_lock = ast.parse, threading.Lock()


def _serialised_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serialised_parse

_settings = ProjectConfig.get_hypothesis_settings


def _settings_without_target(self, *args, **kwargs):
    settings = _settings(self, *args, **kwargs)
    phases = tuple(p for p in settings.phases if p != hypothesis.Phase.target)
    return hypothesis.settings(settings, phases=phases)


ProjectConfig.get_hypothesis_settings = _settings_without_target


@schemathesis.hook
def before_call(context, case, **kwargs):
    gestures = ("/v1/customers/{id}/gestures", "/v1/customers/by-ref/{external_ref}/gestures")
    if case.operation.path in gestures and case.method.upper() == "POST":
        headers = case.headers or {}
        if not any(k.lower() == "idempotency-key" for k in headers):
            headers["Idempotency-Key"] = uuid.uuid4().hex
            case.headers = headers
