"""Reads `docker-compose config` output (stdin) and prints it in the shape
tests/compose_dump.c prints builder's model, for tests/e2e/16-compose-model.sh:
strings split like compose splits them, '$$' (config's escape) undone, the
sut closure computed from depends_on (as `docker-compose run sut` starts
it); a start order is compared as a set, since compose orders by levels."""
import json
import shlex
import sys

import yaml


def unesc(v):
    if isinstance(v, str):
        return v.replace("$$", "$")
    if isinstance(v, list):
        return [unesc(x) for x in v]
    return v


def words(v):
    if v is None:
        return None
    if isinstance(v, str):
        return shlex.split(unesc(v))
    return unesc(v)


doc = yaml.safe_load(sys.stdin)
out = {"services": {}, "start": []}
svcs = doc.get("services", {})
for name, s in svcs.items():
    env = s.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env if "=" in e)
    hc = (s.get("healthcheck") or {}).get("test")
    if isinstance(hc, str):
        hc = ["CMD-SHELL", hc]
    deps = s.get("depends_on") or {}
    if isinstance(deps, list):
        deps = {d: {"condition": "service_started"} for d in deps}
    for link in s.get("links") or []:
        deps.setdefault(link.split(":")[0], {"condition": "service_started"})
    out["services"][name] = {
        "image": s.get("image"),
        "build": (s.get("build") or {}).get("context") if s.get("build") else None,
        "command": words(s.get("command")),
        "entrypoint": words(s.get("entrypoint")),
        "environment": {k: unesc(str(v)) for k, v in env.items() if v is not None},
        "depends_on": {k: v.get("condition", "service_started") for k, v in deps.items()},
        "healthcheck": unesc(hc),
    }
seen = []


def visit(n):
    if n in seen:
        return
    for d in out["services"][n]["depends_on"]:
        visit(d)
    seen.append(n)


if "sut" in out["services"]:
    visit("sut")
out["start"] = seen
print(json.dumps(out, indent=2, sort_keys=True))
