#!/usr/bin/env bash
# shellcheck disable=SC2030,SC2031 # test variables live in subshells
# A remote engine: a second dockerd on tcp://127.0.0.1:PORT with
# --tlsverify (scripts/tls-engine.sh), reached only through DOCKER_HOST,
# DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. The whole pipeline runs on it and
# pushes to the test registry; a compose autotest binds context paths,
# copied into its containers; every way TLS goes wrong is an exit 3 that
# names the address and the likely cause; GitLab's DOCKER_TLS_CERTDIR
# fallback to tcp://docker:2376 is tried in a mount namespace where
# /var/run/docker.sock is hidden and 'docker' resolves to 127.0.0.1.
# SAVE's tarball from the main engine loads on this clean one.
#
# Needs openssl, socat and unshare (util-linux); the first two are
# installed here when missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# ensure_tool COMMAND PACKAGE: installs PACKAGE when COMMAND is missing.
ensure_tool() {
	command -v "$1" >/dev/null && return 0
	echo "installing $2 for $T_FILE" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$2" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "$2" >/dev/null 2>&1; }
	command -v "$1" >/dev/null
}

port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The second engine lives as long as this file; it goes even when a test
# or the file fails or is interrupted.
TLS_STATE=$(mktemp -d /tmp/tls-engine.XXXXXX)
TLS_UP_LOG=$TLS_STATE.log
TLS_PROBLEM=
remote_down() {
	bash "$REPO_ROOT/scripts/tls-engine.sh" down "$TLS_STATE" >/dev/null 2>&1
	rm -f "$TLS_UP_LOG"
}
trap remote_down EXIT

if ! ensure_tool openssl openssl; then
	TLS_PROBLEM="'openssl' is missing and could not be installed"
elif ! bash "$REPO_ROOT/scripts/tls-engine.sh" up "$TLS_STATE" >"$TLS_UP_LOG" 2>&1; then
	TLS_PROBLEM="scripts/tls-engine.sh up failed: $(tail -20 "$TLS_UP_LOG")"
else
	# TLS_ENGINE_HOST, TLS_ENGINE_PORT, TLS_ENGINE_CERTS
	# shellcheck source=/dev/null
	. "$TLS_STATE/env"
fi

need_remote() {
	need_builder
	[ -z "$TLS_PROBLEM" ] || t_fail "no TLS engine: $TLS_PROBLEM"
}

# remote CMD...: CMD with the environment that names the TLS engine.
remote() {
	env DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$TLS_ENGINE_CERTS" "$@"
}

# rdocker ARGS...: the docker CLI on the TLS engine.
rdocker() {
	docker -H "$TLS_ENGINE_HOST" --tlsverify \
		--tlscacert "$TLS_ENGINE_CERTS/ca.pem" \
		--tlscert "$TLS_ENGINE_CERTS/cert.pem" \
		--tlskey "$TLS_ENGINE_CERTS/key.pem" "$@"
}

pipeline() {
	[ -d app ] || make_app app
	REGISTRY=$REGISTRY_ADDR ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 \
		REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		TEST_CMD=/app/test.sh "$@"
}

# in_namespace HOSTS_LINE CMD...: CMD in a private mount namespace where
# /var/run is an empty tmpfs (no docker.sock) and /etc/hosts has one more
# line. Skips the test when namespaces are not available.
in_namespace() {
	local line=$1
	shift
	unshare -m true 2>/dev/null || t_skip "'unshare -m' does not work here"
	{ cat /etc/hosts; echo "$line"; } >"$T_DIR/hosts"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m sh -c 'mount -t tmpfs none /var/run &&
		mount --bind "$0" /etc/hosts && exec "$@"' "$T_DIR/hosts" "$@"
}

# forward PORT TARGET...: socat listening on 127.0.0.1:PORT, forwarding to
# the socat address TARGET; stopped with the test.
forward() {
	local port=$1 _
	shift
	ensure_tool socat socat || t_skip "'socat' is missing and could not be installed"
	port_busy "$port" && t_skip "port $port is in use"
	socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "$@" \
		2>"$T_DIR/socat-$port.log" &
	for _ in $(seq 50); do
		port_busy "$port" && return 0
		sleep 0.1
	done
	t_fail "socat did not listen on port $port"
}

free_port() {
	local p=$1
	while port_busy "$p"; do p=$((p + 1)); done
	echo "$p"
}

# --- the pipeline on the remote engine --------------------------------------

