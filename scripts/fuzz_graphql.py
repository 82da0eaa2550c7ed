"""Helpers for scripts/fuzz-graphql.sh (see docs/fuzzing.md).

Two roles in one file:

* Imported by schemathesis as its hooks file (``SCHEMATHESIS_HOOKS=scripts/fuzz_graphql.py``):

  - it registers the checks that every fuzzed response must pass:

    - ``status_below_500``: no HTTP status of 500 or above;
    - ``body_is_graphql_json``: a body is present and is one JSON object with ``data`` and/or
      ``errors`` (a GraphQL response, whatever the status);
    - ``errors_have_code``: every entry of ``errors`` is an object whose ``extensions.code`` is
      a non-empty string (docs/api.md: every error carries a stable code);
    - ``no_internal_error``: no error has the code ``INTERNAL`` (the server's own fault, the
      GraphQL twin of a 500). Left out when ``FUZZ_ALLOW_INTERNAL=1``.

    Each failure is also appended, with the request and the response, to the JSON-lines file
    named by ``FUZZ_FINDINGS`` so that the script can show what triggered it.

  - it registers strategies for the custom scalars: ``Date`` (mostly dates around the demo's
    years, sometimes any date from year 1 to 9999, sometimes a string that is no date) and
    ``JSON`` (objects whose keys are mostly the workflows' declared input names, with values of
    the declared type or of another; ``FUZZ_VALUES`` names the file ``prepare`` wrote).

* Run as a program (with the virtualenv's python), it does the JSON chores of the shell script:
  ``login-body``, ``token``, ``checks``, ``prepare``, ``probe`` (about twenty requests that no
  GraphQL generator sends, such as bodies that are not one GraphQL request, under the same
  checks) and ``summary``.

schemathesis's built-in ``not_a_server_error`` is not used: in GraphQL mode it also reports
every resolver error that has a ``path`` and a code it does not know (``NOT_FOUND``,
``FORBIDDEN``, ``VALIDATION``, …) as a "server error", and for this API those are the normal
answers to bad input. ``status_below_500`` judges the status alone.
"""

from __future__ import annotations

import json
import os
import sys
import threading

_MAX_BODY = 4000
_lock = threading.Lock()

CHECKS = ["status_below_500", "body_is_graphql_json", "errors_have_code", "no_internal_error"]


def _enabled_checks() -> list[str]:
    if os.environ.get("FUZZ_ALLOW_INTERNAL") == "1":
        return [c for c in CHECKS if c != "no_internal_error"]
    return CHECKS


# --- checks -----------------------------------------------------------------------------------


def _text(data) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    return data if len(data) <= _MAX_BODY else data[:_MAX_BODY] + f"… ({len(data)} chars)"


