#!/usr/bin/env bash
# shellcheck disable=SC2030,SC2031 # test variables live in subshells
# API version negotiation against fake engines of every age: Docker 20.10
# (API 1.41), 24 (1.43), 29 (1.52, refusing anything below 1.44), an
# engine too old for builder, and one whose minimum is above builder's
# maximum; DOCKER_API_VERSION forcing. The request log shows which version
# each request carried.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# fake_docker API MIN [BUILDER_VERSION]: a script for an engine that
# answers /_ping with Api-Version API and accepts versioned paths from MIN
# to API only, refusing the others with the engine's own messages
# (daemon/server/middleware/version.go). Accepted: GET /version, and a
# classic build of a tiny image (POST /build, GET /images/.../json,
# POST /images/.../tag, and DELETE /images/... of the run's name for it).
fake_docker() {
	local api=${1#1.} min=${2#1.} bv=${3:-1} m v body
	printf 'match /_ping\n'
	printf 'reply HTTP/1.1 200 OK\\r\\nApi-Version: 1.%s\\r\\nOstype: linux\\r\\nBuilder-Version: %s\\r\\nServer: Docker/fake (linux)\\r\\nContent-Length: 2\\r\\n\\r\\nOK\n' \
		"$api" "$bv"
	for m in $(seq 12 70); do
		v=1.$m
		if [ "$m" -lt "$min" ]; then
			body="{\"message\":\"client version $v is too old. Minimum supported API version is 1.$min, please upgrade your client to a newer version\"}"
		elif [ "$m" -gt "$api" ]; then
			body="{\"message\":\"client version $v is too new. Maximum supported API version is 1.$api\"}"
		else
			body="{\"Version\":\"fake-1.$api\",\"ApiVersion\":\"1.$api\",\"MinAPIVersion\":\"1.$min\",\"Os\":\"linux\",\"Arch\":\"amd64\"}"
			printf 'match GET /v%s/version\n' "$v"
			printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\\n\n' \
				$((${#body} + 1)) "$body"
			printf 'match POST /v%s/build\n' "$v"
			printf 'send HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n\n'
			printf 'chunked {"stream":"Step 1/1 : FROM scratch\\\\n"}\\r\\n{"aux":{"ID":"sha256:%s"}}\\r\\n{"stream":"Successfully built %s\\\\n"}\\r\\n\n' \
				"$(printf 'ab%.0s' $(seq 32))" abababababab
			printf 'chunked-end\n'
			body="{\"Id\":\"sha256:$(printf 'ab%.0s' $(seq 32))\",\"Size\":1234,\"RepoTags\":[]}"
			printf 'match GET /v%s/images/\n' "$v"
			printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\\n\n' \
				$((${#body} + 1)) "$body"
			printf 'match POST /v%s/images/\n' "$v"
			printf 'reply HTTP/1.1 201 Created\\r\\nContent-Length: 0\\r\\n\\r\\n\n'
			printf 'match DELETE /v%s/images/\n' "$v"
			printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: 2\\r\\n\\r\\n[]\n'
			continue
		fi
		printf 'match /v%s/\n' "$v"
		printf 'reply HTTP/1.1 400 Bad Request\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\\n\n' \
			$((${#body} + 1)) "$body"
	done
}

# check_on API MIN [VAR=VALUE...] -- EXPECTED_EXIT: builder check against a
# fresh fake engine.
check_on() {
	local api=$1 min=$2 want
	shift 2
	fake_docker "$api" "$min" >fake.script
	fake_engine_start "$T_DIR/fake.script"
	want=${*: -1}
	assert_exit "$want" env DOCKER_HOST="unix://$FAKE_SOCK" \
		"${@:1:$#-1}" "$BUILDER_BIN" check
}

# versions_used: the distinct /vX.Y prefixes in the request log.
versions_used() {
	sed -n 's|^[A-Z]* /v\([0-9.]*\)/.*|\1|p' "$FAKE_LOG" | sort -u | tr '\n' ' '
}

t_docker29() {
	need_builder
	check_on 1.52 1.44 0
	assert_contains "$STDOUT" "api version:  1.47"
	assert_eq "$(versions_used)" "1.47 " "versions in the request log"
	assert_contains "$FAKE_LOG" "GET /_ping"
	assert_contains "$FAKE_LOG" "GET /v1.47/version"
	assert_not_contains "$FAKE_LOG" "=> no rule"
}

t_docker29_pipeline() {
	need_builder
	fake_docker 1.52 1.44 2 >fake.script
	fake_engine_start "$T_DIR/fake.script"
	mkdir app
	echo 'FROM scratch' >app/Dockerfile
	assert_exit 0 env DOCKER_HOST="unix://$FAKE_SOCK" BUILDER=classic \
		ACCOUNT=acme IMAGE="t$T_UNIQ" TAG=1 PUSH=false "$BUILDER_BIN" app
	assert_contains "$OUT" "API 1.47"
	assert_eq "$(versions_used)" "1.47 " "versions in the request log"
	assert_contains "$FAKE_LOG" "POST /v1.47/build"
	assert_contains "$FAKE_LOG" "DELETE /v1.47/images/builder-run:b"
	assert_not_contains "$FAKE_LOG" "=> no rule"
}

t_docker2010() {
	need_builder
	check_on 1.41 1.12 0
	assert_contains "$STDOUT" "api version:  1.41"
	assert_eq "$(versions_used)" "1.41 " "versions in the request log"
}

t_docker24() {
	need_builder
	check_on 1.43 1.12 0
	assert_contains "$STDOUT" "api version:  1.43"
	assert_eq "$(versions_used)" "1.43 " "versions in the request log"
}

t_engine_too_old() {
	need_builder
	check_on 1.40 1.12 3
	assert_contains "$STDERR" "speaks Docker API 1.40 at most"
	assert_contains "$STDERR" "upgrade the engine"
	assert_contains "$STDERR" "unix://$FAKE_SOCK"
	# Nothing is asked after the ping.
	assert_eq "$(grep -c '^[A-Z]' "$FAKE_LOG")" 1 "requests"
}

t_engine_minimum_above_ours() {
	need_builder
	check_on 1.60 1.50 3
	assert_contains "$STDERR" "client version 1.47 is too old. Minimum supported API version is 1.50"
	assert_contains "$STDERR" "use a newer builder"
	assert_not_contains "$STDERR" "unset DOCKER_API_VERSION"
}

t_forced_version_is_sent() {
	need_builder
	check_on 1.43 1.12 DOCKER_API_VERSION=1.41 0
	assert_eq "$(versions_used)" "1.41 " "versions in the request log"
	assert_contains "$STDOUT" "api version:  1.41"
	assert_contains "$STDERR" "API version 1.41 forced by DOCKER_API_VERSION (the engine reports 1.43)"
}

t_forced_version_above_ours() {
	need_builder
	# Docker 29 speaks 1.52: forcing a version builder does not know is
	# allowed, as with the docker CLI.
	check_on 1.52 1.44 DOCKER_API_VERSION=1.50 0
	assert_eq "$(versions_used)" "1.50 " "versions in the request log"
}

t_forced_too_old() {
	need_builder
	check_on 1.52 1.44 DOCKER_API_VERSION=1.41 3
	assert_contains "$STDERR" "client version 1.41 is too old. Minimum supported API version is 1.44"
	assert_contains "$STDERR" "forced by DOCKER_API_VERSION"
	assert_contains "$STDERR" "unset DOCKER_API_VERSION to negotiate"
	assert_contains "$FAKE_LOG" "GET /v1.41/version"
}

t_forced_too_new() {
	need_builder
	check_on 1.43 1.12 DOCKER_API_VERSION=1.45 3
	assert_contains "$STDERR" "warning: DOCKER_API_VERSION 1.45 is newer than the engine's API 1.43"
	assert_contains "$STDERR" "client version 1.45 is too new. Maximum supported API version is 1.43"
}

t_forced_malformed() {
	need_builder
	local v
	for v in v1.41 1.41.0 latest 1; do
		assert_exit 2 env DOCKER_HOST=unix:///nonexistent/docker.sock \
			DOCKER_API_VERSION=$v "$BUILDER_BIN" check
		assert_contains "$STDERR" "DOCKER_API_VERSION '$v' is not an API version"
	done
}

run_test "Docker 29 (API 1.52, minimum 1.44): check negotiates 1.47" t_docker29
run_test "Docker 29: every request of a build uses 1.47" t_docker29_pipeline
run_test "Docker 20.10 (API 1.41): 1.41" t_docker2010
run_test "Docker 24 (API 1.43): 1.43" t_docker24
run_test "an API 1.40 engine: upgrade the engine, exit 3" t_engine_too_old
run_test "an engine whose minimum is above 1.47: use a newer builder" t_engine_minimum_above_ours
run_test "DOCKER_API_VERSION=1.41 is sent as /v1.41/" t_forced_version_is_sent
run_test "DOCKER_API_VERSION above builder's maximum is sent as is" t_forced_version_above_ours
run_test "DOCKER_API_VERSION too old: the engine's message and a hint" t_forced_too_old
run_test "DOCKER_API_VERSION too new: a warning, then the engine's message" t_forced_too_new
run_test "a malformed DOCKER_API_VERSION is a usage error" t_forced_malformed
t_summary
