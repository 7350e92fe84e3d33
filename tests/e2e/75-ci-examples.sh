#!/usr/bin/env bash
# The CI examples in examples/ci/: each file parses, says what its CI
# system needs (executor, service, image), keeps secrets out of the file,
# and the job it describes runs here against the local engine: its
# environment and script, taken from the file, run with the CI's own
# variables simulated (CIRCLE_BUILD_NUM=41, GITHUB_RUN_NUMBER=42,
# CI_PIPELINE_IID=43, bamboo_buildNumber=44) on a copy of examples/hello,
# and the registry then holds that build number as the tag.
#
# What the test replaces, and why: ACCOUNT (t$T_UNIQ, so runs do not
# collide), REGISTRY (the test registry), BUILDER_IMAGE and the job image
# (the local builder:latest and builder-shell:latest that `make image`
# makes, instead of wherever a user published them), and the secrets,
# which a CI system takes from its secret store.
#
# Needs python3 with PyYAML (Debian: python3-yaml; installed here if
# missing) and builder:latest/builder-shell:latest (made with `make image`
# if missing).
# shellcheck disable=SC2016,SC2031,SC2119 # ${{ }} is GitHub's; subshell tests
. "$(dirname "$0")/../lib.sh"

CI_DIR=$REPO_ROOT/examples/ci
PY=/usr/bin/python3

# The extractor: ci_job FILE KIND [JOB [MATRIX_INDEX [NAME=VALUE...]]]
# prints the job as JSON:
#   {"env": {NAME: VALUE}, "script": "...", "image": "...", "services": [...],
#    "steps": ["checkout", "run", ...]}
# KIND is circleci, gitlab, github or bamboo. It fails (exit 1, a message
# on stderr) when the file does not have the shape its CI system reads.
# For a file with several jobs (the multi-platform and release examples),
# JOB names the one to print, and MATRIX_INDEX picks one of its matrix's
# jobs (GitHub: an entry of strategy.matrix.include; GitLab: one
# combination of parallel.matrix). NAME=VALUE are the CI's own variables,
# substituted as the CI system does before the job starts: GitHub's
# ${{ matrix.K }}, ${{ github.run_number }} and ${{ github.sha }}; GitLab's
# $VAR and ${VAR} in variables and tags.
CI_JOB_PY=$(
	cat <<'PYEOF'
import itertools, json, re, shlex, sys
import yaml

path, kind = sys.argv[1], sys.argv[2]
want = sys.argv[3] if len(sys.argv) > 3 else None
mindex = int(sys.argv[4]) if len(sys.argv) > 4 else 0
civars = dict(a.split("=", 1) for a in sys.argv[5:])
with open(path) as f:
    doc = yaml.safe_load(f)

def die(msg):
    sys.stderr.write("%s: %s\n" % (path, msg))
    sys.exit(1)

def strs(d):
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):        # GitLab: {value: ..., description: ...}
            v = v.get("value", "")
        if isinstance(v, bool):
            v = "true" if v else "false"
        out[str(k)] = str(v)
    return out

def one_job(jobs):
    if want is not None:
        if not isinstance(jobs, dict) or want not in jobs:
            die("no job '%s' in %r" % (want, list(jobs or {})))
        return want, jobs[want]
    if not isinstance(jobs, dict) or len(jobs) != 1:
        die("expected exactly one job, found %r" % list(jobs or {}))
    return next(iter(jobs.items()))

job = {"env": {}, "script": "", "image": "", "services": [], "steps": []}
lines = []

if kind == "circleci":
    if doc.get("version") not in (2, 2.1):
        die("no 'version: 2.1'")
    name, j = one_job(doc.get("jobs"))
    wf = [w for w in (doc.get("workflows") or {}).values()
          if isinstance(w, dict)]
    listed = [next(iter(x)) if isinstance(x, dict) else x
              for w in wf for x in w.get("jobs", [])]
    if name not in listed:
        die("job '%s' is in no workflow" % name)
    if "machine" in j:
        job["executor"] = "machine"
    elif "docker" in j:
        job["executor"] = "docker"
        job["image"] = j["docker"][0]["image"]
    else:
        die("job '%s' has no executor" % name)
    job["env"] = strs(j.get("environment"))
    for step in j.get("steps", []):
        key = step if isinstance(step, str) else next(iter(step))
        job["steps"].append(key)
        if key == "run":
            body = step["run"]
            lines.append(body if isinstance(body, str) else body["command"])
