#!/usr/bin/env bash
# SIGINT and SIGTERM at every stage of a pipeline that would push to the
# test registry: while the build context is uploading, during a RUN step,
# while a service is waited for, during the tests, and during the push. In
# each case builder must exit 130 or 143 within 10 s, leave no container or
# network of its run, and push nothing. SIGHUP (a CI runner's agent going
# away) and SIGQUIT during the tests: 129 and 131, same cleanup. SIGTERM at
# many points of the test stage's creates (a create whose answer the signal
# cut short): nothing of the run is left. A second signal during the
# cleanup exits at once and says how to remove what is left. A concurrent
# `builder cleanup` does not disturb a live run.
. "$(dirname "$0")/../lib.sh"

# start_pipeline DIR [VAR=VALUE...]: the whole job on DIR in the background
# (PID), pushing to the test registry as t$T_UNIQ/app:$TAG; stdout and
# stderr go to $STDOUT and $STDERR.
start_pipeline() {
	local dir=$1
	shift
	: >"$STDOUT"
	: >"$STDERR"
	env TEST_CMD= TEST_ENV= TEST_SERVICES= TEST_TIMEOUT= \
		REGISTRY="$REGISTRY_ADDR" ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T" \
		"$@" "$BUILDER_BIN" "$dir" >"$STDOUT" 2>"$STDERR" &
	PID=$!
}

# wait_for TEXT [SECONDS]: until TEXT shows in the pipeline's output.
wait_for() {
	local i
	for i in $(seq $((${2:-180} * 10))); do
		cat "$STDOUT" "$STDERR" | grep -qF -- "$1" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$STDOUT" "$STDERR"
	t_fail "'$1' never showed in the output"
}

# start_until TEXT DIR [VAR=VALUE...]: start_pipeline until TEXT shows in
# its stderr. Other test files on the shared engine prune images: a run
# that lost its image (the built one is untagged until the tag stage) is
# started again, twice at most.
start_until() {
	local text=$1
	shift
	for _ in 1 2 3; do
		start_pipeline "$@"
		while kill -0 "$PID" 2>/dev/null && ! grep -qF -- "$text" "$STDERR"; do
			sleep 0.01
		done
		grep -qF -- "$text" "$STDERR" && return 0
		wait "$PID" || true
		cat "$STDOUT" "$STDERR"
		grep -q "unable to find image\|No such image" "$STDERR" ||
			t_fail "'$text' never showed in the output"
		echo "  (the image was removed under us: again)"
	done
	t_fail "'$text' never showed in the output"
}

# stop_with SIG [SECOND_SIG DELAY]: signals the pipeline (and again after
# DELAY seconds), waits for it, and checks the exit status (128 + the first
# signal), the time taken (10 s at most) and the message.
stop_with() {
	local sig=$1 again=${2:-} delay=${3:-0} want rc=0 start ms
	case $sig in HUP) want=129 ;; INT) want=130 ;; QUIT) want=131 ;; TERM) want=143 ;; esac
	start=$(date +%s%N)
	kill -"$sig" "$PID"
	if [ -n "$again" ]; then
		sleep "$delay"
		kill -"$again" "$PID" 2>/dev/null || echo "(already gone at the second signal)"
	fi
	wait "$PID" || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	cat "$STDOUT" "$STDERR" >"$OUT"
	sed 's/^/  | /' "$OUT"
	echo "  (SIG$sig${again:+ then SIG$again after ${delay}s}: exit $rc after $ms ms)"
	assert_eq "$rc" "$want" "exit status after SIG$sig"
	[ "$ms" -le 10000 ] || t_fail "took $ms ms to stop after SIG$sig"
	assert_contains "$STDERR" "interrupted by SIG$sig"
	cat "$OUT" >>"$T_DIR/all.out"
}