def _record(check: str, problem: str, response, case) -> None:
    path = os.environ.get("FUZZ_FINDINGS")
    if not path:
        return
    request = getattr(response, "request", None)
    headers = dict(request.headers) if request is not None else {}
    entry = {
        "check": check,
        "problem": problem,
        "operation": getattr(getattr(case, "operation", None), "label", None),
        "status": response.status_code,
        "request_headers": {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")},
        "request_body": _text(getattr(request, "body", None)),
        "response_body": _text(response.content),
    }
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _fail(check: str, problem: str, response, case) -> None:
    _record(check, problem, response, case)
    raise AssertionError(problem)


def _payload(response):
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


# What the responses said, for the summary: `data` without errors, or each error's code.
# Approximate (shrinking replays some requests), and only informative.
_outcomes: dict[str, int] = {}


def _count(outcome: str) -> None:
    with _lock:
        _outcomes[outcome] = _outcomes.get(outcome, 0) + 1


def _write_outcomes() -> None:
    path = os.environ.get("FUZZ_OUTCOMES")
    if path and _outcomes:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(_outcomes, f, indent=1, sort_keys=True)


def _register_checks() -> None:
    import atexit

    import schemathesis

    atexit.register(_write_outcomes)

    @schemathesis.check
    def status_below_500(ctx, response, case):
        """The server never answers with a 5xx status."""
        if response.status_code >= 500:
            _fail("status_below_500", f"HTTP {response.status_code}: {_text(response.content)[:300]}", response, case)

    @schemathesis.check
    def body_is_graphql_json(ctx, response, case):
        """Every response has a body, and it is a JSON object with `data` and/or `errors`."""
        if not response.content:
            _fail("body_is_graphql_json", f"HTTP {response.status_code} with an empty body", response, case)
        payload = _payload(response)
        if not isinstance(payload, dict):
            _fail(
                "body_is_graphql_json",
                f"HTTP {response.status_code}: the body is not a JSON object: {_text(response.content)[:300]}",
                response,
                case,
            )
        if "data" not in payload and "errors" not in payload:
            _fail("body_is_graphql_json", f"HTTP {response.status_code}: neither `data` nor `errors`", response, case)

    @schemathesis.check
    def errors_have_code(ctx, response, case):
        """Every entry of `errors` has a non-empty string `extensions.code`."""
        payload = _payload(response)
        if not isinstance(payload, dict):
            _count(f"HTTP {response.status_code}, not JSON")
            return
        if not payload.get("errors"):
            _count("data, no error" if payload.get("data") is not None else "no data, no error")
        else:
            for error in payload["errors"] if isinstance(payload["errors"], list) else []:
                ext = error.get("extensions") if isinstance(error, dict) else None
                _count(str(ext.get("code")) if isinstance(ext, dict) else "error without code")
        if "errors" not in payload:
            return
        errors = payload["errors"]
        if not isinstance(errors, list):
            _fail("errors_have_code", "`errors` is not a list", response, case)
        for i, error in enumerate(errors):
            ext = error.get("extensions") if isinstance(error, dict) else None
            code = ext.get("code") if isinstance(ext, dict) else None
            if not isinstance(code, str) or not code:
                message = error.get("message") if isinstance(error, dict) else error
                _fail(
                    "errors_have_code",
                    f"errors[{i}] has no extensions.code: {json.dumps(message, ensure_ascii=False)[:300]}",
                    response,
                    case,
                )

    if "no_internal_error" in _enabled_checks():

        @schemathesis.check
        def no_internal_error(ctx, response, case):
            """No error is `INTERNAL` (the server's own fault)."""
            payload = _payload(response)
            if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list):
                return
            for i, error in enumerate(payload["errors"]):
                ext = error.get("extensions") if isinstance(error, dict) else None
                if isinstance(ext, dict) and ext.get("code") == "INTERNAL":
                    _fail("no_internal_error", f"errors[{i}] is INTERNAL", response, case)


# --- custom scalars ---------------------------------------------------------------------------


def _load_values() -> dict:
    path = os.environ.get("FUZZ_VALUES")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return {}