elif kind == "gitlab":
    reserved = {"default", "variables", "stages", "include", "workflow",
                "image", "services", "before_script", "after_script",
                "cache"}
    jobs = {k: v for k, v in doc.items()
            if k not in reserved and not str(k).startswith(".")}
    name, j = one_job(jobs)
    combos = [{}]
    if "parallel" in j:
        combos = []
        for entry in j["parallel"]["matrix"]:
            keys = list(entry)
            vals = [v if isinstance(v, list) else [v] for v in entry.values()]
            combos += [dict(zip(keys, c)) for c in itertools.product(*vals)]
    if mindex >= len(combos):
        die("job '%s' has %d matrix jobs, not %d" % (name, len(combos), mindex + 1))
    job["matrix"] = combos[mindex]
    image = j.get("image", doc.get("image", ""))
    job["image"] = image["name"] if isinstance(image, dict) else image
    job["services"] = [s["name"] if isinstance(s, dict) else s
                       for s in j.get("services", doc.get("services", []))]
    job["env"] = strs(doc.get("variables"))
    job["env"].update(strs(j.get("variables")))
    job["env"].update(strs(job["matrix"]))
    known = dict(civars, **job["env"])
    def expand(v):
        return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                      lambda m: known.get(m.group(1), m.group(0)), v)
    job["env"] = {k: expand(v) for k, v in job["env"].items()}
    job["tags"] = [expand(t) for t in j.get("tags", [])]
    job["needs"] = j.get("needs", [])
    lines += j.get("before_script", doc.get("before_script", []))
    lines += j.get("script", [])
    if not j.get("script"):
        die("job '%s' has no script" % name)
elif kind == "github":
    # PyYAML reads the bare key `on` as True (YAML 1.1).
    if "on" not in doc and True not in doc:
        die("no 'on:' trigger")
    name, j = one_job(doc.get("jobs"))
    if "runs-on" not in j:
        die("job '%s' has no runs-on" % name)
    include = ((j.get("strategy") or {}).get("matrix") or {}).get("include") or [{}]
    if mindex >= len(include):
        die("job '%s' has %d matrix jobs, not %d" % (name, len(include), mindex + 1))
    job["matrix"] = include[mindex]
    ctx = {"matrix." + k: str(v) for k, v in job["matrix"].items()}
    ctx["github.run_number"] = civars.get("GITHUB_RUN_NUMBER", "")
    ctx["github.sha"] = civars.get("GITHUB_SHA", "")
    def expand(v):
        return re.sub(r"\$\{\{ *([a-z_.]+) *\}\}",
                      lambda m: ctx.get(m.group(1), m.group(0)), v)
    job["runs-on"] = expand(str(j["runs-on"]))
    job["needs"] = j.get("needs", [])
    job["env"] = strs(doc.get("env"))
    job["env"].update(strs(j.get("env")))
    for step in j.get("steps", []):
        if "uses" in step:
            job["steps"].append(step["uses"].split("@")[0])
        elif "run" in step:
            job["steps"].append("run")
            job["env"].update(strs(step.get("env")))
            lines.append(step["run"])
    job["env"] = {k: expand(v) for k, v in job["env"].items()}
elif kind == "bamboo":
    if doc.get("version") != 2 or "plan" not in doc:
        die("not Bamboo YAML Specs version 2 with a plan")
    names = []
    for stage in doc.get("stages", []):
        (sname, body), = stage.items()
        names += body["jobs"] if isinstance(body, dict) else body
    if len(names) != 1 or names[0] not in doc:
        die("expected one job defined at the top level, stages name %r"
            % names)
    j = doc[names[0]]
    for var, val in strs(doc.get("variables")).items():
        job["env"]["bamboo_" + var.replace(".", "_")] = val
    for task in j.get("tasks", []):
        key = task if isinstance(task, str) else next(iter(task))
        job["steps"].append(key)
        if key != "script":
            continue
        body = task["script"]
        if isinstance(body, str):
            body = {"scripts": [body]}
        elif isinstance(body, list):
            body = {"scripts": body}
        for word in shlex.split(body.get("environment", "")):
            k, _, v = word.partition("=")
            job["env"][k] = v
        lines += body["scripts"]
else:
    die("unknown kind '%s'" % kind)

job["script"] = "\n".join(l.rstrip("\n") for l in lines) + "\n"
if not lines:
    die("no script lines")
print(json.dumps(job))
PYEOF
)

# Does the system python have PyYAML? Installs python3-yaml if not, once
# per file (a test suite on a fresh machine should not fail for it).
T_YAML_OK=
if "$PY" -c 'import yaml' 2>/dev/null; then
	T_YAML_OK=1
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "note: installing python3-yaml for the YAML checks" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends python3-yaml >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends python3-yaml >/dev/null 2>&1; }
	"$PY" -c 'import yaml' 2>/dev/null && T_YAML_OK=1
fi

need_yaml() {
	[ -n "$T_YAML_OK" ] ||
		t_fail "no PyYAML for '$PY': apt-get install python3-yaml"
}

