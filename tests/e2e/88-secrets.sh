#!/usr/bin/env bash
# Secrets never leave builder except in the engine's credential headers.
# Each test pushes to (or builds from) a registry of its own whose htpasswd
# holds a distinctive password, passes it through one credential source
# (REGISTRY_PASSWORD, config.json auth, a credential helper's identity
# token, DOCKER_AUTH_CONFIG, X-Registry-Config for a private base image),
# runs builder with --verbose and a REPORT, and then searches stdout,
# stderr, the report, and builder's argv as `ps` shows it during the run,
# for the secret in clear and in every base64 and base64url form it can
# take inside a longer encoded string (user:pass, the X-Registry-Auth and
# X-Registry-Config JSON).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# secret_forms SECRET: the secret, and the part of its base64 and base64url
# encodings that is the same wherever it sits in a longer encoded string
# (one form for each of the three alignments), one a line.
secret_forms() {
	local s=$1 pad enc core
	printf '%s\n' "$s"
	for pad in "" x xx; do
		enc=$(printf '%s%s' "$pad" "$s" | base64 -w0 | tr -d '=')
		# Drop the group that mixes in the pad and the last group,
		# which depends on what follows.
		core=${enc:$((${#pad} ? 4 : 0))}
		core=${core:0:$((${#core} - 4))}
		printf '%s\n' "$core" "$(printf '%s' "$core" | tr '+/' '-_')"
	done | sort -u
}

# secret_in SECRET FILE: prints the first form of SECRET found in FILE;
# false if none is.
secret_in() {
	local form
	while IFS= read -r form; do
		if grep -qF -- "$form" "$2"; then
			printf '%s\n' "$form"
			return 0
		fi
	done < <(secret_forms "$1")
	return 1
}

# assert_no_secret SECRET FILE...: none of the forms is in any FILE.
assert_no_secret() {
	local s=$1 f form
	shift
	for f in "$@"; do
		[ -e "$f" ] || t_fail "'$f' does not exist"
		if form=$(secret_in "$s" "$f"); then
			t_fail "'$f' holds the secret (as '$form')"
		fi
	done
}

# The search itself: it finds a secret inside encoded credentials at each
# alignment, in both alphabets.
t_search_finds_encoded_forms() {
	local s=Pw-search-s3cr3t-e2e-x9 pre json
	for pre in "" u: uu: uuu: '{"username":"u","password":"'; do
		json="$pre$s\",\"serveraddress\":\"127.0.0.1:5000\"}"
		printf 'X-Registry-Auth: %s\n' "$(printf '%s' "$json" | base64 -w0 | tr '+/' '-_')" >f1
		printf 'auth %s\n' "$(printf '%s' "$json" | base64 -w0)" >f2
		secret_in "$s" f1 >/dev/null || t_fail "not found in base64url after '$pre'"
		secret_in "$s" f2 >/dev/null || t_fail "not found in base64 after '$pre'"
	done
	echo "no secret here" >f3
	! secret_in "$s" f3 >/dev/null || t_fail "found in a clean file"
	[ "$(secret_forms "$s" | awk 'length < 12' | wc -l)" -eq 0 ] ||
		t_fail "a form is too short to search for"
}

# registry_start USER PASSWORD: a registry of the test's own, with htpasswd
# authentication; sets REG.
registry_start() {
	local port=5200 _
	command -v docker-registry >/dev/null || t_skip "docker-registry is not installed"
	while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		port=$((port + 1))
		[ "$port" -lt 5400 ] || t_fail "no free port from 5200 to 5399"
	done
	REG=127.0.0.1:$port
	mkdir -p "$T_DIR/registry"
	htpasswd -Bbn "$1" "$2" >"$T_DIR/htpasswd"
	cat >"$T_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $T_DIR/registry
http:
  addr: $REG
auth:
  htpasswd:
    realm: secrets-test
    path: $T_DIR/htpasswd
EOF
	docker-registry serve "$T_DIR/registry.yml" >"$T_DIR/registry.log" 2>&1 &
	for _ in $(seq 100); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/")" = 401 ] && return 0
		sleep 0.1
	done
	cat "$T_DIR/registry.log"
	t_fail "the test's registry did not start on $REG"
}

# watched CODE [env...]: runs builder on ./app with --verbose, pushing to
# $REG/t$T_UNIQ/app:1, and records its argv (and that of what it runs:
# credential helpers) every 50 ms while it runs, in argv.txt.
watched() {
	local code=$1 pid rc=0
	shift
	[ -d app ] || make_app app
	: >argv.txt
	# Exported in a subshell that execs builder: `env K=V builder` would
	# show the values in env's own argv until it execs.
	(
		bin=$BUILDER_BIN
		export REGISTRY="$REG" ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 \
			BUILDER=classic REPORT="$T_DIR/report.json"
		# shellcheck disable=SC2163 # the arguments are NAME=VALUE
		[ $# -eq 0 ] || export "$@"
		exec "$bin" --verbose app
	) >"$STDOUT" 2>"$STDERR" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		tr '\0' ' ' <"/proc/$pid/cmdline" >>argv.txt 2>/dev/null || true
		echo >>argv.txt
		for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
			tr '\0' ' ' <"/proc/$c/cmdline" >>argv.txt 2>/dev/null || true
			echo >>argv.txt
		done
		sleep 0.05
	done
	wait "$pid" || rc=$?
	cat "$STDOUT" "$STDERR" >"$OUT"
	sed 's/^/  | /' "$OUT" | cut -c1-200
	echo "  (exit $rc)"
	assert_eq "$rc" "$code" "exit code"
	grep -q -- "--verbose" argv.txt || t_fail "builder's argv was not seen"
	# The trace is there: the secrets' absence means something.
	assert_contains "$STDERR" "POST http://api.moby.localhost/v1."
	assert_contains "$STDERR" "/push"
}

# check_all SECRET...: no secret in any channel.
check_all() {
	local s
	for s in "$@"; do
		assert_no_secret "$s" "$STDOUT" "$STDERR" "$T_DIR/report.json" argv.txt
	done
}

t_env_password() {
	need_builder
	local user=e2e-user-$T_UNIQ pass=Pw-$T_UNIQ-s3cr3t-e2e-x9
	registry_start "$user" "$pass"
	watched 0 REGISTRY_USER="$user" REGISTRY_PASSWORD="$pass"
	assert_contains "$STDERR" "REGISTRY_USER/REGISTRY_PASSWORD"
	check_all "$pass" "$user:$pass"
}

t_wrong_password() {
	need_builder
	local user=e2e-user-$T_UNIQ pass=Pw-$T_UNIQ-right-e2e-x9 wrong=Pw-$T_UNIQ-wrong-e2e-y8
	registry_start "$user" "$pass"
	watched 5 REGISTRY_USER="$user" REGISTRY_PASSWORD="$wrong"
	assert_contains "$STDERR" "unauthorized"
	check_all "$wrong" "$user:$wrong"
}

t_config_json_auth() {
	need_builder
	local user=e2e-user-$T_UNIQ pass=Pw-$T_UNIQ-config-e2e-z7 auth
	registry_start "$user" "$pass"
	auth=$(printf '%s:%s' "$user" "$pass" | base64 -w0)
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$auth" >"$DOCKER_CONFIG/config.json"
	watched 0
	assert_contains "$STDERR" "config.json"
	check_all "$pass" "$user:$pass" "$auth"
}

t_docker_auth_config() {
	need_builder
	local user=e2e-user-$T_UNIQ pass=Pw-$T_UNIQ-dac-e2e-w6 auth
	registry_start "$user" "$pass"
	auth=$(printf '%s:%s' "$user" "$pass" | base64 -w0)
	watched 0 DOCKER_AUTH_CONFIG="{\"auths\":{\"$REG\":{\"auth\":\"$auth\"}}}"
	assert_contains "$STDERR" "DOCKER_AUTH_CONFIG"
	check_all "$pass" "$user:$pass" "$auth"
}

# A helper that answers with an identity token ("<token>" user): the
# registry here only knows passwords, so the push is refused; the token
# must not show anywhere, whatever the outcome.
t_helper_identity_token() {
	need_builder
	local user=e2e-user-$T_UNIQ pass=Pw-$T_UNIQ-unused-e2e-v5 token=Tok-$T_UNIQ-identity-e2e-u4
	registry_start "$user" "$pass"
	mkdir bin
	cat >bin/docker-credential-e2esecret <<HELPER
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server || true
printf '{"ServerURL":"%s","Username":"<token>","Secret":"%s"}' "\$server" "$token"
HELPER
	chmod +x bin/docker-credential-e2esecret
	printf '{"credHelpers":{"%s":"e2esecret"}}' "$REG" >"$DOCKER_CONFIG/config.json"
	watched 5 PATH="$T_DIR/bin:$PATH"
	assert_contains "$STDERR" "docker-credential-e2esecret"
	check_all "$token"
}

# A helper that prints its answer, secret included, on stdout and on stderr,
# and then fails: the error names the helper and its exit code, and quotes
# nothing it printed.
t_failing_helper_output() {
	need_builder
	local user=e2e-user-$T_UNIQ secret=Pw-$T_UNIQ-failhelper-e2e-s2 rc=0
	registry_start "$user" "$secret"
	mkdir bin
	cat >bin/docker-credential-e2efail <<HELPER
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server || true
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$server" "$user" "$secret"
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$server" "$user" "$secret" >&2
exit 1
HELPER
	chmod +x bin/docker-credential-e2efail
	printf '{"credHelpers":{"%s":"e2efail"}}' "$REG" >"$DOCKER_CONFIG/config.json"
	make_app app
	: >argv.txt
	(
		bin=$BUILDER_BIN
		export REGISTRY="$REG" ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 \
			BUILDER=classic REPORT="$T_DIR/report.json" \
			PATH="$T_DIR/bin:$PATH"
		exec "$bin" --verbose app
	) >"$STDOUT" 2>"$STDERR" || rc=$?
	cat "$STDOUT" "$STDERR" | sed 's/^/  | /' | cut -c1-200
	assert_eq "$rc" 2 "exit code"
	assert_contains "$STDERR" "credential helper 'docker-credential-e2efail'"
	assert_contains "$STDERR" "exit code 1"
	assert_eq "$(jq -r .exit_code report.json)" 2
	assert_contains report.json "docker-credential-e2efail"
	check_all "$secret" "$user:$secret"
	assert_not_contains "$STDERR" "Username"
	assert_not_contains report.json "Username"
}

# The classic builder gets the base image's credentials in
# X-Registry-Config; the build pulls the private base with them.
t_private_base_image() {
	need_builder
	local user=e2e-user-$T_UNIQ pass=Pw-$T_UNIQ-base-e2e-t3 base
	registry_start "$user" "$pass"
	base=$REG/t$T_UNIQ/base:1
	docker tag busybox:latest "$base"
	printf '%s' "$pass" | docker --config "$T_DIR/cli" login -u "$user" --password-stdin "$REG" >/dev/null
	docker --config "$T_DIR/cli" push "$base" >/dev/null
	docker rmi "$base" >/dev/null
	rm -rf "$T_DIR/cli"
	mkdir app
	printf 'FROM %s\nRUN echo built-on-private-base-$((40+2))\n' "$base" >app/Dockerfile
	watched 0 REGISTRY_USER="$user" REGISTRY_PASSWORD="$pass"
	assert_contains "$STDOUT" "built-on-private-base-42"
	assert_contains "$STDERR" "POST http://api.moby.localhost/v1.41/build"
	check_all "$pass" "$user:$pass"
	docker rmi "$base" >/dev/null 2>&1 || true
}

t_build_arg_token() {
	need_builder
	local user=e2e-user-$T_UNIQ pass=Pw-$T_UNIQ-ba-e2e tok=Npm-$T_UNIQ-t0ken-e2e
	registry_start "$user" "$pass"
	make_app app
	# The token reaches the build (as --build-arg NPM_TOKEN takes it from
	# the environment), but no output, not even --verbose's trace.
	printf 'ARG NPM_TOKEN\nRUN test -n "$NPM_TOKEN" && echo token-seen\n' >>app/Dockerfile
	watched 0 REGISTRY_USER="$user" REGISTRY_PASSWORD="$pass" \
		BUILD_ARGS=NPM_TOKEN NPM_TOKEN="$tok"
	assert_contains "$STDOUT" "token-seen"
	check_all "$tok" "$pass"
}

run_test "the search finds a secret in its encoded forms" t_search_finds_encoded_forms
run_test "REGISTRY_PASSWORD: a push leaks nothing" t_env_password
run_test "a wrong password: the failed push leaks nothing" t_wrong_password
run_test "config.json auth: a push leaks nothing" t_config_json_auth
run_test "DOCKER_AUTH_CONFIG: a push leaks nothing" t_docker_auth_config
run_test "a helper's identity token leaks nowhere" t_helper_identity_token
run_test "a failing helper's output leaks nowhere" t_failing_helper_output
run_test "a private base image (X-Registry-Config) leaks nothing" t_private_base_image
run_test "a build-arg token stays out of the verbose trace" t_build_arg_token
t_summary