t_pipeline_over_tls() {
	need_remote
	REPORT=$T_DIR/report.json pipeline assert_exit 0 remote "$BUILDER_BIN" app
	assert_contains "$OUT" "engine: $TLS_ENGINE_HOST"
	assert_contains "$OUT" "tests passed"
	digest=$(registry_digest "t$T_UNIQ/app" 1)
	[ -n "$digest" ] || t_fail "the registry has no t$T_UNIQ/app:1"
	assert_eq "$(tail -n 1 "$STDOUT")" "$REGISTRY_ADDR/t$T_UNIQ/app:1@$digest"
	assert_eq "$(jq -r .digest report.json)" "$digest"
	# Built, tested and pushed by the remote engine, not the local one.
	rdocker image inspect "$REGISTRY_ADDR/t$T_UNIQ/app:1" >/dev/null ||
		t_fail "the TLS engine has no $REGISTRY_ADDR/t$T_UNIQ/app:1"
	! docker image inspect "$REGISTRY_ADDR/t$T_UNIQ/app:1" >/dev/null 2>&1 ||
		t_fail "the local engine has the image: the pipeline ran there"
	assert_eq "$(rdocker ps -aq --filter label=io.builder.run)" "" \
		"containers left on the TLS engine"
	assert_eq "$(rdocker network ls -q --filter label=io.builder.run)" "" \
		"networks left on the TLS engine"
}

t_test_failure_over_tls() {
	need_remote
	pipeline assert_exit 4 remote "$BUILDER_BIN" \
		--test-cmd 'echo "remote test output"; exit 3' app
	assert_contains "$OUT" "remote test output"
	assert_contains "$OUT" "tests failed (exit 3)"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags pushed"
	assert_eq "$(rdocker ps -aq --filter label=io.builder.run)" "" \
		"containers left on the TLS engine"
}

# TEST_RESULTS from a remote engine, which cannot see our files: copied
# out through the API, totals read, also when the tests fail.
t_results_over_tls() {
	need_remote
	pipeline assert_exit 4 remote "$BUILDER_BIN" --test-results /out:res \
		--summary summary.md --test-cmd 'mkdir -p /out && echo "cov 90%" >/out/cov.txt &&
		echo "<testsuite><testcase name=\"a\"/><testcase name=\"b\"><failure message=\"remote boom\"/></testcase></testsuite>" >/out/junit.xml; exit 1' app
	assert_contains res/cov.txt "cov 90%"
	assert_contains "$STDERR" "tests: 2 tests, 1 failure, 0 errors, 0 skipped"
	assert_contains "$STDERR" "tests: failure b: remote boom"
	assert_contains summary.md "| b (failure) | remote boom |"
	assert_eq "$(rdocker ps -aq --filter label=io.builder.run)" "" \
		"containers left on the TLS engine"
}

# SAVE's tarball, written by a run on the main engine, loads on a clean
# one: the TLS engine (its own data root) emptied of every image, so that
# no busybox layer there hides one missing from the tarball; every tag,
# the same image ID, and it runs. busybox goes back for the other tests.
t_save_loads_on_a_clean_engine() {
	need_remote
	local ref=$REGISTRY_ADDR/t$T_UNIQ/app
	pipeline assert_exit 0 env -u DOCKER_HOST -u DOCKER_TLS_VERIFY \
		-u DOCKER_CERT_PATH PUSH=false EXTRA_TAGS=extra SAVE=img.tar \
		"$BUILDER_BIN" app
	[ -s img.tar ] || t_fail "SAVE wrote nothing"
	trap 'docker save busybox:latest | rdocker load >/dev/null' EXIT
	rdocker image prune -af >/dev/null
	assert_eq "$(rdocker image ls -aq)" "" "images on the clean engine"
	assert_exit 0 rdocker load -i img.tar
	assert_eq "$(rdocker image ls --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" \
		"$ref:1 $ref:extra " "tags loaded on the clean engine"
	assert_eq "$(rdocker image inspect -f '{{.Id}}' "$ref:1")" \
		"$(docker image inspect -f '{{.Id}}' "$ref:1")" "image ID"
	assert_eq "$(rdocker run --rm --network none "$ref:extra" /app/app.sh)" \
		"hello from app" "the loaded image's output"
	rdocker rmi "$ref:1" "$ref:extra" >/dev/null
	assert_eq "$(rdocker image ls -q)" "" "images left on the TLS engine"
}

# DOCKER_TLS=1 without DOCKER_TLS_VERIFY: TLS with a client certificate,
# but the engine's certificate is not checked (no ca.pem needed).
t_tls_without_verify() {
	need_remote
	mkdir certs
	cp "$TLS_ENGINE_CERTS/cert.pem" "$TLS_ENGINE_CERTS/key.pem" certs/
	assert_exit 0 env DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS=1 \
		DOCKER_CERT_PATH="$T_DIR/certs" "$BUILDER_BIN" check
	assert_contains "$STDOUT" "engine:       $TLS_ENGINE_HOST"
}

