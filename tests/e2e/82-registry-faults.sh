#!/usr/bin/env bash
# Faults of the registry, met by the real engine during a push: the engine
# pushes to tests/registry-proxy.c (127.0.0.1, so plain HTTP), which
# forwards to the test registry and answers some requests with a 500 or a
# 401 instead. What the engine retries by itself (a layer upload: "Retrying
# in N seconds", up to 5 attempts) and what builder retries (a failed push,
# PUSH_RETRIES) are both seen here. The registry being down is in
# 50-push.sh ("registry down: retries, then exit 5 naming it").
#
# TEST_LONG=1 also runs the persistent blob-upload failure (about 100 s:
# the engine's five attempts, twice).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

PROXY=$REPO_ROOT/build/registry-proxy
PROXY_SRC=$REPO_ROOT/tests/registry-proxy.c

# The proxy is built here when it is missing or older than its source
# (the Makefile may not know it yet); into a temporary name first, so that
# two test files building it at once do not see half a binary.
if [ ! -x "$PROXY" ] || [ "$PROXY_SRC" -nt "$PROXY" ]; then
	mkdir -p "$(dirname "$PROXY")"
	${CC:-cc} -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wpedantic -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wformat=2 \
		-Wvla -fno-common -o "$PROXY.$$" "$PROXY_SRC" && mv "$PROXY.$$" "$PROXY"
fi

# proxy_start RULE...: starts the proxy in front of the test registry and
# sets PROXY_ADDR; its request log is $T_DIR/proxy.log.
proxy_start() {
	local _
	[ -x "$PROXY" ] || t_fail "'$PROXY' was not built from $PROXY_SRC"
	[ -n "${REGISTRY_ADDR:-}" ] || t_fail "no test registry: run 'bash scripts/test-env.sh up'"
	"$PROXY" --port-file "$T_DIR/proxy.port" --log "$T_DIR/proxy.log" \
		"$REGISTRY_ADDR" "$@" 2>"$T_DIR/proxy.err" &
	for _ in $(seq 100); do
		if [ -s "$T_DIR/proxy.port" ]; then
			PROXY_ADDR=127.0.0.1:$(cat "$T_DIR/proxy.port")
			return 0
		fi
		sleep 0.05
	done
	cat "$T_DIR/proxy.err" >&2
	t_fail "the registry proxy did not start"
}

# push_through_proxy CODE [env...]: the pipeline pushing a fresh image (one
# layer of its own, so that the engine has to upload it) to
# $PROXY_ADDR/t$T_UNIQ/app:1.
push_through_proxy() {
	local code=$1
	shift
	if [ ! -d app ]; then
		make_app app
		echo "$T_UNIQ" >app/uniq
		echo 'COPY uniq /uniq' >>app/Dockerfile
	fi
	env REGISTRY="$PROXY_ADDR" ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 BUILDER=classic \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T" \
		REPORT="$T_DIR/report.json" "$@" \
		"$BUILDER_BIN" app >"$STDOUT" 2>"$STDERR" && RC=0 || RC=$?
	cat "$STDOUT" "$STDERR" >"$OUT"
	sed 's/^/  | /' "$OUT"
	echo "  (exit $RC)"
	sed 's/^/  proxy: /' "$T_DIR/proxy.log" | cut -c1-160
	assert_eq "$RC" "$code" "exit code"
	assert_not_contains "$OUT" "AddressSanitizer"
}

# injected PATTERN: how many requests matching PATTERN got an injected answer.
injected() {
	grep -c -- "$1.* => [0-9]* injected" "$T_DIR/proxy.log" || true
}

check_pushed() {
	local digest
	assert_eq "$(registry_tags "t$T_UNIQ/app")" 1 "tags in the registry"
	digest=$(registry_digest "t$T_UNIQ/app" 1)
	assert_eq "$(tail -n 1 "$STDOUT")" "$PROXY_ADDR/t$T_UNIQ/app:1@$digest" "last line"
	assert_eq "$(jq -r .digest "$T_DIR/report.json")" "$digest" "report digest"
}

check_not_pushed() {
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags in the registry"
	assert_eq "$(grep -c '^builder: error: ' "$STDERR")" 1 "error lines"
	assert_eq "$(jq -r .exit_code "$T_DIR/report.json")" 5 "report exit code"
	assert_eq "$(jq -r .failed_stage "$T_DIR/report.json")" push "report stage"
}

t_proxy_passes_through() {
	need_builder
	proxy_start
	push_through_proxy 0
	check_pushed
	grep -q 'PATCH /v2/.* => HTTP/1.1 202' "$T_DIR/proxy.log" ||
		t_fail "no blob upload went through the proxy"
	assert_not_contains "$OUT" "retry"
}

# One 500 on a blob upload: the engine retries the layer itself and the
# push succeeds, with no retry by builder.
t_blob_upload_500_once() {
	need_builder
	proxy_start --fail 'PATCH /v2/' 500 --times 1
	push_through_proxy 0
	check_pushed
	assert_eq "$(injected PATCH)" 1 "injected 500s"
	assert_contains "$OUT" "Retrying in"
	assert_not_contains "$STDERR" "retry 1 of"
}

# A 500 on the manifest is not retried by the engine: builder's retry
# (PUSH_RETRIES) makes the push succeed.
t_manifest_500_once() {
	need_builder
	proxy_start --fail '/manifests/' 500 --times 1
	push_through_proxy 0 PUSH_RETRIES=2
	check_pushed
	assert_eq "$(injected /manifests/)" 1 "injected 500s"
	assert_contains "$STDERR" "failed (received unexpected HTTP status: 500 Internal Server Error); retry 1 of 2"
	assert_not_contains "$STDERR" "retry 2 of 2"
	assert_eq "$(jq -r .success "$T_DIR/report.json")" true "report success"
}