# need_images: builder:latest and builder-shell:latest, made with
# `make image` when one is missing.
need_images() {
	if docker image inspect builder:latest builder-shell:latest >/dev/null 2>&1; then
		return 0
	fi
	echo "builder:latest or builder-shell:latest is missing: make image"
	make -s -C "$REPO_ROOT" image >"$T_DIR/make-image.log" 2>&1 || {
		tail -20 "$T_DIR/make-image.log"
		t_fail "'make image' failed (log above): the examples need builder:latest and builder-shell:latest"
	}
	docker image inspect builder:latest builder-shell:latest >/dev/null 2>&1 ||
		t_fail "'make image' did not make builder:latest and builder-shell:latest"
}

# load_job FILE KIND [JOB [MATRIX_INDEX [NAME=VALUE...]]]: sets JOB (the
# JSON) and shows it.
load_job() {
	need_yaml
	JOB=$("$PY" -c "$CI_JOB_PY" "$CI_DIR/$1" "${@:2}") ||
		t_fail "could not read the job in '$1'"
	echo "job from $1${3:+ ($3${4:+, matrix job $4})}:"
	jq . <<<"$JOB" | sed 's/^/  /'
}

# job_env NAME: the job's value for NAME ("" when unset).
job_env() {
	jq -r --arg n "$1" '.env[$n] // ""' <<<"$JOB"
}

# The file must not hold a secret or print one: no literal password value
# (only the CI's own secret references), no `set -x`, no echo of one.
check_no_secrets() {
	local f=$CI_DIR/$1 pw
	pw=$(job_env REGISTRY_PASSWORD)
	case $pw in
	'' | '${{ secrets.'*'}}') ;;
	*) t_fail "'$1' sets REGISTRY_PASSWORD to a value in the file" ;;
	esac
	! grep -nE 'set -x|set -o xtrace|echo.*(PASS|SECRET|TOKEN)|docker login.*-p' "$f" ||
		t_fail "'$1' could print a secret (lines above)"
}

# app_copy: a copy of examples/hello in $T_DIR/app, with run.sh beside it
# as a user's repository has it; sets APP.
app_copy() {
	APP=$T_DIR/app
	cp -r "$REPO_ROOT/examples/hello" "$APP"
	cp "$REPO_ROOT/run.sh" "$APP/run.sh"
}

# job_env_array [NAME=VALUE...]: ENVS, the job's environment with the test's
# replacements (given as arguments) applied last.
job_env_array() {
	local kv
	ENVS=()
	while IFS= read -r -d '' kv; do
		ENVS+=("$kv")
	done < <(jq -j '.env | to_entries[] | "\(.key)=\(.value)\u0000"' <<<"$JOB")
	ENVS+=("$@")
}

# check_pushed TAG [ALL]: the registry's tags of t$T_UNIQ/IMAGE are ALL
# (default: TAG alone), and the run's last line is TAG's reference with the
# registry's digest.
check_pushed() {
	local image digest
	image=$(job_env IMAGE)
	assert_eq "$(registry_tags "t$T_UNIQ/$image" | tr '\n' ' ')" "${2:-$1} " "tags in the registry"
	digest=$(registry_digest "t$T_UNIQ/$image" "$1")
	[ -n "$digest" ] || t_fail "no digest for t$T_UNIQ/$image:$1"
	assert_eq "$(tail -n 1 "$STDOUT")" "$REGISTRY_ADDR/t$T_UNIQ/$image:$1@$digest" "last line"
	assert_not_contains "$OUT" "$REGISTRY_PASS_T"
	assert_contains "$OUT" "3 tests passed"
}

# assert_run_left_nothing: nothing is left on the engine by the run whose
# output is $OUT. Only that run's objects: other helpers' and tests' runs
# share the engine and may be live. The run's id is on its "run ID: ..."
# line, or (an older image does not print that line) in the name of its
# test container, builder-ID-test. A run that never spoke to an engine
# (merge, promote: no "engine:" line) left nothing there; any other run
# with no id found has every labelled object checked.
assert_run_left_nothing() {
	local id
	id=$(sed -n 's/^.*run \([0-9a-f]\{11\}\): what it creates.*/\1/p' "$OUT" | head -n 1)
	[ -n "$id" ] ||
		id=$(grep -o "'builder-[0-9a-f]\{11\}-test'" "$OUT" | head -n 1 | cut -c10-20)
	if [ -z "$id" ] && ! grep -q '^ *engine: ' "$OUT"; then
		return 0
	fi
	assert_no_leftovers "$id"
}

# run_host_job CI_VARS...: the job's script with sh in the app copy, as a
# CI runner's shell runs it: an empty environment but the job's, the CI's
# variables given, PATH, HOME and DOCKER_CONFIG.
run_host_job() {
	local script
	script=$(jq -r .script <<<"$JOB")
	job_env_array "ACCOUNT=t$T_UNIQ" "REGISTRY=$REGISTRY_ADDR" \
		BUILDER_IMAGE=builder:latest "$@"
	(cd "$APP" && assert_exit 0 env -i PATH="$PATH" HOME="$HOME" \
		DOCKER_CONFIG="$DOCKER_CONFIG" "${ENVS[@]}" sh -ec "$script")
}

