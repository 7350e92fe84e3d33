#!/usr/bin/env bash
# Configuration errors, exit codes, --help, --version and `builder check`.
. "$(dirname "$0")/../lib.sh"

t_missing_image() {
	need_builder
	unset IMAGE
	ACCOUNT=acme assert_exit 2 "$BUILDER"
	assert_contains "$OUT" "IMAGE is not set"
}

t_uppercase_image() {
	need_builder
	ACCOUNT=acme IMAGE=Calc assert_exit 2 "$BUILDER"
	assert_contains "$OUT" "IMAGE 'Calc' is not a valid repository name"
	assert_contains "$OUT" "lowercase"
}

t_bad_tag() {
	need_builder
	ACCOUNT=acme IMAGE=calc TAG='bad tag!' assert_exit 2 "$BUILDER"
	assert_contains "$OUT" "TAG 'bad tag!' is not a valid tag"
	assert_contains "$OUT" "128"
}

t_bad_extra_tag_and_registry() {
	need_builder
	ACCOUNT=acme IMAGE=calc EXTRA_TAGS='latest -x' assert_exit 2 "$BUILDER"
	assert_contains "$OUT" "EXTRA_TAGS '-x'"
	ACCOUNT=acme IMAGE=calc REGISTRY='https://r.example.com' assert_exit 2 "$BUILDER"
	assert_contains "$OUT" "REGISTRY 'https://r.example.com'"
	ACCOUNT=acme IMAGE=calc PUSH=maybe assert_exit 2 "$BUILDER"
	assert_contains "$OUT" "PUSH 'maybe' is not a boolean"
	ACCOUNT=acme IMAGE=calc assert_exit 2 "$BUILDER" --bogus
	assert_contains "$OUT" "unknown option '--bogus'"
}

t_unreachable_socket() {
	need_builder
	mkdir ctx && echo 'FROM busybox:latest' >ctx/Dockerfile
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		assert_exit 3 "$BUILDER" ctx
	assert_contains "$OUT" "/nope.sock"
	assert_contains "$OUT" "-v /var/run/docker.sock:/var/run/docker.sock"
}

t_unsupported_host() {
	need_builder
	DOCKER_HOST=ssh://me@host ACCOUNT=acme IMAGE=calc assert_exit 2 "$BUILDER"
	assert_contains "$OUT" "DOCKER_HOST 'ssh://me@host' is not supported"
}

t_help_and_version() {
	need_builder
	assert_exit 0 "$BUILDER" --help
	for word in ACCOUNT IMAGE TAG REGISTRY EXTRA_TAGS CONTEXT DOCKERFILE \
		BUILD_ARGS TARGET LABELS TEST_CMD TEST_SERVICES TEST_TIMEOUT PUSH \
		CACHE_FROM REGISTRY_USER REPORT DOCKER_HOST 'Exit codes' 143; do
		assert_contains "$STDOUT" "$word"
	done
	assert_exit 0 "$BUILDER" --version
	assert_contains "$STDOUT" "builder "
}

t_check_reports_engine() {
	need_builder
	REGISTRY_USER=someone REGISTRY_PASSWORD=s3cr3t-check \
		assert_exit 0 "$BUILDER" check --registry "$REGISTRY_ADDR"
	want=$(docker version --format '{{.Server.Version}}')
	assert_contains "$STDOUT" "version:      $want"
	assert_contains "$STDOUT" "api version:  1.41"
	assert_contains "$STDOUT" "REGISTRY_USER"
	assert_not_contains "$OUT" "s3cr3t-check"
}

t_api_version_forced() {
	need_builder
	DOCKER_API_VERSION=1.40 assert_exit 0 "$BUILDER" check
	assert_contains "$STDOUT" "api version:  1.40"
	DOCKER_API_VERSION=banana assert_exit 2 "$BUILDER" check
	assert_contains "$OUT" "DOCKER_API_VERSION 'banana'"
}

t_tag_from_ci() {
	need_builder
	mkdir ctx && echo 'FROM busybox:latest' >ctx/Dockerfile
	# A configuration error later on still shows which TAG was chosen.
	CIRCLE_BUILD_NUM=77 DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		assert_exit 3 "$BUILDER" ctx
	assert_contains "$OUT" "acme/calc:77 (tag from CIRCLE_BUILD_NUM)"
}

t_socket_permission_denied() {
	need_builder
	command -v setpriv >/dev/null || t_skip "setpriv is missing"
	sock=$(stat -c '%U:%G %a' /var/run/docker.sock)
	case $sock in *' 660' | *' 600') ;; *) t_skip "socket mode is $sock" ;; esac
	group=$(stat -c %G /var/run/docker.sock)
	chmod 755 "$T_DIR"
	assert_exit 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BUILDER" check
	assert_contains "$OUT" "permission denied on socket '/var/run/docker.sock'"
	assert_contains "$OUT" "group '$group'"
}

run_test "missing IMAGE exits 2 naming it" t_missing_image
run_test "uppercase IMAGE exits 2 naming the rule" t_uppercase_image
run_test "bad TAG exits 2 naming the rule" t_bad_tag
run_test "other bad values exit 2" t_bad_extra_tag_and_registry
run_test "missing socket exits 3 naming it" t_unreachable_socket
run_test "unsupported DOCKER_HOST exits 2" t_unsupported_host
run_test "--help lists everything, --version" t_help_and_version
run_test "check prints the engine and the API version" t_check_reports_engine
run_test "DOCKER_API_VERSION forces the version" t_api_version_forced
run_test "TAG defaults to the CI build number" t_tag_from_ci
run_test "permission denied names the socket and its group" t_socket_permission_denied
t_summary