def _register_scalars() -> None:
    import datetime

    import graphql
    from hypothesis import strategies as st

    import schemathesis
    from schemathesis.graphql import nodes

    values = _load_values()

    near = st.dates(min_value=datetime.date(2015, 1, 1), max_value=datetime.date(2027, 12, 31))
    any_date = st.dates()
    not_a_date = st.one_of(
        st.sampled_from(["2023-02-29", "2023-13-01", "2023-00-10", "20230101", "31/12/2023", "", "today"]),
        st.text(max_size=12),
    )
    date_text = st.one_of(near.map(str), near.map(str), near.map(str), any_date.map(str), not_a_date)
    schemathesis.graphql.scalar("Date", date_text.map(nodes.String))

    ids = values.get("ids") or []
    strings = values.get("strings") or []
    inputs = values.get("inputs") or {}  # name -> {"type": ..., "values": [...]}

    def by_type(spec: dict):
        kind = spec.get("type")
        if kind == "date":
            return date_text
        if kind == "integer":
            return st.integers(min_value=-2, max_value=400) | st.integers()
        if kind == "boolean":
            return st.booleans()
        if kind == "enum" and spec.get("values"):
            return st.sampled_from(spec["values"]) | st.text(max_size=8)
        if kind in ("member_ref", "unit_ref") and ids:
            return st.sampled_from(ids) | st.uuids().map(str)
        return st.text(max_size=20) | (st.sampled_from(strings) if strings else st.text(max_size=5))

    scalar_json = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        *([st.sampled_from(ids)] if ids else []),
    )
    free = st.recursive(
        scalar_json,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
        max_leaves=8,
    )

    if inputs:
        names = sorted(inputs)
        typed_pair = st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), by_type(inputs[n])))
        any_pair = st.tuples(st.sampled_from(names) | st.text(max_size=10), free)
        pairs = st.lists(st.one_of(typed_pair, typed_pair, typed_pair, any_pair), max_size=10)
        objects = pairs.map(dict)
    else:
        objects = st.dictionaries(st.text(max_size=10), free, max_size=6)

    def to_node(value) -> graphql.ValueNode:
        if value is None:
            return nodes.Null
        if isinstance(value, bool):
            return nodes.Boolean(value)
        if isinstance(value, int):
            return nodes.Int(value)
        if isinstance(value, float):
            return nodes.Float(value)
        if isinstance(value, str):
            return nodes.String(value)
        if isinstance(value, list):
            return nodes.List([to_node(v) for v in value])
        return nodes.Object(
            [graphql.ObjectFieldNode(name=graphql.NameNode(value=_field_name(k)), value=to_node(v)) for k, v in value.items()]
        )

    schemathesis.graphql.scalar("JSON", st.one_of(objects, objects, objects, free).map(to_node))


def _field_name(key: str) -> str:
    """A GraphQL object field name (the literal syntax allows no other)."""
    import re

    name = re.sub(r"[^_0-9A-Za-z]", "_", key) or "_"
    return name if not name[0].isdigit() else "_" + name


# --- command line -----------------------------------------------------------------------------


def _cmd_login_body() -> int:
    """The JSON body of the login mutation, from FUZZ_USER and FUZZ_PASSWORD."""
    query = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
    body = {"query": query, "variables": {"u": os.environ["FUZZ_USER"], "p": os.environ["FUZZ_PASSWORD"]}}
    print(json.dumps(body))
    return 0