# run_shell_job WORKDIR CI_VARS...: the job's script in builder-shell:latest
# (the job image), the app copy mounted at WORKDIR as the CI's checkout.
# The engine is this machine's, through its socket, standing in for
# CircleCI's remote docker and GitLab's dind service, unless JOB_ENGINE
# (an array of `docker run` options) says otherwise. The variables go in
# through an --env-file, not on a command line, and not into the docker
# CLI's own environment (DOCKER_HOST there would redirect the CLI).
run_shell_job() {
	local wd=$1 script kv envfile=$T_DIR/job.env
	shift
	script=$(jq -r .script <<<"$JOB")
	job_env_array "ACCOUNT=t$T_UNIQ" "REGISTRY=$REGISTRY_ADDR" "$@"
	(umask 077 && : >"$envfile")
	for kv in "${ENVS[@]}"; do
		[[ $kv != *$'\n'* ]] || t_fail "a multi-line value for ${kv%%=*}: not for --env-file"
		printf '%s\n' "$kv" >>"$envfile"
	done
	[ -n "${JOB_ENGINE+x}" ] ||
		JOB_ENGINE=(-v /var/run/docker.sock:/var/run/docker.sock)
	assert_exit 0 docker run --rm --name "ci-$T_UNIQ" "${JOB_ENGINE[@]}" \
		-v "$APP:$wd" -w "$wd" --env-file "$envfile" \
		builder-shell:latest sh -ec "$script"
}

# --- parsing and shape ---------------------------------------------------