# assert_clean: nothing of the runs named in the output so far (every run
# names its id first thing); nothing in the registry for the test's
# repository, now or a few seconds later (the engine might go on pushing
# after the connection closed). Other runs on the shared engine create
# labelled objects at any time: only our runs' ids are looked at.
assert_clean() {
	local id
	[ -s "$T_DIR/all.out" ] || t_fail "no output recorded"
	for id in $(grep -o '\(run \|builder-\)b[0-9a-f]\{10\}' "$T_DIR/all.out" |
		sed 's/^run //; s/^builder-//' | sort -u); do
		assert_no_leftovers "$id"
	done
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags in the registry"
	sleep 3
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags in the registry 3 s later"
}

# assert_build_container_gone MARKER: no container (the classic builder's
# RUN step) whose command holds MARKER, within 15 s.
assert_build_container_gone() {
	local i left
	for i in $(seq 30); do
		left=$(docker ps -a --no-trunc --format '{{.ID}} {{.Status}} {{.Command}}' |
			grep -F -- "$1" || true)
		[ -n "$left" ] || return 0
		sleep 0.5
	done
	t_fail "the build step's container is still there: $left"
}

# --- the stages ------------------------------------------------------------

t_during_upload() {
	need_builder
	mkdir -p app/data
	printf 'FROM busybox:latest\nCOPY data /data\n' >app/Dockerfile
	# 300 MB in 30 files: the upload takes a moment.
	for i in $(seq 30); do
		head -c 10M /dev/urandom >"app/data/f$i"
	done
	for sig in INT TERM; do
		start_pipeline app TAG="$sig"
		wait_for "==> build:"
		stop_with "$sig"
		# The classic builder starts only once it has the whole
		# context: the signal came during the upload.
		assert_not_contains "$STDOUT" "Step 1/"
	done
	assert_clean
}

t_during_build() {
	need_builder
	mkdir app
	for sig in INT TERM; do
		marker="build-$sig-$T_UNIQ"
		printf 'FROM busybox:latest\nRUN echo %s && sleep 30\n' "$marker" >app/Dockerfile
		start_pipeline app TAG="$sig"
		wait_for "$marker"
		sleep 0.5
		stop_with "$sig"
		assert_not_contains "$STDERR" "<== build done"
		assert_build_container_gone "$marker"
	done
	assert_clean
}

t_during_service_start() {
	need_builder
	make_app app
	mkdir never
	cat >never/Dockerfile <<'DF'
FROM busybox:latest
HEALTHCHECK --interval=1s --timeout=1s --retries=1000 CMD false
CMD ["sleep", "600"]
DF
	DOCKER_BUILDKIT=0 docker build -q -t "t$T_UNIQ-never:1" never >/dev/null ||
		t_fail "cannot build the service image"
	for sig in INT TERM; do
		start_pipeline app TAG="$sig" TEST_SERVICES="db=t$T_UNIQ-never:1" \
			TEST_CMD='echo tests-ran'
		wait_for "waiting for service 'db' to become healthy"
		sleep 1
		stop_with "$sig"
		assert_not_contains "$STDOUT" "tests-ran"
		assert_contains "$STDERR" "builder-"
	done
	assert_clean
}

t_during_tests() {
	need_builder
	make_app app
	for sig in INT TERM; do
		start_pipeline app TAG="$sig" TEST_CMD='echo tests-started; sleep 60; echo never'
		wait_for "tests-started"
		stop_with "$sig"
		assert_not_contains "$STDOUT" "never"
		assert_not_contains "$STDERR" "==> tag"
	done
	assert_clean
}

t_during_push() {
	need_builder
	mkdir app
	for sig in INT TERM; do
		# A fresh 200 MB random layer each time (nothing cached, nothing
		# already in the registry): the push takes a while.
		printf 'FROM busybox:latest\nRUN echo push-%s-%s && dd if=/dev/urandom of=/big bs=1048576 count=200 2>/dev/null\n' \
			"$sig" "$T_UNIQ" >app/Dockerfile
		start_pipeline app TAG="$sig"
		wait_for "==> push:" 240
		stop_with "$sig"
		assert_not_contains "$STDERR" "<== push done"
		assert_not_contains "$STDOUT" "@sha256:"
	done
	assert_clean
}