# Docker Hub autotest on the TLS engine (issue 15): the engine cannot see
# the job's files, so binds of context paths in docker-compose.test.yml
# (the whole context, a directory, one file read-only) are copied into the
# containers before they start (PUT /containers/{id}/archive, over TLS);
# sut reads them, and its writes do not come back. Nothing is left on the
# TLS engine.
t_autotest_context_bind_over_tls() {
	need_remote
	make_app app
	mkdir -p app/testdata
	echo "context dir $T_UNIQ" >app/testdata/in.txt
	echo "context file $T_UNIQ" >app/single.txt
	cat >app/docker-compose.test.yml <<'YML'
services:
  sut:
    build: .
    volumes:
      - .:/src
      - ./testdata:/data/td
      - ./single.txt:/etc/single.txt:ro
    command: >-
      sh -c 'cat /data/td/in.txt /etc/single.txt &&
      test -f /src/docker-compose.test.yml && echo "whole context there" &&
      /app/test.sh && echo changed >/data/td/in.txt && echo changed >/src/app.sh'
YML
	assert_exit 0 remote env TEST_CMD= TEST_SERVICES= TEST_COMPOSE= HOOKS= \
		ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 PUSH=false "$BUILDER_BIN" app
	assert_contains "$STDOUT" "context dir $T_UNIQ"
	assert_contains "$STDOUT" "context file $T_UNIQ"
	assert_contains "$STDOUT" "whole context there"
	assert_contains "$STDOUT" "tests passed"
	assert_contains "$STDERR" "engine: $TLS_ENGINE_HOST"
	assert_eq "$(cat app/testdata/in.txt)" "context dir $T_UNIQ" \
		"the host's file after sut wrote to its copy"
	assert_contains app/app.sh "hello from app"
	assert_eq "$(rdocker ps -aq --filter label=io.builder.run)" "" \
		"containers left on the TLS engine"
	assert_eq "$(rdocker network ls -q --filter label=io.builder.run)" "" \
		"networks left on the TLS engine"
	assert_eq "$(rdocker volume ls -q --filter label=io.builder.run)" "" \
		"volumes left on the TLS engine"
}

# --- TLS failures: exit 3, the address, the likely cause ---------------------

t_wrong_ca() {
	need_remote
	bash "$REPO_ROOT/scripts/tls-engine.sh" certs "$T_DIR/other" >/dev/null
	assert_exit 3 env DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$T_DIR/other" "$BUILDER_BIN" check
	assert_contains "$STDERR" "'$TLS_ENGINE_HOST'"
	assert_contains "$STDERR" "'$T_DIR/other/ca.pem' is not the CA that signed it"
	# The whole pipeline stops at the same place.
	pipeline assert_exit 3 env DOCKER_HOST="$TLS_ENGINE_HOST" \
		DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$T_DIR/other" "$BUILDER_BIN" app
	assert_contains "$STDERR" "is not the CA that signed it"
}

t_missing_client_certificate() {
	need_remote
	mkdir certs
	cp "$TLS_ENGINE_CERTS/ca.pem" certs/
	assert_exit 3 env DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$T_DIR/certs" "$BUILDER_BIN" check
	assert_contains "$STDERR" "'$TLS_ENGINE_HOST'"
	assert_contains "$STDERR" "no client certificate was sent ('$T_DIR/certs/cert.pem'"
}

t_untrusted_client_certificate() {
	need_remote
	bash "$REPO_ROOT/scripts/tls-engine.sh" certs "$T_DIR/other" >/dev/null
	mkdir certs
	cp "$TLS_ENGINE_CERTS/ca.pem" certs/
	cp other/cert.pem other/key.pem certs/
	assert_exit 3 env DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$T_DIR/certs" "$BUILDER_BIN" check
	assert_contains "$STDERR" "'$TLS_ENGINE_HOST'"
	assert_contains "$STDERR" "does not trust the client certificate '$T_DIR/certs/cert.pem'"
}

t_missing_ca_file() {
	need_remote
	mkdir certs
	assert_exit 2 env DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$T_DIR/certs" "$BUILDER_BIN" check
	assert_contains "$STDERR" "'$T_DIR/certs/ca.pem' does not exist"
	assert_contains "$STDERR" "DOCKER_CERT_PATH"
}

t_plain_http_to_tls_port() {
	need_remote
	assert_exit 3 env DOCKER_HOST="$TLS_ENGINE_HOST" "$BUILDER_BIN" check
	assert_contains "$STDERR" "the engine at '$TLS_ENGINE_HOST' expects TLS"
	assert_contains "$STDERR" "DOCKER_TLS_VERIFY=1"
}