def _cmd_token() -> int:
    """Reads a login response on stdin and prints the token, or says why there is none."""
    raw = sys.stdin.read()
    try:
        token = json.loads(raw)["data"]["login"]["token"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        print(f"login failed: {raw[:1000]}", file=sys.stderr)
        return 1
    print(token)
    return 0


def _post(url: str, token: str, query: str, variables: dict | None = None) -> dict:
    import urllib.request

    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _workflow_values(schemas_dir: str) -> tuple[dict, list[str], list[str]]:
    """The declared inputs of every workflow (name -> type and enum values), their words, and
    the transitions' names."""
    import glob

    inputs: dict[str, dict] = {}
    words: set[str] = set()
    transitions: set[str] = set()
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        print("WARNING: no tomllib: the workflows' inputs are not used", file=sys.stderr)
        return inputs, [], []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("input", "inputs") and isinstance(value, list):
                    for spec in value:
                        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
                            inputs.setdefault(spec["name"], {"type": spec.get("type"), "values": spec.get("values")})
                if key in ("name", "to", "from", "role", "level", "id") and isinstance(value, str):
                    words.add(value)
                if key == "from" and isinstance(value, list):
                    words.update(v for v in value if isinstance(v, str))
                if key == "transition" and isinstance(value, list):
                    transitions.update(t["name"] for t in value if isinstance(t, dict) and isinstance(t.get("name"), str))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted(glob.glob(os.path.join(schemas_dir, "workflows", "*.toml"))):
        try:
            with open(path, "rb") as f:
                walk(tomllib.load(f))
        except (OSError, ValueError) as exc:
            print(f"WARNING: cannot read {path}: {exc}", file=sys.stderr)
    return inputs, sorted(words), sorted(transitions)


def _cmd_prepare(url: str, outdir: str, schemas_dir: str) -> int:
    """Collects real ids and words from the server and the workflow files, opens a few cases,
    and writes the schemathesis configuration (fuzz dictionaries, the session's header) and the
    values for the scalar strategies. Best effort: what fails is reported and left out. The
    token comes from FUZZ_TOKEN, kept out of every command line."""
    token = os.environ["FUZZ_TOKEN"]
    ids: list[str] = []
    codes: list[str] = []
    branches: list[str] = []
    members: list[tuple[str, str, str]] = []  # (member id, full name, unit id)

    warned: set[str] = set()

    def warn(message: str) -> None:
        if message not in warned:
            warned.add(message)
            print(f"WARNING: prepare: {message}", file=sys.stderr)

    def ask(query: str, variables: dict | None = None, quiet: bool = False) -> dict | None:
        try:
            doc = _post(url, token, query, variables)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            warn(str(exc))
            return None
        if doc.get("errors") and not quiet:
            warn(json.dumps([e.get("extensions", e) for e in doc["errors"]], ensure_ascii=False)[:400])
        return doc.get("data")

    tree = ask("{ roots { id code kind children { id code kind children { id code kind } } } }")
    units = []

    def collect(nodes_):
        for node in nodes_ or []:
            units.append(node)
            collect(node.get("children"))

    collect((tree or {}).get("roots"))
    for unit in units[:60]:
        ids.append(unit["id"])
        codes.append(unit["code"])
    branches = [u["id"] for u in units if u.get("kind") in ("GRASSROOTS_BRANCH", "BRANCH")][:5]
    for unit_id in branches[:3]:
        data = ask(
            "query($id: ID!) { unit(id: $id) { members(first: 5) { edges { node { id fullName } } } } }",
            {"id": unit_id},
        )
        for edge in ((((data or {}).get("unit") or {}).get("members") or {}).get("edges")) or []:
            members.append((edge["node"]["id"], edge["node"]["fullName"], unit_id))
    ids.extend(m[0] for m in members)

    data = ask("{ workflows { id states } }")
    workflows = (data or {}).get("workflows") or []
    words = {w["id"] for w in workflows}
    for w in workflows:
        words.update(w.get("states") or [])

    # A few cases, so that case, cases and fireTransition meet real ones. The caller's roles
    # come from the session; an older server wants them stated in `actor`: tried second.
    cases: list[str] = []
    actor = {"id": "fuzz", "roles": [{"role": "secretary", "level": "branch"}]}
    open_case = "mutation($input: OpenCaseInput!) { openCase(input: $input) { case { id } } }"
    for i, (member_id, name, unit_id) in enumerate(members[:4]):
        helper = members[(i + 1) % len(members)][0]
        attempts = [
            {
                "definitionId": "admission",
                "unitId": unit_id,
                "title": f"fuzz admission {i}",
                "inputs": {
                    "full_name": f"Người thử {i}",
                    "date_of_birth": "1995-03-04",
                    "unit": unit_id,
                    "education_level": "upper_secondary",
                    "helper_member": helper,
                    "person_id": member_id,
                },
            },
            {
                "definitionId": "removal",
                "unitId": unit_id,
                "subjectMemberId": member_id,
                "title": f"fuzz removal {i}",
                "inputs": {
                    "member_id": member_id,
                    "full_name": name,
                    "unit": unit_id,
                    "membership": "official",
                    "removal_ground": "skipped_meetings",
                    "months_missed": 4,
                    "good_reason": False,
                    "identified_on": "2025-11-20",
                },
            },
        ]
        for case_input in attempts:
            data = ask(open_case, {"input": case_input}, quiet=True)
            case_id = (((data or {}).get("openCase") or {}).get("case") or {}).get("id")
            if not case_id:
                data = ask(open_case, {"input": {**case_input, "actor": actor}})
                case_id = (((data or {}).get("openCase") or {}).get("case") or {}).get("id")
            if case_id:
                cases.append(case_id)
    ids.extend(cases)

    inputs, toml_words, transitions = _workflow_values(schemas_dir)
    words.update(toml_words)
    strings = sorted(set(codes) | words | {"fuzz", "admin"})

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "values.json"), "w", encoding="utf-8") as f:
        json.dump({"ids": ids, "strings": strings, "inputs": inputs}, f, ensure_ascii=False, indent=1)

    def toml_list(items) -> str:
        return "[" + ", ".join(json.dumps(x, ensure_ascii=False) for x in items) + "]"

    # Each dictionary needs an entry; a placeholder stands in for what could not be found.
    def some(items: list, placeholder: str = "00000000-0000-0000-0000-000000000000") -> list:
        return list(items) or [placeholder]

    unit_ids = [u["id"] for u in units[:60]]
    member_ids = [m[0] for m in members]
    workflow_ids = sorted(w["id"] for w in workflows)
    config = [
        "# Written by scripts/fuzz_graphql.py prepare: real values from the demo database.",
        'headers = { Authorization = "Bearer ${FUZZ_TOKEN}" }',
        "",
        f"dictionaries.words.values = {toml_list(ids + strings)}",
        f"dictionaries.units.values = {toml_list(some(unit_ids))}",
        f"dictionaries.codes.values = {toml_list(some(codes, 'HG'))}",
        f"dictionaries.members.values = {toml_list(some(member_ids))}",
        f"dictionaries.cases.values = {toml_list(some(cases))}",
        f"dictionaries.workflows.values = {toml_list(some(workflow_ids, 'admission'))}",
        f"dictionaries.transitions.values = {toml_list(some(transitions, 'submit'))}",
        f"dictionaries.years.values = {toml_list(list(range(2015, 2028)))}",
        "",
        "# Any String or ID argument, at any depth, is a real value this often.",
        "[generation.dictionaries]",
        'string = { dictionary = "words", probability = 0.3 }',
        "",
        "# Arguments that name something: mostly a real one, so that the resolvers run.",
        "[parameters]",
        '"*.*.unitId" = { dictionary = "units", probability = 0.7 }',
        '"*.*.input.unitId" = { dictionary = "units", probability = 0.7 }',
        '"*.*.input.parentId" = { dictionary = "units", probability = 0.7 }',
        '"*.*.input.newParentId" = { dictionary = "units", probability = 0.7 }',
        '"*.*.input.targetId" = { dictionary = "units", probability = 0.7 }',
        '"*.*.input.sourceIds[*]" = { dictionary = "units", probability = 0.7 }',
        '"Query.unit.id" = { dictionary = "units", probability = 0.7 }',
        '"Query.unit.code" = { dictionary = "codes", probability = 0.7 }',
        '"Query.admissionTarget.code" = { dictionary = "codes", probability = 0.7 }',
        '"Query.admissionTarget.year" = { dictionary = "years", probability = 0.7 }',
        '"Query.member.id" = { dictionary = "members", probability = 0.7 }',
        '"*.*.input.subjectMemberId" = { dictionary = "members", probability = 0.7 }',
        '"Query.case.id" = { dictionary = "cases", probability = 0.8 }',
        '"*.*.caseId" = { dictionary = "cases", probability = 0.7 }',
        '"*.*.input.caseId" = { dictionary = "cases", probability = 0.8 }',
        '"*.*.input.transition" = { dictionary = "transitions", probability = 0.8 }',
        '"*.*.input.definitionId" = { dictionary = "workflows", probability = 0.8 }',
        '"*.*.filter.unitId" = { dictionary = "units", probability = 0.7 }',
        '"*.*.filter.definitionId" = { dictionary = "workflows", probability = 0.7 }',
    ]
    with open(os.path.join(outdir, "schemathesis.toml"), "w", encoding="utf-8") as f:
        f.write("\n".join(config) + "\n")
    print(
        f"fuzz values: {len(ids)} ids ({len(units)} units, {len(members)} members, {len(cases)} cases opened), "
        f"{len(strings)} words, {len(transitions)} transitions, {len(inputs)} workflow input names"
    )
    return 0


