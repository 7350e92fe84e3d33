#!/usr/bin/env bash
# shellcheck disable=SC2097,SC2098 # BUILDER=classic is builder's own setting, "$BUILDER_BIN" the binary
# Configuration errors, exit codes, --help, --version and `builder check`.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

IMAGE_ID=sha256:f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed
DIGEST=sha256:d16e5700d16e5700d16e5700d16e5700d16e5700d16e5700d16e5700d16e5700

# fe_reply STATUS BODY: a fake-engine "reply" with the right Content-Length.
fe_reply() {
	printf 'reply HTTP/1.1 %s\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\n' \
		"$1" "${#2}" "$2"
}

# fe_whole_run: starts the fake engine with what a whole run (classic
# build, tag, push) needs, so that a run exits 0 without dockerd.
# shellcheck disable=SC2028 # the escapes are the fake engine's
fe_whole_run() {
	{
		echo 'match /_ping'
		echo 'reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK'
		echo 'match GET /version'
		fe_reply '200 OK' '{"Version":"20.10.99-fake","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}'
		echo 'match POST /build'
		echo 'send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'
		echo 'send {"stream":"Step 1/1 : FROM busybox:latest\\n"}\r\n{"aux":{"ID":"'"$IMAGE_ID"'"}}\r\n'
		echo 'close'
		echo 'match /push'
		echo 'send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'
		echo 'send {"status":"1: digest: '"$DIGEST"' size: 527"}\r\n{"progressDetail":{},"aux":{"Tag":"1","Digest":"'"$DIGEST"'","Size":527}}\r\n'
		echo 'close'
		echo 'match POST /images/'
		echo 'reply HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'
		echo 'match GET /images/'
		fe_reply '200 OK' '{"Id":"'"$IMAGE_ID"'","Size":4242}'
	} >"$T_DIR/fake-engine.script"
	fake_engine_start "$T_DIR/fake-engine.script"
	mkdir -p app && echo 'FROM busybox:latest' >app/Dockerfile
}

t_missing_image() {
	need_builder
	unset IMAGE
	ACCOUNT=acme assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "IMAGE is not set"
}

t_uppercase_image() {
	need_builder
	ACCOUNT=acme IMAGE=Calc assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "IMAGE 'Calc' is not a valid repository name"
	assert_contains "$OUT" "lowercase"
}

t_bad_tag() {
	need_builder
	ACCOUNT=acme IMAGE=calc TAG='bad tag!' assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "TAG 'bad tag!' is not a valid tag"
	assert_contains "$OUT" "128"
}

t_bad_extra_tag_and_registry() {
	need_builder
	ACCOUNT=acme IMAGE=calc EXTRA_TAGS='latest -x' assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "EXTRA_TAGS '-x'"
	ACCOUNT=acme IMAGE=calc REGISTRY='https://r.example.com' assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "REGISTRY 'https://r.example.com'"
	ACCOUNT=acme IMAGE=calc PUSH=maybe assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "PUSH 'maybe' is not a boolean"
	ACCOUNT=acme IMAGE=calc assert_exit 2 "$BUILDER_BIN" --bogus
	assert_contains "$OUT" "unknown option '--bogus'"
}

t_unreachable_socket() {
	need_builder
	mkdir ctx && echo 'FROM busybox:latest' >ctx/Dockerfile
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		assert_exit 3 "$BUILDER_BIN" ctx
	assert_contains "$OUT" "/nope.sock"
	assert_contains "$OUT" "-v /var/run/docker.sock:/var/run/docker.sock"
}

t_unsupported_host() {
	need_builder
	DOCKER_HOST=ssh://me@host ACCOUNT=acme IMAGE=calc assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "DOCKER_HOST 'ssh://me@host' is not supported"
}

t_help_and_version() {
	need_builder
	assert_exit 0 "$BUILDER_BIN" --help
	for word in ACCOUNT IMAGE TAG REGISTRY EXTRA_TAGS CONTEXT DOCKERFILE \
		BUILD_ARGS TARGET LABELS TEST_CMD TEST_SERVICES TEST_TIMEOUT PUSH \
		CACHE_FROM REGISTRY_USER REPORT DOCKER_HOST 'Exit codes' 143; do
		assert_contains "$STDOUT" "$word"
	done
	assert_exit 0 "$BUILDER_BIN" --version
	assert_contains "$STDOUT" "builder "
}

t_check_reports_engine() {
	need_builder
	REGISTRY_USER=someone REGISTRY_PASSWORD=s3cr3t-check \
		assert_exit 0 "$BUILDER_BIN" check --registry "$REGISTRY_ADDR"
	want=$(docker version --format '{{.Server.Version}}')
	assert_contains "$STDOUT" "version:      $want"
	assert_contains "$STDOUT" "api version:  1.41"
	assert_contains "$STDOUT" "REGISTRY_USER"
	assert_not_contains "$OUT" "s3cr3t-check"
}