t_tls_to_plain_port() {
	need_remote
	local port
	port=$(free_port 23900)
	# A plain TCP endpoint: the local engine's socket behind socat.
	forward "$port" UNIX-CONNECT:/var/run/docker.sock
	assert_exit 0 env DOCKER_HOST="tcp://127.0.0.1:$port" "$BUILDER_BIN" check
	assert_contains "$STDOUT" "engine:       tcp://127.0.0.1:$port"
	assert_exit 3 env DOCKER_HOST="tcp://127.0.0.1:$port" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$TLS_ENGINE_CERTS" "$BUILDER_BIN" check
	assert_contains "$STDERR" "the engine at 'tcp://127.0.0.1:$port' does not speak TLS on that port"
	assert_contains "$STDERR" "unset DOCKER_TLS_VERIFY"
}

t_nothing_listening() {
	need_builder
	local port
	port=$(free_port 23950)
	assert_exit 3 env DOCKER_HOST="tcp://127.0.0.1:$port" "$BUILDER_BIN" check
	assert_contains "$STDERR" "cannot connect to the docker engine at 'tcp://127.0.0.1:$port'"
}

t_name_not_in_certificate() {
	need_remote
	in_namespace "127.0.0.1 elsewhere.test" env \
		DOCKER_HOST="tcp://elsewhere.test:$TLS_ENGINE_PORT" \
		DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$TLS_ENGINE_CERTS" \
		"$BUILDER_BIN" check >out 2>&1 && rc=0 || rc=$?
	cat out
	assert_eq "$rc" 3 "exit status"
	assert_contains out "'tcp://elsewhere.test:$TLS_ENGINE_PORT'"
	assert_contains out "not in the certificate's subjectAltName"
}

# --- GitLab's docker:dind layout ---------------------------------------------

t_tls_certdir_fallback() {
	need_remote
	# The dind service shares its client certificates at
	# $DOCKER_TLS_CERTDIR/client and listens on docker:2376.
	mkdir -p certs/client
	cp "$TLS_ENGINE_CERTS"/*.pem certs/client/
	forward 2376 "TCP:127.0.0.1:$TLS_ENGINE_PORT"
	in_namespace "127.0.0.1 docker" env -u DOCKER_HOST -u DOCKER_TLS_VERIFY \
		-u DOCKER_CERT_PATH DOCKER_TLS_CERTDIR="$T_DIR/certs" \
		"$BUILDER_BIN" check >out 2>&1 && rc=0 || rc=$?
	cat out
	assert_eq "$rc" 0 "exit status"
	assert_contains out "engine:       tcp://docker:2376"
	assert_contains out "DOCKER_HOST is unset and there is no /var/run/docker.sock, but '$T_DIR/certs/client' holds client certificates: using tcp://docker:2376 with TLS"
	# Without the certificates, the fallback is not taken and the error
	# names the socket that is missing.
	rm -r certs/client
	in_namespace "127.0.0.1 docker" env -u DOCKER_HOST \
		DOCKER_TLS_CERTDIR="$T_DIR/certs" "$BUILDER_BIN" check >out 2>&1 &&
		rc=0 || rc=$?
	cat out
	assert_eq "$rc" 3 "exit status without certificates"
	assert_contains out "socket '/var/run/docker.sock' does not exist"
}

run_test "SAVE's tarball loads on a clean engine, tags and all" t_save_loads_on_a_clean_engine
run_test "the whole pipeline on a TLS engine over tcp" t_pipeline_over_tls
run_test "failing tests on a TLS engine: exit 4 with their output" t_test_failure_over_tls
run_test "test results copied out of a TLS engine" t_results_over_tls
run_test "autotest: context bind mounts copied into a TLS engine" t_autotest_context_bind_over_tls
run_test "DOCKER_TLS=1: TLS without verifying the engine" t_tls_without_verify
run_test "wrong CA: exit 3 naming the CA file" t_wrong_ca
run_test "no client certificate: exit 3 saying so" t_missing_client_certificate
run_test "client certificate from another CA: exit 3" t_untrusted_client_certificate
run_test "DOCKER_TLS_VERIFY without ca.pem: usage error" t_missing_ca_file
run_test "plain HTTP to the TLS port: exit 3, set DOCKER_TLS_VERIFY" t_plain_http_to_tls_port
run_test "plain tcp works; TLS to a plain port: exit 3" t_tls_to_plain_port
run_test "nothing listening: exit 3 naming the address" t_nothing_listening
run_test "a host name not in the certificate: exit 3" t_name_not_in_certificate
run_test "DOCKER_TLS_CERTDIR: falls back to tcp://docker:2376 with TLS" t_tls_certdir_fallback
t_summary