t_files_parse() {
	need_yaml
	local f n=0
	for f in "$CI_DIR"/*.yml "$CI_DIR"/*.yaml; do
		[ -e "$f" ] || continue
		"$PY" -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$f" ||
			t_fail "'$f' is not valid YAML"
		n=$((n + 1))
	done
	assert_eq "$n" 8 "example files"
	for f in circleci-machine.yml circleci-docker.yml gitlab-ci.yml \
		github-actions.yml bamboo-specs.yml github-actions-multiplatform.yml \
		gitlab-multiplatform.yml promote-on-release.yml; do
		[ -f "$CI_DIR/$f" ] || t_fail "'examples/ci/$f' is missing"
	done
}

t_shapes() {
	load_job circleci-machine.yml circleci
	assert_eq "$(jq -r .executor <<<"$JOB")" machine "executor"
	assert_eq "$(jq -r .script <<<"$JOB")" "./run.sh" "script"
	check_no_secrets circleci-machine.yml

	load_job circleci-docker.yml circleci
	assert_eq "$(jq -r .executor <<<"$JOB")" docker "executor"
	jq -e '.steps | index("setup_remote_docker")' <<<"$JOB" >/dev/null ||
		t_fail "circleci-docker.yml: no setup_remote_docker step"
	[[ $(jq -r .image <<<"$JOB") == *builder-shell:* ]] ||
		t_fail "circleci-docker.yml: the job image is not builder-shell"
	assert_eq "$(jq -r .script <<<"$JOB")" "builder" "script"
	check_no_secrets circleci-docker.yml

	load_job gitlab-ci.yml gitlab
	[[ $(jq -r .image <<<"$JOB") == *builder-shell:* ]] ||
		t_fail "gitlab-ci.yml: the job image is not builder-shell"
	jq -e '.services | map(select(test("^docker:.*dind$"))) | length == 1' \
		<<<"$JOB" >/dev/null || t_fail "gitlab-ci.yml: no docker:dind service"
	assert_eq "$(job_env DOCKER_TLS_CERTDIR)" /certs "DOCKER_TLS_CERTDIR"
	assert_eq "$(jq -r .script <<<"$JOB")" "builder" "script"
	check_no_secrets gitlab-ci.yml

	load_job github-actions.yml github
	assert_eq "$(jq -r '.steps[0]' <<<"$JOB")" actions/checkout "first step"
	assert_eq "$(job_env REGISTRY_USER)" '${{ secrets.REGISTRY_USER }}' "REGISTRY_USER"
	assert_eq "$(job_env REGISTRY_PASSWORD)" '${{ secrets.REGISTRY_PASSWORD }}' "REGISTRY_PASSWORD"
	assert_eq "$(jq -r .script <<<"$JOB")" "./run.sh" "script"
	check_no_secrets github-actions.yml

	load_job bamboo-specs.yml bamboo
	jq -r .script <<<"$JOB" | grep -qx './run.sh' ||
		t_fail "bamboo-specs.yml: the script does not run ./run.sh"
	check_no_secrets bamboo-specs.yml
}

# Each example whose job runs tests (TEST_CMD) publishes the test results
# with its CI's own mechanism, from the directory TEST_RESULTS names, also
# when the job failed: GitHub's upload-artifact (if: always(), one name per
# matrix job), GitLab's artifacts:reports:junit (when: always), CircleCI's
# store_test_results (it runs after a failed step too), Bamboo's JUnit
# parser as a final task. Every example but promote-on-release runs tests.
t_publish_results() {
	need_yaml
	"$PY" - "$CI_DIR" <<'PYEOF' || t_fail "an example does not publish its test results (above)"
import os, shlex, sys, yaml
d = sys.argv[1]
bad, checked = [], set()
def local_dir(env):
    v = (env or {}).get("TEST_RESULTS", "")
    return v.split(":", 1)[1] if ":" in v else ("test-results" if v else "")
def check(f, name, env, ok, what):
    if "TEST_CMD" not in env:
        return
    checked.add(f)
    ld = local_dir(env)
    if not ld:
        bad.append("%s: job '%s' runs tests but sets no TEST_RESULTS" % (f, name))
    elif not ok(ld):
        bad.append("%s: job '%s': %s of TEST_RESULTS' dir '%s'" % (f, name, what, ld))
for f in sorted(os.listdir(d)):
    doc = yaml.safe_load(open(os.path.join(d, f)))
    if "jobs" in doc and ("on" in doc or True in doc):          # GitHub
        for name, j in doc["jobs"].items():
            env = dict(doc.get("env") or {}, **(j.get("env") or {}))
            for st in j.get("steps", []):
                env.update(st.get("env") or {})
            matrix = bool((j.get("strategy") or {}).get("matrix"))
            def gh_ok(ld, j=j, matrix=matrix):
                up = [st for st in j["steps"]
                      if st.get("uses", "").startswith("actions/upload-artifact@")]
                return up and up[0].get("if") == "always()" and \
                    up[0]["with"]["path"].rstrip("/") == ld and \
                    (not matrix or "${{ matrix." in up[0]["with"].get("name", ""))
            check(f, name, env, gh_ok,
                  "upload-artifact, if: always(), a name per matrix job")
    elif "jobs" in doc and "version" in doc:                       # CircleCI
        for name, j in doc["jobs"].items():
            def cc_ok(ld, j=j):
                st = [s["store_test_results"] for s in j["steps"]
                      if isinstance(s, dict) and "store_test_results" in s]
                return st and st[0]["path"].rstrip("/") == ld
            check(f, name, j.get("environment") or {}, cc_ok,
                  "store_test_results")
    elif doc.get("version") == 2 and "plan" in doc:                # Bamboo
        for stage in doc["stages"]:
            for name in next(iter(stage.values())):
                j, env = doc[name], {}
                for t in j.get("tasks", []):
                    if isinstance(t, dict) and "script" in t:
                        env.update(w.split("=", 1) for w in
                                   shlex.split(t["script"].get("environment", "")))
                def bb_ok(ld, j=j):
                    tp = [t["test-parser"] for t in j.get("final-tasks", [])
                          if isinstance(t, dict) and "test-parser" in t]
                    return tp and tp[0].get("type") == "junit" and \
                        str(tp[0].get("test-results", "")).startswith(ld + "/")
                check(f, name, env, bb_ok, "a junit test-parser in final-tasks")
    else:                                                          # GitLab
        for name, j in doc.items():
            if not isinstance(j, dict) or "script" not in j:
                continue
            env = dict(doc.get("variables") or {}, **(j.get("variables") or {}))
            def gl_ok(ld, j=j):
                art = j.get("artifacts") or {}
                return art.get("when") == "always" and \
                    str((art.get("reports") or {}).get("junit", "")).startswith(ld + "/")
            check(f, name, env, gl_ok, "artifacts:reports:junit, when: always")
want = {"bamboo-specs.yml", "circleci-docker.yml", "circleci-machine.yml",
        "github-actions-multiplatform.yml", "github-actions.yml",
        "gitlab-ci.yml", "gitlab-multiplatform.yml"}
for f in sorted(want - checked):
    bad.append("%s: no job with TEST_CMD found: the check did not run" % f)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PYEOF
}

# check_results_out: after the job ran, the directory its publishing step
# reads (TEST_RESULTS' LOCAL_DIR, in the job's directory) holds the JUnit
# report examples/hello's tests wrote in the test container, and the log
# has its totals.
check_results_out() {
	local v ld
	v=$(job_env TEST_RESULTS)
	[ -n "$v" ] || t_fail "the job sets no TEST_RESULTS"
	ld=${v#*:}
	[ "$ld" != "$v" ] || ld=test-results
	[ -f "$APP/$ld/junit.xml" ] ||
		t_fail "no '$ld/junit.xml' in the job's directory: nothing to publish"
	assert_contains "$APP/$ld/junit.xml" '<testsuite name="calc" tests="3" failures="0">'
	assert_contains "$OUT" "tests: 3 tests, 0 failures, 0 errors, 0 skipped"
}

# --- the jobs, run -------------------------------------------------------

t_circleci_machine() {
	need_images
	load_job circleci-machine.yml circleci
	app_copy
	run_host_job CI=true CIRCLE_BUILD_NUM=41 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_pushed 41
	assert_contains "$OUT" "CIRCLE_BUILD_NUM"
	check_results_out
	assert_run_left_nothing
}

t_circleci_docker() {
	need_images
	load_job circleci-docker.yml circleci
	app_copy
	run_shell_job /root/project CI=true CIRCLE_BUILD_NUM=41 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_pushed 41
	assert_contains "$OUT" "CIRCLE_BUILD_NUM"
	check_results_out
	assert_run_left_nothing
}

t_github_actions() {
	need_images
	load_job github-actions.yml github
	app_copy
	# The secrets replace the ${{ secrets.* }} expressions, as GitHub does.
	run_host_job CI=true GITHUB_ACTIONS=true GITHUB_RUN_NUMBER=42 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_pushed 42
	check_results_out
	assert_contains "$OUT" "GITHUB_RUN_NUMBER"
	assert_run_left_nothing
}

t_gitlab() {
	need_images
	load_job gitlab-ci.yml gitlab
	app_copy
	run_shell_job /builds/acme/hello CI=true GITLAB_CI=true CI_PIPELINE_IID=43 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_pushed 43
	assert_contains "$OUT" "CI_PIPELINE_IID"
	check_results_out
	assert_run_left_nothing
}

t_bamboo() {
	need_images
	load_job bamboo-specs.yml bamboo
	app_copy
	# Bamboo hands plan variables to scripts as bamboo_NAME.
	run_host_job bamboo_buildNumber=44 \
		bamboo_REGISTRY_USER="$REGISTRY_USER_T" \
		bamboo_REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_pushed 44
	check_results_out
	assert_contains "$OUT" "bamboo_buildNumber"
	assert_run_left_nothing
}

# The remote engines for real: a second dockerd with TLS on port 2376
# (scripts/tls-engine.sh; its certificate names DNS:docker). The GitLab job
# sees it as dind's "docker" host, with the client certificates at
# $DOCKER_TLS_CERTDIR/client and no socket, so builder's fallback picks
# tcp://docker:2376; the CircleCI job gets DOCKER_HOST, DOCKER_TLS_VERIFY and
# DOCKER_CERT_PATH as setup_remote_docker sets them. The job containers use
# the host's network to reach it.
t_remote_tls() {
	need_images
	if (exec 3<>/dev/tcp/127.0.0.1/2376) 2>/dev/null; then
		t_skip "port 2376 is in use: no dind stand-in"
	fi
	trap 'bash "$REPO_ROOT/scripts/tls-engine.sh" down "$T_DIR/tls"' EXIT
	TLS_ENGINE_PORT=2376 bash "$REPO_ROOT/scripts/tls-engine.sh" up "$T_DIR/tls" ||
		t_fail "the TLS engine did not start"
	# shellcheck source=/dev/null
	. "$T_DIR/tls/env"

	load_job gitlab-ci.yml gitlab
	app_copy
	JOB_ENGINE=(--network host --add-host docker:127.0.0.1
		-v "$TLS_ENGINE_CERTS:/certs/client:ro")
	run_shell_job /builds/acme/hello CI=true GITLAB_CI=true CI_PIPELINE_IID=43 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_pushed 43
	assert_contains "$OUT" "using tcp://docker:2376 with TLS"

	load_job circleci-docker.yml circleci
	rm -rf "$APP"
	app_copy
	JOB_ENGINE=(--network host -v "$TLS_ENGINE_CERTS:/tmp/docker-certs:ro")
	run_shell_job /root/project CI=true CIRCLE_BUILD_NUM=41 \
		DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH=/tmp/docker-certs \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_pushed 41 "41 43"
	assert_contains "$OUT" "engine: $TLS_ENGINE_HOST"

	# Nothing left on the remote engine, and nothing went to the local one.
	(
		export DOCKER_HOST=$TLS_ENGINE_HOST DOCKER_TLS_VERIFY=1 \
			DOCKER_CERT_PATH=$TLS_ENGINE_CERTS
		assert_no_leftovers
		[ -n "$(docker images -q "$REGISTRY_ADDR/t$T_UNIQ/hello:43")" ] ||
			t_fail "the remote engine does not hold the image"
	)
	[ -z "$(docker images -q "$REGISTRY_ADDR/t$T_UNIQ/hello")" ] ||
		t_fail "the local engine built the image, not the remote one"
}

# --- multi-platform, merge, promote --------------------------------------
#
# These jobs run builder's binary here (bin/builder-asan as `builder`, and a
# run.sh that execs it), not builder's images: merge, promote and the check
# after each push talk to the registry from builder itself, and the test
# registry listens on 127.0.0.1, which a container on the default network
# cannot reach. The app is FROM scratch with only COPY, so the arm64 image
# builds here without emulation; a first stage on $BUILDPLATFORM runs
# natively and reads the build secret. Replaced besides ACCOUNT and
# REGISTRY: TEST_CMD (a scratch image has no shell, and an arm64 one could
# not run here) and BUILDER=buildkit (this engine does not advertise
# BuildKit, so auto would pick the classic builder).

# mp_app: the scratch app in $T_DIR/app with the shim run.sh; sets APP and
# puts `builder` on PATH (as MP_PATH). The secret step names the test, so
# that no other test's build of it is taken from the cache (BuildKit's
# cache key does not include a secret's value).
mp_app() {
	APP=$T_DIR/app
	rm -rf "$APP"
	mkdir -p "$APP" "$T_DIR/bin"
	ln -sf "$BUILDER_BIN" "$T_DIR/bin/builder"
	MP_PATH=$T_DIR/bin:$PATH
	printf 'hello\n' >"$APP/hello.txt"
	cat >"$APP/Dockerfile" <<DEOF
FROM --platform=\$BUILDPLATFORM busybox:latest AS check
RUN --mount=type=secret,id=npm_token,required=false \\
    : $T_UNIQ; if [ -f /run/secrets/npm_token ]; then sha256sum </run/secrets/npm_token | cut -c1-64; else echo none; fi >/check
FROM scratch
COPY hello.txt /hello.txt
COPY --from=check /check /check
DEOF
	printf '#!/bin/sh\n# stands in for run.sh: builder itself, not its image\nexec builder "$@"\n' >"$APP/run.sh"
	chmod +x "$APP/run.sh"
}

# run_mp_job CI_VARS...: the loaded job's script with sh in the app, as
# run_host_job, with builder on PATH.
run_mp_job() {
	local script
	script=$(jq -r .script <<<"$JOB")
	job_env_array "ACCOUNT=t$T_UNIQ" "REGISTRY=$REGISTRY_ADDR" TEST_CMD= \
		BUILDER=buildkit "$@"
	(cd "$APP" && assert_exit 0 env -i PATH="$MP_PATH" HOME="$HOME" \
		DOCKER_CONFIG="$DOCKER_CONFIG" "${ENVS[@]}" sh -ec "$script")
	assert_not_contains "$OUT" "$REGISTRY_PASS_T"
	assert_run_left_nothing
}

# check_index REPO TAG: REPO:TAG is an image index of linux/amd64 and
# linux/arm64, each platform's manifest the one its build pushed as
# TAG-ARCH; sets INDEX_DIGEST.
check_index() {
	local idx arch
	idx=$(curl -fsS -u "$REGISTRY_USER_T:$REGISTRY_PASS_T" \
		-H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' \
		"http://$REGISTRY_ADDR/v2/$1/manifests/$2") || t_fail "no manifest for $1:$2"
	assert_eq "$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(" ")' <<<"$idx")" \
		"linux/amd64 linux/arm64" "platforms of $1:$2"
	for arch in amd64 arm64; do
		assert_eq "$(jq -r --arg a "$arch" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$idx")" \
			"$(registry_digest "$1" "$2-$arch")" "$arch digest in the index"
	done
	INDEX_DIGEST=$(registry_digest "$1" "$2")
}

T_SHA=0123456789abcdef0123456789abcdef01234567

t_github_multiplatform() {
	local arch i repo=t$T_UNIQ/hello
	mp_app
	for i in 0 1; do
		load_job github-actions-multiplatform.yml github build "$i" \
			GITHUB_RUN_NUMBER=45 GITHUB_SHA=$T_SHA
		arch=$(jq -r .matrix.arch <<<"$JOB")
		assert_eq "$(job_env PLATFORM)" "linux/$arch" "PLATFORM"
		assert_eq "$(job_env TAG)" "45-$arch" "TAG"
		[ "$arch" = amd64 ] || assert_eq "$(jq -r '."runs-on"' <<<"$JOB")" ubuntu-24.04-arm "arm64 runner"
		check_no_secrets github-actions-multiplatform.yml
		run_mp_job CI=true GITHUB_ACTIONS=true GITHUB_RUN_NUMBER=45 GITHUB_SHA=$T_SHA \
			REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
		assert_contains "$OUT" "on the registry"
		assert_contains "$OUT" "verified: '$REGISTRY_ADDR/$repo:45-$arch' is sha256:"
		# The image's config says the platform it was built for.
		assert_eq "$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$REGISTRY_ADDR/$repo:45-$arch")" \
			"linux/$arch" "platform of the $arch image"
	done
	load_job github-actions-multiplatform.yml github merge 0 \
		GITHUB_RUN_NUMBER=45 GITHUB_SHA=$T_SHA
	assert_eq "$(jq -r '.needs' <<<"$JOB")" build "merge needs"
	run_mp_job CI=true GITHUB_ACTIONS=true GITHUB_RUN_NUMBER=45 GITHUB_SHA=$T_SHA \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_index "$repo" 45
	assert_eq "$(registry_digest "$repo" "$T_SHA")" "$INDEX_DIGEST" "the SHA tag is the index"
	assert_eq "$(cat "$STDOUT")" "$REGISTRY_ADDR/$repo:45@$INDEX_DIGEST
$REGISTRY_ADDR/$repo:$T_SHA@$INDEX_DIGEST" "merge's stdout, a line a tag"
	# No secret in this example: the build ran without one.
	docker rm -f "mp-$T_UNIQ" >/dev/null 2>&1 || true
	docker create --name "mp-$T_UNIQ" "$REGISTRY_ADDR/$repo:45-amd64" x >/dev/null
	assert_eq "$(docker cp "mp-$T_UNIQ:/check" - | tar -xO)" none "secret check file"
	docker rm "mp-$T_UNIQ" >/dev/null

	# The release: promote the commit's index to the release tag and stable.
	load_job promote-on-release.yml github promote 0
	check_no_secrets promote-on-release.yml
	run_mp_job CI=true GITHUB_ACTIONS=true GITHUB_RUN_NUMBER=46 GITHUB_SHA=$T_SHA \
		GITHUB_REF_NAME=v1.2.0 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	assert_eq "$(registry_digest "$repo" v1.2.0)" "$INDEX_DIGEST" "v1.2.0"
	assert_eq "$(registry_digest "$repo" stable)" "$INDEX_DIGEST" "stable"
	check_index "$repo" 45
	assert_eq "$(registry_tags "$repo" | sort | tr '\n' ' ')" \
		"$(printf '%s\n' 45 45-amd64 45-arm64 $T_SHA stable v1.2.0 | sort | tr '\n' ' ')" \
		"tags in the registry"
}

t_gitlab_multiplatform() {
	local arch i repo=t$T_UNIQ/hello token=npm-tok-$T_UNIQ
	mp_app
	for i in 0 1; do
		load_job gitlab-multiplatform.yml gitlab build "$i" CI_PIPELINE_IID=47
		arch=$(jq -r .matrix.ARCH <<<"$JOB")
		assert_eq "$(job_env PLATFORM)" "linux/$arch" "PLATFORM"
		assert_eq "$(job_env TAG)" "47-$arch" "TAG"
		assert_eq "$(jq -r '.tags[0]' <<<"$JOB")" "saas-linux-small-$arch" "runner tag"
		assert_eq "$(job_env SECRETS)" "id=npm_token,env=NPM_TOKEN" "SECRETS"
		check_no_secrets gitlab-multiplatform.yml
		# GitLab puts the masked NPM_TOKEN into the job's environment.
		run_mp_job CI=true GITLAB_CI=true CI_PIPELINE_IID=47 NPM_TOKEN="$token" \
			REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
		assert_not_contains "$OUT" "$token"
		assert_eq "$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$REGISTRY_ADDR/$repo:47-$arch")" \
			"linux/$arch" "platform of the $arch image"
		# The secret reached the build (its hash is in /check) and
		# is nowhere in the image's history.
		docker rm -f "mp-$T_UNIQ" >/dev/null 2>&1 || true
	docker create --name "mp-$T_UNIQ" "$REGISTRY_ADDR/$repo:47-$arch" x >/dev/null
		assert_eq "$(docker cp "mp-$T_UNIQ:/check" - | tar -xO)" \
			"$(printf %s "$token" | sha256sum | cut -c1-64)" "secret check file"
		docker rm "mp-$T_UNIQ" >/dev/null
		docker history --no-trunc "$REGISTRY_ADDR/$repo:47-$arch" >"$T_DIR/history"
		assert_not_contains "$T_DIR/history" "$token"
	done
	load_job gitlab-multiplatform.yml gitlab merge 0 CI_PIPELINE_IID=47
	assert_eq "$(jq -r '.needs[0]' <<<"$JOB")" build "merge needs"
	run_mp_job CI=true GITLAB_CI=true CI_PIPELINE_IID=47 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T"
	check_index "$repo" 47
	assert_eq "$(cat "$STDOUT")" "$REGISTRY_ADDR/$repo:47@$INDEX_DIGEST" "merge's stdout"
}

run_test "the example files are valid YAML" t_files_parse
run_test "each example has its CI's shape and no secret" t_shapes
run_test "each example publishes the test results" t_publish_results
run_test "CircleCI machine executor: ./run.sh pushes tag 41" t_circleci_machine
run_test "CircleCI docker executor: builder in builder-shell pushes tag 41" t_circleci_docker
run_test "GitHub Actions: ./run.sh pushes tag 42" t_github_actions
run_test "GitLab CI: builder in builder-shell pushes tag 43" t_gitlab
run_test "Bamboo: ./run.sh pushes tag 44" t_bamboo
run_test "GitLab dind and CircleCI remote docker over TLS, for real" t_remote_tls
run_test "GitHub Actions: amd64 and arm64 matrix, merge, promote on release" t_github_multiplatform
run_test "GitLab CI: parallel amd64 and arm64 with a build secret, then merge" t_gitlab_multiplatform
t_summary