t_api_version_forced() {
	need_builder
	DOCKER_API_VERSION=1.40 assert_exit 0 "$BUILDER_BIN" check
	assert_contains "$STDOUT" "api version:  1.40"
	DOCKER_API_VERSION=banana assert_exit 2 "$BUILDER_BIN" check
	assert_contains "$OUT" "DOCKER_API_VERSION 'banana'"
}

t_tag_from_ci() {
	need_builder
	mkdir ctx && echo 'FROM busybox:latest' >ctx/Dockerfile
	# A configuration error later on still shows which TAG was chosen.
	CIRCLE_BUILD_NUM=77 DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		assert_exit 3 "$BUILDER_BIN" ctx
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
		"$BUILDER_BIN" check
	assert_contains "$OUT" "permission denied on socket '/var/run/docker.sock'"
	assert_contains "$OUT" "group '$group'"
}

# --- issue 13 ---------------------------------------------------------------

t_report_on_usage_error() {
	need_builder
	# REPORT was read after the other variables and no report was
	# written on exit 2.
	REPORT=$T_DIR/r1.json ACCOUNT=acme IMAGE=calc PUSH=maybe \
		assert_exit 2 "$BUILDER_BIN"
	assert_eq "$(jq -r .exit_code r1.json)" 2 "exit_code in the report"
	assert_contains r1.json "PUSH 'maybe' is not a boolean"
	ACCOUNT=acme IMAGE=Calc assert_exit 2 "$BUILDER_BIN" --report "$T_DIR/r2.json"
	assert_eq "$(jq -r .success r2.json)" false "success in the report"
	assert_contains r2.json "IMAGE 'Calc'"
}

t_make_cflags() {
	# make CFLAGS=... replaced -D_GNU_SOURCE and the version define.
	# Each level warns differently (-O0 format truncation, -O1
	# maybe-uninitialized); CI=true makes any warning an error.
	mkdir src
	cp -r "$REPO_ROOT/Makefile" "$REPO_ROOT/builder" "$REPO_ROOT/scripts" src/
	for level in -O0 -O1 -O3 -Os; do
		rm -rf src/build src/bin
		assert_exit 0 make -C src -j2 CI=true CFLAGS="$level" bin/builder
		assert_not_contains "$OUT" "warning:"
	done
	assert_exit 0 src/bin/builder --version
	assert_contains "$STDOUT" "builder dev"
	# A new version (a new commit) reaches the binary, though no other
	# source changed: it lives in util/version.o alone, rebuilt for it.
	assert_exit 0 make -C src -j2 CI=true VERSION=v-one bin/builder
	assert_exit 0 make -C src -j2 CI=true VERSION=v-two bin/builder
	assert_exit 0 src/bin/builder --version
	assert_eq "$(cat "$STDOUT")" "builder v-two" "--version"
	assert_exit 0 strings src/bin/builder
	assert_not_contains "$STDOUT" "v-one"
	assert_contains "$STDOUT" "builder/v-two"
}

t_report_missing_dir_before_engine() {
	need_builder
	# Found only after build, test and push ran; now before any engine
	# call: exit 2, not the engine's 3.
	mkdir ctx && echo 'FROM busybox:latest' >ctx/Dockerfile
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		REPORT=$T_DIR/missing/r.json assert_exit 2 "$BUILDER_BIN" ctx
	assert_contains "$OUT" "REPORT '$T_DIR/missing/r.json': the directory '$T_DIR/missing' does not exist"
	assert_not_contains "$OUT" "nope.sock"
	assert_eq "$(grep -c '^builder: error: ' "$STDERR")" 1 "error lines"
	mkdir ro && chmod 555 ro
	if [ "$(id -u)" != 0 ]; then
		DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
			assert_exit 2 "$BUILDER_BIN" --report ro/r.json ctx
		assert_contains "$OUT" "cannot write in the directory 'ro'"
	fi
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		assert_exit 2 "$BUILDER_BIN" --report "$T_DIR" ctx
	assert_contains "$OUT" "is a directory"
}

t_report_through_symlink() {
	need_builder
	mkdir ctx dest && echo 'FROM busybox:latest' >ctx/Dockerfile
	echo old >dest/target.json
	ln -s dest/target.json link.json
	# A link is written through, not replaced by a file.
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		REPORT=link.json assert_exit 3 "$BUILDER_BIN" ctx
	[ -L link.json ] || t_fail "link.json was replaced by a file"
	assert_eq "$(jq -r .exit_code dest/target.json)" 3 "exit_code through the link"
	# A link to a file yet to be made creates the file.
	ln -s dest/new.json dangling.json
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		REPORT=dangling.json assert_exit 3 "$BUILDER_BIN" ctx
	[ -L dangling.json ] || t_fail "dangling.json was replaced by a file"
	assert_eq "$(jq -r .exit_code dest/new.json)" 3 "exit_code in the new file"
}

