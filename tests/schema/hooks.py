"""schemathesis hooks for keyward (loaded through SCHEMATHESIS_HOOKS by tests/schema/run.mjs).

Credentials of the run's own: each one is the first admin token of a new org made with the
operator secret. A run may revoke, rotate or delete the very token it calls with (it learns token
ids from answers), so whenever an answer is 401 the provider makes a new org and carries on.
"""
import itertools
import json
import os
import urllib.request

import schemathesis

BASE = os.environ["KEYWARD_BASE"]
OPERATOR = os.environ["KEYWARD_OPERATOR"]
_orgs = itertools.count(1)


@schemathesis.auth(retry_on=[401])
class FreshOrg:
    def get(self, case, context):
        n = next(_orgs)
        body = {"name": f"Schema {n}", "modules": ["billing", "users:read"],
                "admin": {"email": f"schema{n}@example.com", "name": "Schema"}}
        request = urllib.request.Request(
            f"{BASE}/v1/orgs",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {OPERATOR}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)["secret"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