t_hup_quit_during_tests() {
	need_builder
	make_app app
	mkdir svc
	printf 'FROM busybox:latest\nCMD ["sleep", "600"]\n' >svc/Dockerfile
	DOCKER_BUILDKIT=0 docker build -q -t "t$T_UNIQ-svc:1" svc >/dev/null ||
		t_fail "cannot build the service image"
	for sig in HUP QUIT; do
		start_until "running the tests" app TAG="$sig" TEST_SERVICES="db=t$T_UNIQ-svc:1" \
			TEST_CMD='echo tests-started; sleep 60; echo never'
		wait_for "tests-started"
		stop_with "$sig"
		assert_not_contains "$STDOUT" "never"
		assert_not_contains "$STDERR" "==> tag"
	done
	assert_clean
}

# run_id_of FILE: the run id builder printed.
run_id_of() {
	grep -o '\(run \|builder-\)b[0-9a-f]\{10\}' "$1" | head -1 |
		sed 's/^run //; s/^builder-//'
}

# SIGTERM at many points from the start of the test stage: the network and
# container creates get cut short at some of them. What the engine created
# without our hearing of it must be found by its label and removed.
t_signal_during_creates() {
	need_builder
	make_app app
	mkdir svc
	printf 'FROM busybox:latest\nCMD ["sleep", "600"]\n' >svc/Dockerfile
	DOCKER_BUILDKIT=0 docker build -q -t "t$T_UNIQ-svc:1" svc >/dev/null ||
		t_fail "cannot build the service image"
	local delay id rc ids=""
	for delay in 0 0.01 0.02 0.03 0.05 0.07 0.1 0.13 0.17 0.2 0.25 0.3 0.4 0.5; do
		start_until "==> test:" app TAG=c PUSH=false \
			TEST_SERVICES="a=t$T_UNIQ-svc:1,b=t$T_UNIQ-svc:1" \
			TEST_CMD='sleep 60'
		sleep "$delay"
		kill -TERM "$PID"
		rc=0
		wait "$PID" || rc=$?
		id=$(run_id_of "$STDERR")
		[ -n "$id" ] || t_fail "no run id in the output"
		echo "  (SIGTERM ${delay}s into the test stage: exit $rc, run $id)"
		assert_eq "$rc" 143 "exit status"
		ids="$ids $id"
	done
	# An engine may finish a create it lost the client of a little later.
	sleep 2
	for id in $ids; do
		assert_no_leftovers "$id"
	done
}

# `builder cleanup` (no --run) while a run's tests are going: the live
# run's objects are younger than the default age and are kept.
t_cleanup_spares_live_run() {
	need_builder
	make_app app
	mkdir svc
	printf 'FROM busybox:latest\nCMD ["sleep", "600"]\n' >svc/Dockerfile
	DOCKER_BUILDKIT=0 docker build -q -t "t$T_UNIQ-svc:1" svc >/dev/null ||
		t_fail "cannot build the service image"
	start_until "running the tests" app TAG=live PUSH=false TEST_SERVICES="db=t$T_UNIQ-svc:1" \
		TEST_CMD='echo tests-started; sleep 4; echo tests-done'
	wait_for "tests-started"
	local id rc=0
	id=$(run_id_of "$STDERR")
	"$BUILDER_BIN" cleanup >"$T_DIR/cleanup.out" 2>&1 || t_fail "builder cleanup failed: $(cat "$T_DIR/cleanup.out")"
	sed 's/^/  cleanup| /' "$T_DIR/cleanup.out"
	assert_not_contains "$T_DIR/cleanup.out" "$id"
	[ -n "$(leftovers "$id")" ] || t_fail "builder cleanup removed the live run's objects"
	wait "$PID" || rc=$?
	cat "$STDERR" | tail -5
	assert_eq "$rc" 0 "the live run's exit status"
	assert_contains "$STDOUT" "tests-done"
	assert_no_leftovers "$id"
}

# reply_json BODY: a fake-engine "reply" of BODY (no script escapes in it).
reply_json() {
	printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\n' \
		"${#1}" "$1"
}