t_report_to_fifo_and_stdout() {
	need_builder
	mkdir ctx && echo 'FROM busybox:latest' >ctx/Dockerfile
	mkfifo r.fifo
	timeout 20 cat r.fifo >got.json &
	local reader=$!
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		REPORT=r.fifo assert_exit 3 "$BUILDER_BIN" ctx
	wait "$reader" || t_fail "nothing wrote to the FIFO"
	[ -p r.fifo ] || t_fail "the FIFO was replaced"
	assert_eq "$(jq -r .exit_code got.json)" 3 "exit_code through the FIFO"
	# /dev/stdout is written, never renamed over (as root that replaced
	# the system's /dev/stdout).
	[ -e /dev/stdout ] || t_skip "no /dev/stdout"
	local before
	before=$(stat -c %F /dev/stdout)
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc \
		assert_exit 3 "$BUILDER_BIN" --report /dev/stdout ctx
	assert_eq "$(stat -c %F /dev/stdout)" "$before" "/dev/stdout"
	assert_eq "$(jq -r .exit_code "$STDOUT")" 3 "the report on stdout"
}

t_stdout_full() {
	need_builder
	[ -w /dev/full ] || t_skip "no /dev/full"
	fe_whole_run
	# The run exits 0 against the fake engine, the reference on stdout.
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=acme IMAGE=app TAG=1 \
		REGISTRY=registry.example:5000 BUILDER=classic \
		assert_exit 0 "$BUILDER_BIN" app
	assert_eq "$(tail -n 1 "$STDOUT")" "registry.example:5000/acme/app:1@$DIGEST" "last line"
	# With stdout on a full disk the reference is lost: a failure.
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=acme IMAGE=app TAG=1 \
		REGISTRY=registry.example:5000 BUILDER=classic REPORT=r.json \
		assert_exit 5 sh -c 'exec "$0" app >/dev/full' "$BUILDER_BIN"
	assert_contains "$STDERR" "cannot write to stdout"
	assert_eq "$(jq -r .exit_code r.json)" 5 "exit_code in the report"
	assert_eq "$(jq -r .digest r.json)" "$DIGEST" "digest in the report"
	assert_exit 5 sh -c 'exec "$0" --version >/dev/full' "$BUILDER_BIN"
}

t_tag_source_named() {
	need_builder
	unset TAG
	CI_PIPELINE_IID=1/2 ACCOUNT=acme IMAGE=calc assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "CI_PIPELINE_IID '1/2', the default TAG, is not a valid tag"
	assert_contains "$OUT" "set TAG"
}

t_services_checked_before_engine() {
	need_builder
	mkdir ctx && echo 'FROM busybox:latest' >ctx/Dockerfile
	DOCKER_HOST=unix:///nope.sock ACCOUNT=acme IMAGE=calc TEST_CMD=true \
		TEST_SERVICES='db=Postgres:16' assert_exit 2 "$BUILDER_BIN" ctx
	assert_contains "$OUT" "TEST_SERVICES"
	assert_contains "$OUT" "Postgres:16"
	assert_not_contains "$OUT" "nope.sock"
}

t_settings_from_config() {
	need_builder
	# BUILDER_IDLE_TIMEOUT is checked with the rest, before the engine.
	DOCKER_HOST=unix:///nope.sock BUILDER_IDLE_TIMEOUT=soon ACCOUNT=acme \
		IMAGE=calc assert_exit 2 "$BUILDER_BIN"
	assert_contains "$OUT" "BUILDER_IDLE_TIMEOUT 'soon'"
	# The engine and the CI labels get what config read.
	fe_whole_run
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=acme IMAGE=app TAG=1 PUSH=false \
		BUILDER=classic GITHUB_ACTIONS=true GITHUB_SHA=abc$T_UNIQ CI_PROJECT_URL=https://x.example/p \
		BUILD_ARGS=$'A=x=y,B=a,b\nURL=http://x/?a=1,b=2' \
		assert_exit 0 "$BUILDER_BIN" app
	assert_contains "$FAKE_LOG" "abc$T_UNIQ"
	# buildargs={"A":"x=y,B=a,b","URL":"http://x/?a=1,b=2"}, URL-encoded
	assert_contains "$FAKE_LOG" "%22A%22%3A%22x%3Dy%2CB%3Da%2Cb%22"
	assert_contains "$FAKE_LOG" "%22URL%22%3A%22http%3A%2F%2Fx%2F%3Fa%3D1%2Cb%3D2%22"
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
run_test "a usage error writes the report too" t_report_on_usage_error
run_test "make CFLAGS=-O0, -O1, -O3, -Os builds without a warning" t_make_cflags
run_test "a REPORT in a missing directory exits 2 before the engine" t_report_missing_dir_before_engine
run_test "a REPORT symlink is written through" t_report_through_symlink
run_test "a REPORT FIFO and /dev/stdout are written, not replaced" t_report_to_fifo_and_stdout
run_test "stdout on a full disk fails the run" t_stdout_full
run_test "a bad default tag names its CI variable" t_tag_source_named
run_test "TEST_SERVICES images are checked before the engine" t_services_checked_before_engine
run_test "engine and CI settings come from config" t_settings_from_config
t_summary