def _probe_problems(status: int, body: bytes) -> list[tuple[str, str]]:
    """The checks of the hooks, on a raw response: (check, problem) for each that fails."""
    problems = []
    if status >= 500:
        problems.append(("status_below_500", f"HTTP {status}"))
    if not body:
        return problems + [("body_is_graphql_json", f"HTTP {status} with an empty body")]
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return problems + [("body_is_graphql_json", f"HTTP {status}: the body is not JSON: {_text(body)[:200]}")]
    if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
        return problems + [("body_is_graphql_json", f"HTTP {status}: not a GraphQL response")]
    errors = payload.get("errors") or []
    for i, error in enumerate(errors if isinstance(errors, list) else [errors]):
        ext = error.get("extensions") if isinstance(error, dict) else None
        code = ext.get("code") if isinstance(ext, dict) else None
        if not isinstance(code, str) or not code:
            problems.append(("errors_have_code", f"errors[{i}] has no extensions.code"))
        elif code == "INTERNAL" and "no_internal_error" in _enabled_checks():
            problems.append(("no_internal_error", f"errors[{i}] is INTERNAL"))
    return problems


def _cmd_probe(url: str, out: str) -> int:
    """Requests that a GraphQL generator never sends (bodies that are not one GraphQL request,
    odd headers, a body over the size limit), under the same checks as the fuzzed ones."""
    import urllib.error
    import urllib.request

    token = os.environ.get("FUZZ_TOKEN", "")
    json_type = {"Content-Type": "application/json"}
    bearer = {**json_type, "Authorization": f"Bearer {token}"}
    deep = "{ roots { " + "parent { " * 14 + "code" + " }" * 14 + " } }"

    def gql(query: str) -> bytes:
        return json.dumps({"query": query}).encode()

    probes = [
        ("empty body", bearer, b""),
        ("not JSON", bearer, b"nope"),
        ("invalid UTF-8", bearer, b'{"query":"{ today ' + bytes([0xFF]) + b' }"}'),
        ("a batch", bearer, b'[{"query":"{ today }"}]'),
        ("no query", bearer, b'{"variables":{}}'),
        ("query is a number", bearer, b'{"query":5}'),
        ("variables is a list", bearer, b'{"query":"{ today }","variables":[1]}'),
        ("JSON null", bearer, b"null"),
        ("over the body limit", bearer, b'{"query":"{ today }","x":"' + b"a" * 70000 + b'"}'),
        ("no content type", {"Authorization": f"Bearer {token}"}, b'{"query":"{ today }"}'),
        ("text/plain", {**bearer, "Content-Type": "text/plain"}, b'{"query":"{ today }"}'),
        ("two operations, no name", bearer, b'{"query":"query A { today } query B { today }"}'),
        ("unknown operationName", bearer, b'{"query":"query A { today }","operationName":"B"}'),
        ("subscription over HTTP", bearer, gql("subscription { caseChanged(unitId: \"x\") { caseId } }")),
        ("too deep", bearer, gql(deep)),
        ("unknown token", {**json_type, "Authorization": "Bearer " + "0" * 64}, b'{"query":"{ me { username } }"}'),
        ("other auth scheme", {**json_type, "Authorization": "Basic Zm9vOmJhcg=="}, b'{"query":"{ me { username } }"}'),
        ("no token, a mutation", json_type, b'{"query":"mutation { logout }"}'),
        ("Accept-Language en", {**bearer, "Accept-Language": "en"}, gql('{ unit(code: "nope") { id } }')),
        ("introspection", bearer, b'{"query":"{ __schema { queryType { name } } }"}'),
    ]
    try:  # The introspection query that tools send (graphql-core's, as schemathesis sends it).
        from graphql import get_introspection_query

        probes.append(("full introspection query", bearer, gql(get_introspection_query())))
    except ImportError:
        pass
    failed = 0
    findings = os.environ.get("FUZZ_FINDINGS")
    for name, headers, body in probes:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, content = exc.code, exc.read()
        except Exception as exc:  # noqa: BLE001 - a dropped connection is a finding too
            status, content = 0, f"{type(exc).__name__}: {exc}".encode()
        problems = _probe_problems(status, content) if status else [("status_below_500", content.decode())]
        if problems:
            failed += 1
            print(f"  probe '{name}': FAILED {'; '.join(p for _, p in problems)}")
            if findings:
                with open(findings, "a", encoding="utf-8") as f:
                    for check, problem in problems:
                        entry = {
                            "check": check,
                            "problem": problem,
                            "operation": f"probe: {name}",
                            "status": status,
                            "request_headers": {k: v for k, v in headers.items() if k != "Authorization"},
                            "request_body": _text(body),
                            "response_body": _text(content),
                        }
                        f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        else:
            code = ""
            try:
                errors = json.loads(content).get("errors") or []
                code = ",".join(sorted({e["extensions"]["code"] for e in errors}))
            except (ValueError, AttributeError, KeyError, TypeError):
                pass
            print(f"  probe '{name}': HTTP {status} {code or 'data'}")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"run": len(probes), "failed": failed}, f)
    print(f"probes: {len(probes)} run, {failed} failed")
    return 0