# builder cleanup's age rule, on the fake engine (never on the shared
# engine, where other helpers' runs are live): objects of a run two hours
# old and of one a minute old; containers carry a Unix time, networks RFC
# 3339 (here with a +01:00 offset and with Z and nanoseconds).
t_cleanup_age() {
	need_builder
	local now old new
	now=$(date +%s)
	old=$((now - 7200))
	new=$((now - 60))
	{
		echo 'match /_ping'
		echo 'reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK'
		echo 'match GET /containers/json'
		reply_json '[{"Id":"c0ld","Names":["/builder-b0ld-test"],"Created":'$old',"Labels":{"io.builder.run":"b0ld"}},{"Id":"cnew","Names":["/builder-bnew-test"],"Created":'$new',"Labels":{"io.builder.run":"bnew"}}]'
		echo 'match GET /networks'
		reply_json '[{"Name":"builder-b0ld","Id":"n0ld","Created":"'"$(TZ=Etc/GMT-1 date -d "@$old" +%Y-%m-%dT%H:%M:%S.5%:z)"'","Labels":{"io.builder.run":"b0ld"}},{"Name":"builder-bnew","Id":"nnew","Created":"'"$(date -u -d "@$new" +%Y-%m-%dT%H:%M:%S.123456789Z)"'","Labels":{"io.builder.run":"bnew"}}]'
		echo 'match GET /volumes'
		reply_json '{"Volumes":[{"Name":"v0ld","CreatedAt":"'"$(date -u -d "@$old" +%Y-%m-%dT%H:%M:%SZ)"'","Labels":{"io.builder.run":"b0ld"}},{"Name":"vnew","CreatedAt":"'"$(date -u -d "@$new" +%Y-%m-%dT%H:%M:%SZ)"'","Labels":{"io.builder.run":"bnew"}}],"Warnings":null}'
		# Images have no label: a build's run name, aged by when the
		# build named it (Metadata.LastTagTime); one never tagged (Go's
		# zero time) is kept unless --all, and names builder does not
		# make (builder-run:latest, builder-runner:...) always.
		echo 'match GET /images/json'
		reply_json '[{"Id":"sha256:i0ld","RepoTags":["builder-run:b0123456789","acme/app:1"]},{"Id":"sha256:inew","RepoTags":["localhost/builder-run:b0123456abc"]},{"Id":"sha256:izero","RepoTags":["builder-run:b00000000ff","builder-runner:b0123456789","builder-run:latest"]}]'
		echo 'match GET /images/builder-run:b0123456789/json'
		reply_json '{"Id":"sha256:i0ld","Metadata":{"LastTagTime":"'"$(date -u -d "@$old" +%Y-%m-%dT%H:%M:%S.123456789Z)"'"}}'
		echo 'match GET /images/localhost/builder-run:b0123456abc/json'
		reply_json '{"Id":"sha256:inew","Metadata":{"LastTagTime":"'"$(date -u -d "@$new" +%Y-%m-%dT%H:%M:%SZ)"'"}}'
		echo 'match GET /images/builder-run:b00000000ff/json'
		reply_json '{"Id":"sha256:izero","Metadata":{"LastTagTime":"0001-01-01T00:00:00Z"}}'
		echo 'match DELETE /'
		echo 'reply HTTP/1.1 204 No Content\r\n\r\n'
	} >fe.script
	fake_engine_start fe.script
	# deleted: the objects DELETEd since the last call, sorted.
	deleted() {
		sed -n 's|^DELETE /v1.41/[a-z]*/\([a-z0-9/:-]*\).*|\1|p' "$FAKE_LOG" | sort | tr '\n' ' '
		: >"$FAKE_LOG"
	}
	DOCKER_HOST=unix://$FAKE_SOCK assert_exit 0 "$BUILDER_BIN" cleanup
	assert_eq "$(deleted)" "builder-run:b0123456789 c0ld n0ld v0ld " "removed by plain builder cleanup (1 h)"
	assert_contains "$STDERR" "kept 1 container younger than 3600 s"
	assert_contains "$STDERR" "kept 2 image names younger than 3600 s"
	assert_contains "$STDERR" "removed image name 'builder-run:b0123456789' (run b0123456789)"
	DOCKER_HOST=unix://$FAKE_SOCK assert_exit 0 "$BUILDER_BIN" cleanup --older-than 3h
	assert_eq "$(deleted)" "" "removed with --older-than 3h"
	DOCKER_HOST=unix://$FAKE_SOCK assert_exit 0 "$BUILDER_BIN" cleanup --older-than 30s
	assert_eq "$(deleted)" "builder-run:b0123456789 c0ld cnew localhost/builder-run:b0123456abc n0ld nnew v0ld vnew " "removed with --older-than 30s"
	DOCKER_HOST=unix://$FAKE_SOCK assert_exit 0 "$BUILDER_BIN" cleanup --all
	assert_eq "$(deleted)" "builder-run:b00000000ff builder-run:b0123456789 c0ld cnew localhost/builder-run:b0123456abc n0ld nnew v0ld vnew " "removed with --all"
	# The fake engine ignores the filters (the label's are the engine's
	# work); builder itself keeps other runs' image names.
	DOCKER_HOST=unix://$FAKE_SOCK assert_exit 0 "$BUILDER_BIN" cleanup --run b0123456abc
	assert_eq "$(deleted)" "c0ld cnew localhost/builder-run:b0123456abc n0ld nnew v0ld vnew " "removed with --run b0123456abc"
	DOCKER_HOST=unix://$FAKE_SOCK assert_exit 2 "$BUILDER_BIN" cleanup --all --run b0ld
	DOCKER_HOST=unix://$FAKE_SOCK assert_exit 2 "$BUILDER_BIN" cleanup --older-than 1x
	assert_contains "$STDERR" "--older-than '1x' is not an age"
}

