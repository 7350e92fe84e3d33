#!/usr/bin/env bash
# shellcheck disable=SC2097,SC2098 # BUILDER=classic is builder's own setting, "$BUILDER_BIN" the binary
# Faults of the engine. Through the fake engine (tests/fake_engine.c): a
# socket nobody listens on, a reset, a 500, an error inside a 200 stream, a
# stream cut inside a message, one byte at a time, a stall, a message over
# the 1 MiB cap, malformed JSON, unknown fields. Through the real engine:
# dockerd restarted during a build and during the tests. Each fault must
# give one clear message and the documented exit code, with no sanitizer
# report and no container left behind.
#
# The restart tests stop the dockerd that serves /var/run/docker.sock with
# SIGTERM and start it again with the same arguments, environment and log
# file. A detached process does the restart, so the engine comes back even
# when the test is killed. They are skipped unless we may signal that
# dockerd (root) and it has a pid file.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

IMAGE_ID=sha256:f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed
DIGEST=sha256:d16e5700d16e5700d16e5700d16e5700d16e5700d16e5700d16e5700d16e5700

# --- the fake engine's script ----------------------------------------------

# fe_reply STATUS BODY: a "reply" directive with the right Content-Length;
# BODY must hold no script escapes.
fe_reply() {
	printf 'reply HTTP/1.1 %s\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\n' \
		"$1" "${#2}" "$2"
}

# fe_stream_head: the head of a 200 JSON stream that ends when the
# connection does.
FE_STREAM_HEAD='send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'

# fe_engine: what every run needs besides /build: the ping (API 1.41, no
# BuildKit advertised), the version, a push stream, the tag (201) and the
# image inspection for the report's size.
fe_engine() {
	echo 'match /_ping'
	echo 'reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK'
	echo 'match GET /version'
	fe_reply '200 OK' '{"Version":"20.10.99-fake","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}'
	echo 'match /push'
	echo "$FE_STREAM_HEAD"
	echo 'chunk1 {"status":"The push refers to repository [registry.example:5000/acme/app]"}\r\n{"status":"Preparing","progressDetail":{},"id":"0123456789ab"}\r\n{"status":"Pushed","progressDetail":{},"id":"0123456789ab","unknown":[1,{"x":null}]}\r\n{"status":"1: digest: '"$DIGEST"' size: 527"}\r\n{"progressDetail":{},"aux":{"Tag":"1","Digest":"'"$DIGEST"'","Size":527,"Extra":true}}\r\n'
	echo 'close'
	echo 'match POST /images/'
	echo 'reply HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'
	echo 'match GET /images/'
	fe_reply '200 OK' '{"Id":"'"$IMAGE_ID"'","Size":4242}'
}

# fe_start: starts the fake engine with fe_engine's rules after the /build
# rules read from stdin.
fe_start() {
	{
		cat
		fe_engine
	} >"$T_DIR/fake-engine.script"
	fake_engine_start "$T_DIR/fake-engine.script"
}

# fake_run CODE [builder args]: the pipeline on ./app against the fake
# engine, no push, classic builder.
fake_run() {
	local code=$1
	shift
	[ -d app ] || make_app app
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 \
		PUSH=false BUILDER=classic assert_exit "$code" "$BUILDER_BIN" "$@" app
}

# assert_one_error: exactly one "builder: error:" line, and no crash.
assert_one_error() {
	assert_eq "$(grep -c '^builder: error: ' "$STDERR")" 1 "error lines"
	assert_not_contains "$OUT" "AddressSanitizer"
	assert_not_contains "$OUT" "runtime error"
}

STEP1='{"stream":"Step 1/3 : FROM busybox:latest\\n"}\r\n{"stream":" ---\\u003e 0123456789ab\\n"}\r\n'
STEP2='{"stream":"Step 2/3 : COPY app.sh test.sh /app/\\n"}\r\n'
BUILT='{"aux":{"ID":"'$IMAGE_ID'"}}\r\n{"stream":"Successfully built f00dfeedf00d\\n"}\r\n'

# --- fake engine ---------------------------------------------------------

t_refused() {
	need_builder
	# A socket file nobody listens on: the fake engine killed with
	# SIGKILL leaves it behind.
	fe_start <<'EOF'
match /never
close
EOF
	kill -KILL "$FAKE_PID"
	wait "$FAKE_PID" 2>/dev/null || true
	[ -S "$FAKE_SOCK" ] || t_fail "the socket file went away"
	fake_run 3
	assert_one_error
	assert_contains "$STDERR" "cannot connect to the docker engine at '$FAKE_SOCK': Connection refused; is dockerd running?"
	assert_not_contains "$STDERR" "api.moby.localhost"
}