def _load_findings(path: str) -> list[dict]:
    out = []
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    return out


def _cmd_summary(report: str, findings_path: str, server_log: str, outcomes_path: str = "", probes_path: str = "") -> int:
    """Prints the figures of the run; exits 1 on any failure."""
    probes = {}
    if probes_path and os.path.exists(probes_path):
        with open(probes_path, encoding="utf-8") as f:
            probes = json.load(f)
    doc = {}
    if os.path.exists(report):
        with open(report, encoding="utf-8") as f:
            doc = json.load(f)
    else:
        print(f"!! no schemathesis report at {report}")
    cases = doc.get("test_cases") or {}
    ops = doc.get("operations") or {}
    failure_groups = doc.get("failures") or []
    error_groups = doc.get("errors") or []
    failing_cases = int(cases.get("with_failures") or 0)
    unique = int(cases.get("unique_failures") or 0)
    errored = int(cases.get("errored") or 0)

    import re

    ansi = re.compile(r"\x1b\[[0-9;]*m")
    stamp = re.compile(r"^\S+\s+")
    latency = re.compile(r"latency=(\d+) ms")
    panics = []
    error_messages: dict[str, int] = {}
    latencies = []
    if os.path.exists(server_log):
        with open(server_log, encoding="utf-8", errors="replace") as f:
            for raw in f:
                line = ansi.sub("", raw).rstrip()
                if "panicked" in line:
                    panics.append(line)
                if " ERROR " in line or '"level":"ERROR"' in line:
                    message = stamp.sub("", line)[:300]
                    error_messages[message] = error_messages.get(message, 0) + 1
                match = latency.search(line)
                if match:
                    latencies.append(int(match.group(1)))
    error_lines = sum(error_messages.values())
    outcomes = {}
    if outcomes_path and os.path.exists(outcomes_path):
        with open(outcomes_path, encoding="utf-8") as f:
            outcomes = json.load(f)

    findings = _load_findings(findings_path)
    # One entry per distinct problem: the same check, operation and problem text.
    distinct: dict[tuple, dict] = {}
    for f in findings:
        distinct.setdefault((f["check"], f["operation"], f["problem"]), f)

    print()
    print("== fuzzing summary ==")
    print(f"schemathesis:           {doc.get('schemathesis_version', '?')} (seed {doc.get('seed', '?')})")
    print(
        f"operations tested:      {ops.get('tested', '?')} of {ops.get('selected', '?')} selected "
        f"({ops.get('total', '?')} in the schema)"
    )
    print(f"test cases run:         {cases.get('generated', '?')}")
    print(f"test cases failing:     {failing_cases} ({unique} unique failures)")
    print(f"test cases errored:     {errored}")
    if probes:
        print(f"protocol probes:        {probes.get('run')} run, {probes.get('failed')} failed")
    running = doc.get("running_time")
    running = f"{running:.0f}" if isinstance(running, (int, float)) else "?"
    print(f"schemathesis run time:  {running} s; stop reason: {doc.get('stop_reason', '?')}")
    print(f"panics in server log:   {len(panics)}")
    print(f"ERROR lines in the log: {error_lines}")
    for message, count in sorted(error_messages.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {count} x {message}")
    if latencies:
        slow = sum(1 for ms in latencies if ms >= 10000)
        print(f"completed responses:    {len(latencies)}, slowest {max(latencies)} ms, {slow} of 10 s or more")
    if outcomes:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1]))
        print(f"responses (approx.):    {shown}")
    for group in failure_groups:
        print(f"  failure: {group.get('title')} x{group.get('count')} in {', '.join(group.get('operations') or [])}")
    for group in error_groups:
        print(f"  error:   {group.get('title')} x{group.get('count')}")
    if error_groups or failure_groups:
        log = os.path.join(os.path.dirname(report), "schemathesis.log")
        print(f"  (each with a curl command that reproduces it: {log})")
    for line in panics[:20]:
        print(f"  panic:   {line}")
    if distinct:
        print(f"distinct findings: {len(distinct)} (every one in {findings_path})")
        for (check, op, problem), f in list(distinct.items())[:30]:
            print(f"  [{check}] {op}: {problem}")
            print(f"      request:  {f['request_body'][:600]}")
            print(f"      response: {f['response_body'][:600]}")
    # An ERROR line is an INTERNAL error's detail (docs/api.md), even one whose response the
    # client never saw (a request that timed out): each distinct message counts once.
    error_failures = len(error_messages) if "no_internal_error" in _enabled_checks() else 0
    failures = failing_cases + errored + len(panics) + int(probes.get("failed") or 0) + error_failures
    if not doc:
        failures += 1
    elif doc.get("exit_code") not in (0, None) and failures == 0:
        # schemathesis failed for a reason that none of the counters above shows.
        failures = 1
        print(f"schemathesis exited {doc.get('exit_code')}")
    print(f"failures:               {failures}")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["login-body"]:
        return _cmd_login_body()
    if argv[:1] == ["token"]:
        return _cmd_token()
    if argv[:1] == ["checks"]:
        print(",".join(_enabled_checks()))
        return 0
    if len(argv) == 4 and argv[0] == "prepare":
        return _cmd_prepare(argv[1], argv[2], argv[3])
    if len(argv) == 3 and argv[0] == "probe":
        return _cmd_probe(argv[1], argv[2])
    if len(argv) in (4, 5, 6) and argv[0] == "summary":
        return _cmd_summary(*argv[1:])
    print(
        "usage: fuzz_graphql.py login-body | token | checks | prepare URL OUTDIR SCHEMAS_DIR"
        " | probe URL OUT | summary REPORT FINDINGS SERVER_LOG [OUTCOMES [PROBES]]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
else:
    _register_checks()
    _register_scalars()