t_manifest_500_always() {
	need_builder
	proxy_start --fail '/manifests/' 500
	push_through_proxy 5 PUSH_RETRIES=2
	check_not_pushed
	assert_eq "$(injected /manifests/)" 3 "manifest attempts"
	assert_contains "$STDERR" "retry 1 of 2"
	assert_contains "$STDERR" "retry 2 of 2"
	assert_contains "$STDERR" "builder: error: push of '$PROXY_ADDR/t$T_UNIQ/app:1' to registry '$PROXY_ADDR' failed after retries"
	assert_contains "$STDERR" "500 Internal Server Error"
}

# Every blob upload fails: the engine gives up after its five attempts,
# builder retries the push once, then exits 5.
t_blob_upload_500_always() {
	need_builder
	[ "${TEST_LONG:-}" = 1 ] || t_skip "about 100 s: set TEST_LONG=1"
	proxy_start --fail 'PATCH /v2/' 500
	push_through_proxy 5 PUSH_RETRIES=1
	check_not_pushed
	assert_contains "$OUT" "Retrying in"
	assert_contains "$STDERR" "retry 1 of 1"
	assert_contains "$STDERR" "failed after retries"
	assert_contains "$STDERR" "500 Internal Server Error"
}

# The registry turns the credentials down part-way, after the layers are
# in: exit 5 at once, no retry by builder.
t_manifest_401() {
	need_builder
	proxy_start --fail '/manifests/' 401
	push_through_proxy 5 PUSH_RETRIES=3
	check_not_pushed
	assert_eq "$(injected /manifests/)" 1 "manifest attempts"
	assert_contains "$STDERR" "unauthorized"
	assert_contains "$STDERR" "(credentials: REGISTRY_USER/REGISTRY_PASSWORD)"
	assert_not_contains "$STDERR" "retry"
	assert_not_contains "$OUT" "$REGISTRY_PASS_T"
}

# Every request after the first 4 gets 401, in the middle of the layer
# uploads: the engine retries its layers (about 50 s), builder does not
# retry the push.
t_401_after_4_requests() {
	need_builder
	proxy_start --after 4 401
	push_through_proxy 5 PUSH_RETRIES=3
	check_not_pushed
	assert_contains "$STDERR" "unauthorized"
	assert_not_contains "$STDERR" "retry 1 of"
	[ "$(injected ' ')" -ge 1 ] || t_fail "no 401 was injected"
}

# The engine itself goes away during a push and is back 2.5 s later, on a
# unix socket: first the connection is lost, then the socket file does not
# exist, then nobody listens; each is worth another try, as on tcp. The fake
# engine stands in (the shared dockerd is never restarted here).
t_engine_restart_during_push() {
	need_builder
	make_app app
	local image_id digest
	image_id=sha256:$(printf '%064d' 7)
	digest=sha256:$(printf '%064d' 9)
	local head='send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'
	engine_rules() {
		echo 'match /_ping'
		echo 'reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK'
		echo 'match GET /version'
		echo 'reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'
		echo 'match POST /build'
		echo "$head"
		echo 'send {"stream":"Step 1/1 : FROM busybox:latest\\n"}\r\n{"aux":{"ID":"'"$image_id"'"}}\r\n'
		echo 'close'
		echo 'match POST /images/'
		echo 'reply HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'
		echo 'match GET /images/'
		body='{"Id":"'$image_id'","Size":42}'
		printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\n' "${#body}" "$body"
	}
	# Chunked, as dockerd sends it: the kill cuts the stream before its
	# last chunk.
	{
		echo 'match /push'
		echo 'send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'
		echo 'chunked {"status":"The push refers to repository [registry.example:5000/acme/app]"}\r\n'
		echo 'hold'
		engine_rules
	} >before.script
	{
		echo 'match /push'
		echo "$head"
		echo 'send {"status":"1: digest: '"$digest"' size: 527"}\r\n'
		echo 'close'
		engine_rules
	} >after.script
	fake_engine_start before.script
	DOCKER_HOST=unix://$FAKE_SOCK REGISTRY=registry.example:5000 ACCOUNT=acme \
		IMAGE=app TAG=1 BUILDER=classic PUSH_RETRIES=3 \
		"$BUILDER_BIN" app >out 2>err &
	local pid=$! _ rc=0
	for _ in $(seq 200); do
		grep -q '/push' "$FAKE_LOG" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '/push' "$FAKE_LOG" || t_fail "builder never pushed"
	fake_engine_stop
	[ ! -e "$FAKE_SOCK" ] || t_fail "the socket file is still there"
	sleep 2.5
	fake_engine_start after.script
	wait "$pid" || rc=$?
	cat out err
	assert_eq "$rc" 0 "exit status"
	assert_eq "$(tail -n 1 out)" "registry.example:5000/acme/app:1@$digest" "last line"
	assert_contains err "retry 1 of 3"
	assert_contains err "does not exist"
}

run_test "the engine restarts during a push on a unix socket: retried, pushed" t_engine_restart_during_push
run_test "the proxy passes a push through" t_proxy_passes_through
run_test "500 once on a blob upload: the engine retries, the push succeeds" t_blob_upload_500_once
run_test "500 once on the manifest: builder retries, the push succeeds" t_manifest_500_once
run_test "500 on every manifest: retries, then exit 5" t_manifest_500_always
run_test "500 on every blob upload: retries, then exit 5 (long)" t_blob_upload_500_always
run_test "401 on the manifest: exit 5, no retry" t_manifest_401
run_test "401 after the first 4 requests: exit 5, no retry" t_401_after_4_requests
t_summary