# SIGTERM, then another signal while the cleanup removes the test
# container and the services: builder exits at once (128 + the first
# signal) and, if the cleanup was not done, names the `builder cleanup
# --run` line, which removes the rest.
t_second_signal_during_cleanup() {
	need_builder
	make_app app
	mkdir svc
	cat >svc/Dockerfile <<'DF'
FROM busybox:latest
CMD ["sleep", "600"]
DF
	DOCKER_BUILDKIT=0 docker build -q -t "t$T_UNIQ-svc:1" svc >/dev/null ||
		t_fail "cannot build the service image"
	for case in "TERM 0.05" "TERM 0.3" "INT 0.1" "TERM 1"; do
		set -- $case
		start_until "running the tests" app TAG=x TEST_SERVICES="a=t$T_UNIQ-svc:1,b=t$T_UNIQ-svc:1" \
			TEST_CMD='echo tests-started; sleep 60'
		wait_for "tests-started"
		stop_with TERM "$1" "$2"
		id=$(run_id_of "$OUT")
		[ -n "$id" ] || t_fail "no run id in the output"
		if [ -n "$(leftovers "$id")" ]; then
			assert_contains "$STDERR" "builder cleanup --run $id"
			assert_exit 0 "$BUILDER_BIN" cleanup --run "$id"
		fi
		assert_no_leftovers "$id"
	done
	assert_clean
}

run_test "SIGINT and SIGTERM during the context upload" t_during_upload
run_test "SIGINT and SIGTERM during a RUN step" t_during_build
run_test "SIGINT and SIGTERM while a service is waited for" t_during_service_start
run_test "SIGINT and SIGTERM during the tests" t_during_tests
run_test "SIGINT and SIGTERM during the push" t_during_push
run_test "SIGHUP and SIGQUIT during the tests: 129 and 131, nothing left" t_hup_quit_during_tests
run_test "SIGTERM during the test stage's creates: nothing of the run left" t_signal_during_creates
run_test "builder cleanup does not touch a live run" t_cleanup_spares_live_run
run_test "builder cleanup removes by age: 1 h, --older-than, --all (fake engine)" t_cleanup_age
run_test "a second signal during the cleanup exits at once with the cleanup line" t_second_signal_during_cleanup
t_summary