t_reset_mid_build() {
	need_builder
	make_app app
	# A context the engine never reads: the reset meets unread input
	# and the client sees ECONNRESET, not a clean end.
	head -c 3000000 /dev/urandom >app/big.bin
	fe_start <<EOF
match POST /build
nodrain
$FE_STREAM_HEAD$STEP1{"stream":"Step 2/3 : COPY
sleep 0.3
reset
EOF
	fake_run 3
	assert_one_error
	assert_contains "$STDERR" "lost the connection to the docker engine at 'unix://$FAKE_SOCK' during POST /build: "
	assert_contains "$STDERR" "reset"
	# The message names the endpoint, not the query's dozen parameters.
	assert_not_contains "$STDERR" "forcerm"
	assert_not_contains "$FAKE_LOG" "/tag?"
}

# HTTP >= 400 on /build is a refused build: the engine sends a status only
# before it has flushed any output, i.e. for a bad parameter or a
# Dockerfile it cannot read or parse (400/500). builder makes that exit 1,
# with the engine's message; see the report for the argument.
t_http_500_on_build() {
	need_builder
	fe_start <<EOF
match POST /build
$(fe_reply '500 Internal Server Error' '{"message":"fake: failed to read dockerfile: disk on fire"}')
EOF
	fake_run 1
	assert_one_error
	assert_contains "$STDERR" "build failed: fake: failed to read dockerfile: disk on fire (HTTP 500 from POST /build)"
	assert_not_contains "$FAKE_LOG" "/tag?"
}

t_error_detail_mid_stream() {
	need_builder
	fe_start <<EOF
match POST /build
$FE_STREAM_HEAD$STEP1$STEP2{"errorDetail":{"code":7,"message":"fake step failure $T_UNIQ"},"error":"fake step failure $T_UNIQ"}\r\n{"stream":"after the error\\\\n"}\r\n$BUILT
close
EOF
	fake_run 1
	assert_one_error
	assert_contains "$STDERR" "build failed at 'Step 2/3 : COPY app.sh test.sh /app/': fake step failure $T_UNIQ"
	assert_contains "$STDOUT" "Step 1/3 : FROM busybox:latest"
	# Nothing after the error is taken: no image, no tag.
	assert_not_contains "$OUT" "after the error"
	assert_not_contains "$FAKE_LOG" "/tag?"
}

t_cut_inside_object() {
	need_builder
	# The body ends at the close (no length, not chunked): curl sees a
	# clean end, the decoder an unfinished object.
	fe_start <<EOF
match POST /build
times 1
$FE_STREAM_HEAD$STEP1{"stream":"Step 2/3 : CO
close
match POST /build
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n
chunked $STEP1{"stream":"Step 2/3 : CO
close
EOF
	fake_run 3
	assert_one_error
	assert_contains "$STDERR" "the engine's response ended in the middle of a message"
	# The engine did not fail a step: the error names none.
	assert_not_contains "$STDERR" "failed at 'Step"
	# Cut inside an HTTP chunk: libcurl sees it.
	fake_run 3
	assert_one_error
	assert_contains "$STDERR" "lost the connection to the docker engine at 'unix://$FAKE_SOCK' during POST /build"
	assert_not_contains "$FAKE_LOG" "/tag?"
}

# The run's image name held by a container that is not builder's (a hook's
# `docker run` without --rm): the engine's 409 names it; waiting would not
# end it, so one DELETE only, and the run's own result stands.
t_image_name_held_by_a_container() {
	need_builder
	local msg='conflict: unable to remove repository reference (must force) - container 0123456789ab is using its referenced image'
	fe_start <<EOF
match POST /build
$FE_STREAM_HEAD$STEP1$STEP2$BUILT
close
match DELETE /images/
$(fe_reply '409 Conflict' "{\"message\":\"$msg\"}")
EOF
	fake_run 0
	assert_eq "$(grep -c '^DELETE /v1.41/images/builder-run:b' "$FAKE_LOG")" 1 "DELETEs of the run's image name"
	assert_contains "$STDERR" "cannot remove image 'builder-run:b"
	assert_contains "$STDERR" "container 0123456789ab is using its referenced image"
	assert_contains "$STDERR" "builder cleanup --run b"
}

t_one_byte_chunks() {
	need_builder
	fe_start <<EOF
match POST /build
$FE_STREAM_HEAD
chunk1 $STEP1$STEP2{"stream":" ---\\\\u003e Running in 0123456789ab\\\\n"}\r\n{"stream":"\\\\u001b[91mto stderr\\\\n\\\\u001b[0m"}\r\n{"stream":"Step 3/3 : CMD [\\\\"/app/app.sh\\\\"]\\\\n"}\r\n$BUILT
close
EOF
	[ -d app ] || make_app app
	DOCKER_HOST=unix://$FAKE_SOCK REGISTRY=registry.example:5000 \
		ACCOUNT=acme IMAGE=app TAG=1 REGISTRY_USER=u REGISTRY_PASSWORD=p \
		BUILDER=classic REPORT=$T_DIR/report.json \
		assert_exit 0 "$BUILDER_BIN" app
	assert_contains "$STDOUT" "Step 3/3 : CMD [\"/app/app.sh\"]"
	assert_contains "$STDOUT" "to stderr"
	assert_contains "$OUT" "built $IMAGE_ID"
	assert_contains "$FAKE_LOG" "/tag?repo=registry.example%3A5000%2Facme%2Fapp&tag=1"
	assert_contains "$FAKE_LOG" "POST /v1.41/images/registry.example:5000/acme/app/push?tag=1"
	assert_eq "$(tail -n 1 "$STDOUT")" "registry.example:5000/acme/app:1@$DIGEST" "last line"
	assert_eq "$(jq -r .digest report.json)" "$DIGEST" "report digest"
	assert_eq "$(jq -r .image_size report.json)" 4242 "report size"
	assert_eq "$(jq -r .success report.json)" true "report success"
}

t_stall_idle_timeout() {
	need_builder
	fe_start <<EOF
match POST /build
$FE_STREAM_HEAD$STEP1
sleep 30
send $BUILT
EOF
	local start secs
	start=$(date +%s)
	BUILDER_IDLE_TIMEOUT=2 fake_run 3
	secs=$(($(date +%s) - start))
	assert_one_error
	assert_contains "$STDERR" "the docker engine at 'unix://$FAKE_SOCK' sent nothing for 2 s during POST /build (BUILDER_IDLE_TIMEOUT)"
	# 2 s of silence, not libcurl's 5 s average on top.
	[ "$secs" -le 6 ] || t_fail "the stall was noticed after $secs s, want about 2"
}

# fe_hung_removals: a build whose RUN step's container is running, then
# silence; removals and listings are held forever (a hung engine).
fe_hung_removals() {
	fe_start <<EOF
match POST /build
$FE_STREAM_HEAD$STEP1$STEP2{"stream":" ---\\\\u003e Running in 0123456789ab\\\\n"}\\r\\n
sleep 120
match DELETE /containers/
hold
match DELETE /networks/
hold
match GET /containers/json
hold
match GET /networks
hold
match GET /volumes
hold
match /images/
hold
EOF
}

# hung_run SIG [SECOND_DELAY]: the pipeline against fe_hung_removals in the
# background, SIG once the RUN step runs (and SIG again after SECOND_DELAY
# s); sets RC and SECS (from the first signal). A run still alive 30 s
# after the signal is killed and fails the test: a bound on a hang.
hung_run() {
	local sig=$1 again=${2:-} pid start
	[ -d app ] || make_app app
	: >"$STDOUT"
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 \
		PUSH=false BUILDER=classic "$BUILDER_BIN" app >"$STDOUT" 2>"$STDERR" &
	pid=$!
	for _ in $(seq 100); do
		grep -q "Running in" "$STDOUT" "$STDERR" && break
		sleep 0.1
	done
	start=$(date +%s%N)
	kill -"$sig" "$pid"
	if [ -n "$again" ]; then
		sleep "$again"
		kill -"$sig" "$pid" 2>/dev/null || echo "(already gone at the second signal)"
	fi
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		cat "$STDOUT" "$STDERR"
		t_fail "still running 30 s after SIG$sig against a hung engine"
	fi
	RC=0
	wait "$pid" || RC=$?
	SECS=$((($(date +%s%N) - start) / 1000000000))
	cat "$STDOUT" "$STDERR" >"$OUT"
	sed 's/^/  | /' "$OUT"
	echo "  (exit $RC after $SECS s)"
}

t_signal_hung_engine() {
	need_builder
	fe_hung_removals
	hung_run INT
	assert_eq "$RC" 130 "exit status"
	assert_contains "$STDERR" "interrupted by SIGINT"
	assert_contains "$STDERR" "builder cleanup --run b"
	# The 120 s limit of short exchanges is not the user's setting.
	assert_not_contains "$STDERR" "BUILDER_IDLE_TIMEOUT"
	assert_not_contains "$OUT" "AddressSanitizer"
	assert_not_contains "$OUT" "runtime error"
}

# After a signal, the cleanup also removes what carries the run's label
# though its ID never reached builder (a create cut short).
t_signal_removes_by_label() {
	need_builder
	local body='[{"Id":"l0st","Names":["/builder-lost-test"],"Created":1,"Labels":{"io.builder.run":"x"}}]'
	fe_start <<EOF
match POST /build
$FE_STREAM_HEAD$STEP1$STEP2
sleep 120
match GET /containers/json
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${#body}\r\n\r\n$body
match GET /networks
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]
match GET /volumes
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"Volumes":[]}
match GET /images/json
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]
match DELETE /containers/
reply HTTP/1.1 204 No Content\r\n\r\n
EOF
	[ -d app ] || make_app app
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 \
		PUSH=false BUILDER=classic "$BUILDER_BIN" app >"$STDOUT" 2>"$STDERR" &
	local pid=$! rc=0
	for _ in $(seq 100); do
		grep -q "Step 2/3" "$STDOUT" && break
		sleep 0.1
	done
	kill -INT "$pid"
	wait "$pid" || rc=$?
	cat "$STDOUT" "$STDERR" >"$OUT"
	sed 's/^/  | /' "$OUT"
	assert_eq "$rc" 130 "exit status"
	assert_contains "$FAKE_LOG" "GET /v1.41/containers/json?all=1&filters="
	assert_contains "$FAKE_LOG" "DELETE /v1.41/containers/l0st?force=1"
	assert_contains "$STDERR" "removed container 'builder-lost-test'"
	# The build's image name, and a search for it by name.
	assert_contains "$FAKE_LOG" "DELETE /v1.41/images/builder-run:b"
	assert_contains "$FAKE_LOG" "GET /v1.41/images/json?filters="
	assert_not_contains "$STDERR" "cleanup of run"
}

t_second_signal_hung_engine() {
	need_builder
	fe_hung_removals
	hung_run TERM 1
	assert_eq "$RC" 143 "exit status"
	# The second signal came 1 s after the first: out at once, not at
	# the end of the cleanup's bound.
	[ "$SECS" -le 4 ] || t_fail "the second signal did not end the run: $SECS s"
	assert_contains "$STDERR" "interrupted by SIGTERM; a second signal"
	assert_contains "$STDERR" "builder cleanup --run b"
}

t_short_json_answer() {
	need_builder
	# /version promises more bytes than it sends, then goes quiet: a
	# short exchange must not wait forever.
	fake_engine_start <<'EOF'
match /_ping
reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK
match GET /version
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Version":
hold
EOF
	DOCKER_HOST=unix://$FAKE_SOCK BUILDER_IDLE_TIMEOUT=2 \
		assert_exit 3 "$BUILDER_BIN" check
	assert_one_error
	assert_contains "$STDERR" "sent nothing for 2 s during GET /version"
}

t_line_over_the_cap() {
	need_builder
	local big
	big=$(head -c 1100000 /dev/zero | tr '\0' a)
	{
		echo 'match POST /build'
		echo "$FE_STREAM_HEAD$STEP1"
		echo "send {\"stream\":\"$big\"}\\r\\n$BUILT"
		echo 'close'
	} >build.rules
	fe_start <build.rules
	fake_run 3
	assert_one_error
	assert_contains "$STDERR" "the engine sent a message longer than 1048576 bytes"
	assert_not_contains "$STDERR" "failed at 'Step"
	# The refused line is not echoed either.
	[ "$(wc -c <"$OUT")" -lt 100000 ] || t_fail "the output holds the huge line"
}

t_malformed_json() {
	need_builder
	fe_start <<EOF
match POST /build
$FE_STREAM_HEAD$STEP1{"stream": nope}\r\n$BUILT
close
EOF
	fake_run 3
	assert_one_error
	assert_contains "$STDERR" "the engine sent a message that is not a JSON object"
	assert_contains "$STDERR" "{\"stream\": nope}"
	assert_not_contains "$STDERR" "failed at 'Step"
	assert_not_contains "$FAKE_LOG" "/tag?"
}

t_unknown_fields() {
	need_builder
	fe_start <<EOF
match POST /build
$FE_STREAM_HEAD{"stream":"Step 1/3 : FROM busybox:latest\\\\n","novel":{"a":[1,2,{"b":null}]}}\r\n{"whatIsThis":42}\r\n{}\r\n\r\n{"status":"Downloading","progressDetail":{"current":1,"total":2,"units":"B"},"id":"abc","later":true}\r\n{"aux":{"ID":"$IMAGE_ID","Future":{"x":1}},"more":"y"}\r\n{"stream":"Successfully built f00dfeedf00d\\\\n","id":7}\r\n
close
EOF
	fake_run 0
	assert_contains "$OUT" "built $IMAGE_ID"
	assert_contains "$OUT" "tagged t$T_UNIQ/app:1"
	assert_contains "$FAKE_LOG" "/tag?"
}

# --- the real engine restarted ---------------------------------------------

STATE=${BUILDER_TEST_STATE:-/tmp/builder-test-env}

# engine_pid: the dockerd serving /var/run/docker.sock, from its pid file.
engine_pid() {
	local pid
	pid=$(cat /var/run/docker.pid 2>/dev/null) || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
	echo "$pid"
}

engine_answers() {
	curl -sf --max-time 3 --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1
}

need_restartable_engine() {
	[ "$(id -u)" -eq 0 ] || t_skip "restarting dockerd needs root"
	[ -z "${DOCKER_HOST:-}" ] || t_skip "DOCKER_HOST is set: the engine is not ours to restart"
	engine_pid >/dev/null || t_skip "no dockerd pid in /var/run/docker.pid"
	engine_answers || t_fail "the engine does not answer before the test"
}

# restart_engine_detached DONE_FILE LOG PID ENV_FILE ARGV_FILE SIGNAL: stops
# the dockerd PID with SIGNAL, waits for it, starts it again with the same
# environment and arguments (NUL-separated files), logging to LOG, and
# waits for /_ping; then writes DONE_FILE. Runs in its own session, so that
# nothing the test harness kills can stop it half-way. It holds
# test-env.sh's lock meanwhile, so that a concurrent 'test-env.sh up' waits
# instead of starting a second dockerd.
restart_engine_detached() {
	local done=$1 log=$2 pid=$3 envf=$4 argf=$5 sig=$6 _ new env=() argv=() started_by_env=0
	exec 8>>"$STATE/lock"
	flock -w 30 8 || true
	mapfile -d '' env <"$envf"
	mapfile -d '' argv <"$argf"
	[ "$(cat "$STATE/dockerd.pid" 2>/dev/null)" = "$pid" ] && started_by_env=1
	echo "$(date +%T) restart: stopping dockerd $pid with SIG$sig" >>"$done.log"
	kill -"$sig" "$pid"
	for _ in $(seq 900); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$(date +%T) restart: dockerd $pid did not stop in 90 s" >>"$done.log"
		echo failed >"$done"
		return 1
	fi
	echo "$(date +%T) restart: starting ${argv[*]}" >>"$done.log"
	(cd / && exec env -i "${env[@]}" "${argv[@]}") >>"$log" 2>&1 </dev/null 8>&- &
	new=$!
	[ "$started_by_env" = 0 ] || echo "$new" >"$STATE/dockerd.pid"
	for _ in $(seq 120); do
		if curl -sf --max-time 2 --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1; then
			echo "$(date +%T) restart: dockerd $new answers" >>"$done.log"
			echo ok >"$done"
			return 0
		fi
		sleep 0.5
	done
	echo "$(date +%T) restart: dockerd $new does not answer after 60 s" >>"$done.log"
	echo failed >"$done"
	return 1
}

# restart_engine [SIGNAL]: restarts the engine (stopped with SIGNAL, TERM
# by default) and waits until it answers.
restart_engine() {
	local sig=${1:-TERM} pid log done=$T_DIR/restart.done _
	pid=$(engine_pid) || t_fail "no dockerd to restart"
	log=$(readlink "/proc/$pid/fd/1")
	case $log in
	/*) [ -f "$log" ] || log=$STATE/dockerd.log ;;
	*) log=$STATE/dockerd.log ;;
	esac
	cp "/proc/$pid/environ" "$T_DIR/dockerd.environ"
	cp "/proc/$pid/cmdline" "$T_DIR/dockerd.cmdline"
	# Kept outside the scratch directory too: the file's end uses them
	# if the engine is still down.
	cp "$T_DIR/dockerd.environ" "$STATE/restart.environ"
	cp "$T_DIR/dockerd.cmdline" "$STATE/restart.cmdline"
	echo "$log" >"$STATE/restart.log-path"
	setsid bash -c "STATE='$STATE'; $(declare -f restart_engine_detached);"' restart_engine_detached "$@"' \
		restart "$done" "$log" "$pid" "$T_DIR/dockerd.environ" "$T_DIR/dockerd.cmdline" "$sig" \
		</dev/null >/dev/null 2>&1 &
	for _ in $(seq 1800); do
		[ -s "$done" ] && break
		sleep 0.1
	done
	cat "$done.log" 2>/dev/null || true
	[ "$(cat "$done" 2>/dev/null)" = ok ] || t_fail "the engine did not come back"
}

# wait_for FILE TEXT SECONDS
wait_for() {
	local _
	for _ in $(seq $(($3 * 10))); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$1"
	t_fail "'$2' did not appear in $3 s"
}

# restarted_run SIGNAL MARKER [env...]: the pipeline on ./app in the
# background; when MARKER is in its output, the engine is stopped with
# SIGNAL and started again; then the pipeline is waited for. Sets RC and
# RUN (the run id, when the tests started); stdout, stderr and out.
restarted_run() {
	local sig=$1 marker=$2 bpid
	shift 2
	env REGISTRY="$REGISTRY_ADDR" ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 BUILDER=classic \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T" \
		"$@" "$BUILDER_BIN" app >stdout 2>stderr &
	bpid=$!
	wait_for stdout "$marker" 90
	RUN=$(sed -n "s/.*'builder-\(b[0-9a-f]*\)-test'.*/\1/p" stderr | head -n 1)
	restart_engine "$sig"
	RC=0
	wait "$bpid" || RC=$?
	cat stdout stderr >out
	sed 's/^/  | /' out
	assert_eq "$(grep -c '^builder: error: ' stderr)" 1 "error lines"
	assert_not_contains out "AddressSanitizer"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags pushed"
}

# build_containers: the engine's containers for this test's RUN step.
build_containers() {
	docker ps -aq --no-trunc | while read -r id; do
		docker inspect -f '{{.Id}} {{.State.Status}} {{json .Config.Cmd}}' "$id" 2>/dev/null
	done | grep -F -- "started-$T_UNIQ" || true
}

slow_build_app() {
	make_app app
	# The marker the output shows differs from the command's text.
	echo "RUN echo started-$T_UNIQ-\$((40+2)) && sleep 20 && echo ended-$T_UNIQ-\$((50+1))" >>app/Dockerfile
}

# A graceful stop (SIGTERM) first stops the containers, SIGKILL after its
# 10 s grace, and answers requests meanwhile: the RUN step fails with 137
# inside the build stream, so builder sees a failed step (exit 1), not a
# lost engine. See the report.
t_restart_during_build() {
	need_builder
	need_restartable_engine
	slow_build_app
	restarted_run TERM "started-$T_UNIQ-42"
	assert_eq "$RC" 1 "exit code"
	assert_contains stderr "build failed at 'Step 4/"
	assert_contains stderr "returned a non-zero code: 137"
	assert_not_contains out "ended-$T_UNIQ-51"
	local left
	left=$(build_containers)
	[ -z "$left" ] || t_fail "the build's RUN container is left: $left"
}

# Likewise the test container gets 137, and builder removes it while the
# engine still answers.
t_restart_during_tests() {
	need_builder
	need_restartable_engine
	make_app app
	restarted_run TERM "tests-started-$T_UNIQ-42" \
		TEST_CMD="echo tests-started-$T_UNIQ-\$((40+2)); sleep 30; echo tests-ended-$T_UNIQ-\$((50+1))"
	[ -n "$RUN" ] || t_fail "no run id in the log"
	assert_eq "$RC" 4 "exit code"
	assert_contains stderr "tests failed (exit 137)"
	assert_not_contains out "tests-ended-$T_UNIQ-51"
	assert_no_leftovers "$RUN"
}

# A crash (SIGKILL) cuts the connection: exit 3. The RUN container is the
# engine's own; after the restart it must not run.
t_engine_killed_during_build() {
	need_builder
	need_restartable_engine
	slow_build_app
	restarted_run KILL "started-$T_UNIQ-42"
	assert_eq "$RC" 3 "exit code"
	assert_contains stderr "build failed: lost the connection to the docker engine at 'unix:///var/run/docker.sock' during POST /build"
	assert_not_contains out "ended-$T_UNIQ-51"
	# The engine's RUN container outlives the crash (its shim keeps it
	# running; the new dockerd leaves it, then it exits): it carries no
	# label of ours and builder has no record of it, so neither builder
	# nor `builder cleanup` can remove it. See the report.
	local left
	left=$(build_containers)
	if [ -n "$left" ]; then
		echo "note: the engine left the build's RUN container: $left"
		# shellcheck disable=SC2046
		docker rm -f $(echo "$left" | cut -d' ' -f1) >/dev/null
	fi
}

# The engine is gone while builder cleans up: it says how to finish, and
# `builder cleanup` does.
t_engine_killed_during_tests() {
	need_builder
	need_restartable_engine
	make_app app
	restarted_run KILL "tests-started-$T_UNIQ-42" \
		TEST_CMD="echo tests-started-$T_UNIQ-\$((40+2)); sleep 30; echo tests-ended-$T_UNIQ-\$((50+1))"
	[ -n "$RUN" ] || t_fail "no run id in the log"
	assert_eq "$RC" 3 "exit code"
	assert_contains stderr "lost the connection to the docker engine at 'unix:///var/run/docker.sock'"
	assert_not_contains out "tests-ended-$T_UNIQ-51"
	if [ -n "$(leftovers "$RUN")" ]; then
		assert_contains stderr "builder cleanup --run $RUN"
		BUILDER=classic assert_exit 0 "$BUILDER_BIN" cleanup --run "$RUN"
		assert_contains "$OUT" "removed container 'builder-$RUN-test'"
	fi
	assert_no_leftovers "$RUN"
}

run_test "a socket nobody listens on exits 3: connection refused" t_refused
run_test "a reset in the middle of the build stream exits 3" t_reset_mid_build
run_test "HTTP 500 on /build is a refused build: exit 1 with the message" t_http_500_on_build
run_test "errorDetail in a 200 build stream exits 1 with the message and the step" t_error_detail_mid_stream
run_test "a stream cut inside a message exits 3" t_cut_inside_object
run_test "one byte at a time: build, tag and push succeed" t_one_byte_chunks
run_test "a stall longer than BUILDER_IDLE_TIMEOUT exits 3 naming it" t_stall_idle_timeout
run_test "SIGINT against an engine that hangs on removals: out within the bound, cleanup line" t_signal_hung_engine
run_test "a second signal against a hung engine exits at once" t_second_signal_hung_engine
run_test "after a signal, the cleanup removes what carries the run's label" t_signal_removes_by_label
run_test "a short JSON answer that stalls exits 3" t_short_json_answer
run_test "a message over the 1 MiB cap exits 3" t_line_over_the_cap
run_test "malformed JSON exits 3" t_malformed_json
run_test "unknown fields and messages are ignored" t_unknown_fields
run_test "dockerd restarted (SIGTERM) during a RUN step: exit 1 (137), nothing pushed" t_restart_during_build
run_test "the run's image name held by another container: one try, a warning" t_image_name_held_by_a_container
run_test "dockerd restarted (SIGTERM) during the tests: exit 4 (137), nothing pushed or left" t_restart_during_tests
run_test "dockerd killed (SIGKILL) during a RUN step: exit 3, nothing pushed" t_engine_killed_during_build
run_test "dockerd killed (SIGKILL) during the tests: exit 3, cleanup removes the rest" t_engine_killed_during_tests

# Whatever happened above, the engine must answer for the files after us.
if ! engine_answers && [ -s "$STATE/restart.cmdline" ]; then
	echo "e2e $T_FILE: the engine does not answer; waiting for the restart" >&2
	for _ in $(seq 120); do
		engine_answers && break
		sleep 1
	done
fi
engine_answers || echo "e2e $T_FILE: warning: the engine does not answer at the end" >&2
t_summary
