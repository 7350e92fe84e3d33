#!/usr/bin/env bash
# The test stage against the real engine: TEST_CMD's exit code and output
# (byte for byte, read by attaching, whatever the log driver: a fake engine
# whose /logs answers 501 stands for --log-driver=none), ENTRYPOINT images,
# images that cannot run (no /bin/sh, a service without CMD), TEST_TIMEOUT,
# sidecar services reached by alias, waited for by HEALTHCHECK and their
# logs shown when the tests fail, signals, and concurrent pipelines. Every test
# ends by checking that nothing labelled io.builder.run is left behind by
# the runs it started. The check goes by run id (taken from the container
# names in the output), not by the bare label, so that other test files
# running beside this one cannot fail it.
. "$(dirname "$0")/../lib.sh"

# pipeline CODE DIR [VAR=VALUE...]: builds DIR and runs the tests, no push.
# The test-stage variables are cleared first, so that the caller's
# environment (lib.sh's own TEST_TIMEOUT included) cannot leak in.
pipeline() {
	local want=$1 dir=$2
	shift 2
	assert_exit "$want" env TEST_CMD= TEST_ENV= TEST_SERVICES= TEST_TIMEOUT= \
		ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 PUSH=false "$@" \
		"$BUILDER_BIN" "$dir"
	cat "$OUT" >>"$T_DIR/all.out"
}

# assert_clean [FILE...]: no container or network is left labelled with a
# run id named in FILEs (default: the output of every pipeline so far).
assert_clean() {
	local id ids
	ids=$(cat "${@:-$T_DIR/all.out}" 2>/dev/null |
		grep -o 'builder-b[0-9a-f]\{10\}' | sed 's/^builder-//' | sort -u)
	[ -n "$ids" ] || t_fail "no run id in the output: were the tests run?"
	for id in $ids; do
		assert_no_leftovers "$id"
	done
}

# run_id: the run id the last pipeline used, from its container names.
run_id() {
	grep -o 'builder-b[0-9a-f]\{10\}' "$OUT" | head -1 | sed 's/^builder-//'
}

# service_image NAME DIR: builds DIR as the local image t$T_UNIQ-NAME:1.
service_image() {
	DOCKER_BUILDKIT=0 docker build -q -t "t$T_UNIQ-$1:1" "$2" >/dev/null 2>&1 ||
		t_fail "cannot build the service image from '$2'"
}

# An httpd service on port 8080 serving "hello from db"; it logs a line
# first, so that its log can be looked for.
make_http_service() {
	mkdir -p svc
	cat >svc/Dockerfile <<'DF'
FROM busybox:latest
RUN mkdir /www && echo "hello from db" >/www/index.html
CMD ["sh", "-c", "echo 'db log line: listening on 8080'; exec httpd -f -p 8080 -h /www"]
DF
	service_image db svc
}

# Static busybox cannot resolve names itself (wget fails on host names) but
# its nslookup asks the network's DNS: NAME's address, as a shell snippet.
addr_of() {
	printf '$(nslookup %s | awk '"'"'/^Address/ { a = $NF } END { print a }'"'"')' "$1"
}

t_passing_tests() {
	need_builder
	make_app app
	pipeline 0 app TEST_CMD=/app/test.sh
	assert_contains "$STDOUT" "tests passed"
	assert_contains "$STDERR" "builder-$(run_id)-test"
	assert_clean
}

t_no_test_cmd_skips() {
	need_builder
	make_app app
	pipeline 0 app
	assert_contains "$STDERR" "TEST_CMD is not set"
	# No container was made at all.
	assert_not_contains "$OUT" "builder-b"
}

t_failing_tests_exit_4() {
	local built
	need_builder
	make_app app
	# An image of this test's own: nothing else may name it.
	echo "$T_UNIQ" >app/uniq
	echo 'COPY uniq /uniq' >>app/Dockerfile
	pipeline 4 app TEST_CMD='echo "about to fail"; echo "oops" >&2; exit 7'
	assert_contains "$OUT" "tests failed (exit 7)"
	assert_contains "$STDOUT" "about to fail"
	assert_contains "$STDERR" "oops"
	# Failed tests stop the pipeline before the tag stage.
	assert_not_contains "$OUT" "==> tag"
	if docker image inspect "t$T_UNIQ/app:1" >/dev/null 2>&1; then
		t_fail "the image was tagged although its tests failed"
	fi
	# The build named the image builder-run:<run id> only; the cleanup
	# removed that name and, nothing else naming it, the image.
	built=$(grep -o 'built sha256:[0-9a-f]*' "$OUT" | head -1 | cut -d' ' -f2)
	[ -n "$built" ] || t_fail "no 'built sha256:' line in the output"
	if docker image inspect "$built" >/dev/null 2>&1; then
		t_fail "the failed image $built is still on the engine"
	fi
	assert_clean
}

t_exit_code_not_from_output() {
	need_builder
	make_app app
	# Output that looks like a failure, and an exit status of 0.
	pipeline 0 app TEST_CMD='echo "FAIL: exit 1"; echo "error" >&2; true'
	assert_contains "$STDOUT" "FAIL: exit 1"
	assert_clean
}

t_entrypoint_env_workdir() {
	need_builder
	mkdir ep
	cat >ep/Dockerfile <<'DF'
FROM busybox:latest
ENV GREETING=hi MODE=image
WORKDIR /srv/app
ENTRYPOINT ["/bin/false"]
CMD ["echo", "image", "cmd", "ran"]
DF
	pipeline 0 ep TEST_CMD='echo "$GREETING $MODE $EXTRA"; pwd; echo "$0"' \
		TEST_ENV='MODE=test,EXTRA=yes'
	assert_contains "$STDOUT" "hi test yes"
	assert_contains "$STDOUT" "/srv/app"
	assert_not_contains "$STDOUT" "image cmd ran"
	assert_clean
}

t_fast_container_keeps_output() {
	need_builder
	make_app app
	# A container that exits at once: its first and last lines must both
	# arrive, in order, on the right streams, every time. (stdout also
	# carries the build's output, before the tests'.)
	for i in 1 2 3; do
		pipeline 0 app TEST_CMD="echo first line $i; echo to stderr >&2; seq 1 5000; echo last line $i"
		first=$(grep -nx "first line $i" "$STDOUT" | cut -d: -f1)
		one=$(grep -nx 1 "$STDOUT" | cut -d: -f1)
		assert_eq "$(grep -cx "first line $i" "$STDOUT")" 1 "first line of run $i"
		[ -n "$first" ] && [ "$one" = $((first + 1)) ] ||
			t_fail "run $i: 'first line' not right before the numbers"
		assert_eq "$(tail -1 "$STDOUT")" "last line $i" "last line of run $i"
		assert_eq "$(grep -cx '[0-9]*' "$STDOUT")" 5000 "numbered lines of run $i"
		assert_contains "$STDERR" "to stderr"
		assert_not_contains "$STDOUT" "to stderr"
	done
	assert_clean
}

t_binary_output_byte_exact() {
	need_builder
	make_app app
	# Bytes that are not UTF-8, a NUL and a CR: all must arrive as they
	# were written. Nothing follows the tests' output on stdout without a
	# push, so the file ends with them.
	# Run by hand, not by pipeline(): the raw bytes must stay out of the
	# test log, which run.sh greps as text. It gets them made printable.
	local rc=0
	env TEST_CMD="printf 'A\\377\\376B\\000\\r\\n'; printf 'E\\377\\n' >&2" \
		TEST_ENV= TEST_SERVICES= TEST_TIMEOUT= ACCOUNT="t$T_UNIQ" IMAGE=app \
		TAG=1 PUSH=false "$BUILDER_BIN" app >"$STDOUT" 2>"$STDERR" || rc=$?
	cat "$STDOUT" "$STDERR" | LC_ALL=C tr -c '\11\12\40-\176' '?' >"$OUT"
	sed 's/^/  | /' "$OUT"
	cat "$OUT" >>"$T_DIR/all.out"
	assert_eq "$rc" 0 "exit status"
	printf 'A\377\376B\000\r\n' >want
	tail -c "$(wc -c <want)" "$STDOUT" >got
	od -An -tx1 got
	cmp got want || t_fail "stdout does not end with the bytes written: $(od -An -tx1 got)"
	LC_ALL=C grep -aq "$(printf 'E\377')" "$STDERR" ||
		t_fail "stderr does not hold the bytes written"
	assert_clean
}

t_instant_exit_keeps_early_output() {
	need_builder
	make_app app
	# The container prints and exits at once; with no newline the bytes
	# cannot hide in a line buffer either.
	for i in 1 2 3; do
		pipeline 0 app TEST_CMD="printf 'early$i'"
		assert_eq "$(tail -c 6 "$STDOUT")" "early$i" "output of run $i"
	done
	pipeline 4 app TEST_CMD='echo early-err >&2; exit 9'
	assert_contains "$STDERR" "early-err"
	assert_contains "$OUT" "tests failed (exit 9)"
	assert_clean
}

# fe_reply STATUS BODY: a fake-engine "reply" line with the right length.
fe_reply() {
	printf 'reply HTTP/1.1 %s\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\n' \
		"$1" "${#2}" "$2"
}

t_log_driver_none() {
	need_builder
	make_app app
	local img=sha256:f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed
	local cid=c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00
	# An engine whose log driver is "none": GET /logs answers 501, as
	# dockerd does; attach works. The attach sends its output a moment
	# after the start, as a real container would, in frames.
	{
		echo 'match /_ping'
		echo 'reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK'
		echo 'match GET /version'
		fe_reply '200 OK' '{"Version":"20.10.99-fake","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}'
		echo 'match POST /build'
		echo 'send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"stream":"Step 1/1 : FROM busybox\\n"}\r\n{"aux":{"ID":"'"$img"'"}}\r\n'
		echo 'close'
		echo 'match POST /containers/create'
		fe_reply '201 Created' '{"Id":"'"$cid"'","Warnings":[]}'
		echo 'match /attach'
		echo 'send HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n'
		echo 'sleep 0.5'
		echo 'send \x01\x00\x00\x00\x00\x00\x00\x0dhello attach\n\x02\x00\x00\x00\x00\x00\x00\x04err\n'
		echo 'close'
		echo 'match /start'
		echo 'reply HTTP/1.1 204 No Content\r\n\r\n'
		echo 'match /wait'
		fe_reply '200 OK' '{"StatusCode":0,"Error":null}'
		echo 'match /logs'
		fe_reply '501 Not Implemented' '{"message":"configured logging driver does not support reading"}'
		echo 'match DELETE /containers/'
		echo 'reply HTTP/1.1 204 No Content\r\n\r\n'
		echo 'match POST /images/'
		echo 'reply HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'
		echo 'match GET /images/'
		fe_reply '200 OK' '{"Id":"'"$img"'","Size":4242}'
	} >fe.script
	fake_engine_start fe.script
	pipeline 0 app DOCKER_HOST="unix://$FAKE_SOCK" BUILDER=classic TEST_CMD=true
	cat "$FAKE_LOG"
	assert_contains "$STDOUT" "hello attach"
	assert_contains "$STDERR" "err"
	assert_not_contains "$FAKE_LOG" "/logs"
	# Attached before the start, so that nothing is missed.
	local a s
	a=$(grep -n '/attach?' "$FAKE_LOG" | head -1 | cut -d: -f1)
	s=$(grep -n '/start' "$FAKE_LOG" | head -1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$s" ] && [ "$a" -lt "$s" ] ||
		t_fail "attach (line '$a') did not come before start (line '$s')"
	assert_contains "$FAKE_LOG" "DELETE /v1.41/containers/$cid"
}

t_step_container_hint() {
	need_builder
	make_app app
	# The classic builder's RUN container carries no label of ours: when
	# it cannot be removed after the build went quiet, the hint must name
	# it for `docker rm -f`, not send the user to `builder cleanup --run`,
	# which finds only labelled objects.
	{
		echo 'match /_ping'
		echo 'reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK'
		echo 'match GET /version'
		fe_reply '200 OK' '{"Version":"20.10.99-fake","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}'
		echo 'match POST /build'
		echo 'send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"stream":"Step 1/2 : RUN sleep 600\\n"}\r\n{"stream":" ---\\u003e Running in 5e9c0de5e9c0\\n"}\r\n'
		echo 'hold'
		echo 'match DELETE /containers/'
		fe_reply '500 Internal Server Error' '{"message":"fake: removal failed"}'
	} >fe.script
	fake_engine_start fe.script
	pipeline 3 app DOCKER_HOST="unix://$FAKE_SOCK" BUILDER=classic \
		BUILDER_IDLE_TIMEOUT=2 TEST_CMD=true
	assert_contains "$FAKE_LOG" "DELETE /v1.41/containers/5e9c0de5e9c0"
	assert_contains "$STDERR" "docker rm -f 5e9c0de5e9c0"
	grep -F "5e9c0de5e9c0" "$STDERR" | grep -qF "builder cleanup" &&
		t_fail "the hint for the step container names 'builder cleanup'"
	return 0
}

t_timeout_kills() {
	need_builder
	make_app app
	start=$(date +%s)
	pipeline 4 app TEST_TIMEOUT=2 TEST_CMD='echo started; sleep 30; echo never'
	secs=$(($(date +%s) - start))
	assert_contains "$OUT" "tests timed out after 2 s"
	assert_contains "$OUT" "killed"
	assert_contains "$STDOUT" "started"
	assert_not_contains "$STDOUT" "never"
	[ "$secs" -lt 20 ] || t_fail "took $secs s with TEST_TIMEOUT=2"
	assert_clean
}

t_service_by_alias() {
	need_builder
	make_app app
	make_http_service
	pipeline 0 app TEST_SERVICES="db=t$T_UNIQ-db:1" \
		TEST_CMD="ip=$(addr_of db); echo \"db at \$ip\"; wget -qO- http://\$ip:8080/"
	assert_contains "$STDOUT" "hello from db"
	id=$(run_id)
	assert_contains "$STDERR" "network 'builder-$id'"
	assert_contains "$STDERR" "builder-$id-db"
	assert_clean
}

t_service_log_on_failure() {
	need_builder
	make_app app
	make_http_service
	pipeline 4 app TEST_SERVICES="db=t$T_UNIQ-db:1" TEST_CMD='exit 1'
	assert_contains "$OUT" "tests failed (exit 1)"
	assert_contains "$STDERR" "[db] db log line: listening on 8080"
	assert_clean
}

t_service_logs_after_failed_tests() {
	need_builder
	make_app app
	make_http_service
	mkdir chatty
	cat >chatty/Dockerfile <<'DF'
FROM busybox:latest
CMD ["sh", "-c", "i=1; while [ $i -le 60 ]; do echo \"svc line $i\"; i=$((i + 1)); done; exec sleep 600"]
DF
	service_image chatty chatty
	pipeline 4 app TEST_SERVICES="db=t$T_UNIQ-db:1,chatty=t$T_UNIQ-chatty:1" \
		TEST_CMD='sleep 1; echo "end of the test output" >&2; exit 1'
	# The last 50 lines of every service, after the tests' own output.
	assert_eq "$(grep -c '^    \[chatty\] svc line [0-9]*$' "$STDERR")" 50 "chatty's log lines"
	grep -qx '    \[chatty\] svc line 60' "$STDERR" || t_fail "no last line"
	grep -qx '    \[chatty\] svc line 11' "$STDERR" || t_fail "no 50th line from the end"
	! grep -qx '    \[chatty\] svc line 10' "$STDERR" || t_fail "more than 50 lines"
	assert_contains "$STDERR" "[db] db log line: listening on 8080"
	local t d c
	t=$(grep -nx "end of the test output" "$STDERR" | cut -d: -f1)
	d=$(grep -n '\[db\] db log line' "$STDERR" | head -1 | cut -d: -f1)
	c=$(grep -n '\[chatty\] svc line 11$' "$STDERR" | cut -d: -f1)
	[ -n "$t" ] && [ "$t" -lt "$d" ] && [ "$t" -lt "$c" ] ||
		t_fail "the service logs do not follow the test output"
	assert_clean
}

# A context whose image has no shell and no CMD: one file FROM scratch.
make_scratch_image_dir() {
	mkdir -p "$1"
	echo data >"$1/file"
	printf 'FROM scratch\nCOPY file /file\n' >"$1/Dockerfile"
}

t_image_without_shell_exit_4() {
	need_builder
	make_scratch_image_dir noshell
	pipeline 4 noshell TEST_CMD=true
	assert_contains "$STDERR" "has no /bin/sh"
	assert_clean
}

t_service_without_cmd_exit_4() {
	need_builder
	make_app app
	make_scratch_image_dir nocmd
	service_image nocmd nocmd
	pipeline 4 app TEST_SERVICES="nocmd=t$T_UNIQ-nocmd:1" TEST_CMD='echo never'
	assert_contains "$STDERR" "service 'nocmd'"
	assert_contains "$STDERR" "no CMD"
	assert_not_contains "$STDOUT" "never"
	assert_clean
}

# healthcheck_service HEALTHCHECK_OPTIONS DELAY WANT: a service healthy only
# once /www/ready exists, DELAY s after its start; the tests fetch that
# file, so they pass only if they waited; the log says WANT.
healthcheck_service() {
	need_builder
	make_app app
	mkdir hc
	cat >hc/Dockerfile <<DF
FROM busybox:latest
RUN mkdir /www && echo up >/www/index.html
HEALTHCHECK $1 CMD test -f /www/ready
CMD ["sh", "-c", "httpd -p 8080 -h /www; sleep $2; echo ready >/www/ready; exec sleep 600"]
DF
	service_image hc hc
	pipeline 0 app TEST_SERVICES="cache=t$T_UNIQ-hc:1" \
		TEST_CMD="wget -qO- http://$(addr_of cache):8080/ready"
	assert_contains "$STDOUT" "ready"
	assert_contains "$STDERR" "$3"
	assert_clean
}

t_service_healthcheck_waited_for() {
	healthcheck_service "--interval=1s --timeout=2s --retries=60" 3 \
		"service 'cache' is healthy"
}

# An hour between Docker's checks: healthy within the stage's 120 s only
# because builder runs the check itself (engine/probe.c).
t_service_healthcheck_run_by_builder() {
	healthcheck_service --interval=1h 1 \
		"service 'cache' is healthy: its health check passed when builder ran it"
}

t_service_unhealthy_or_exited() {
	need_builder
	make_app app
	mkdir bad
	cat >bad/Dockerfile <<'DF'
FROM busybox:latest
CMD ["sh", "-c", "echo 'bad service: missing config' >&2; exit 3"]
DF
	service_image bad bad
	pipeline 4 app TEST_SERVICES="bad=t$T_UNIQ-bad:1" TEST_CMD='echo never'
	assert_contains "$OUT" "service 'bad'"
	assert_contains "$OUT" "code 3"
	assert_contains "$STDERR" "[bad] bad service: missing config"
	assert_not_contains "$STDOUT" "never"

	mkdir sick
	cat >sick/Dockerfile <<'DF'
FROM busybox:latest
HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD echo "no db yet"; false
CMD ["sleep", "600"]
DF
	service_image sick sick
	pipeline 4 app TEST_SERVICES="sick=t$T_UNIQ-sick:1" TEST_CMD='echo never'
	assert_contains "$OUT" "service 'sick'"
	assert_contains "$OUT" "unhealthy"
	assert_contains "$OUT" "no db yet"
	assert_clean
}

t_service_pulled_with_credentials() {
	need_builder
	[ -n "${REGISTRY_ADDR:-}" ] || t_fail "no test registry"
	make_app app
	make_http_service
	remote=$REGISTRY_ADDR/t$T_UNIQ/db:1
	echo "$REGISTRY_PASS_T" | docker login -u "$REGISTRY_USER_T" \
		--password-stdin "$REGISTRY_ADDR" >/dev/null 2>&1
	docker tag "t$T_UNIQ-db:1" "$remote"
	docker push -q "$remote" >/dev/null
	docker rmi "$remote" >/dev/null
	docker logout "$REGISTRY_ADDR" >/dev/null 2>&1
	# Without credentials the registry refuses.
	pipeline '!0' app TEST_SERVICES="db=$remote" TEST_CMD=true
	assert_contains "$OUT" "cannot pull '$remote'"
	# With REGISTRY_USER for the pipeline's registry, which is the
	# service's too, the image is pulled and the service answers.
	pipeline 0 app TEST_SERVICES="db=$remote" REGISTRY="$REGISTRY_ADDR" \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T" \
		TEST_CMD="wget -qO- http://$(addr_of db):8080/"
	assert_contains "$STDOUT" "hello from db"
	assert_contains "$STDERR" "credentials: REGISTRY_USER"
	assert_not_contains "$OUT" "$REGISTRY_PASS_T"
	docker rmi "$remote" >/dev/null
	# With config.json's credentials (docker login), as for any registry.
	echo "$REGISTRY_PASS_T" | docker login -u "$REGISTRY_USER_T" \
		--password-stdin "$REGISTRY_ADDR" >/dev/null 2>&1
	pipeline 0 app TEST_SERVICES="db=$remote" \
		TEST_CMD="wget -qO- http://$(addr_of db):8080/"
	assert_contains "$STDOUT" "hello from db"
	assert_contains "$STDERR" "config.json"
	docker rmi "$remote" >/dev/null 2>&1 || true
	assert_clean
}

t_sigterm_during_tests() {
	need_builder
	make_app app
	make_http_service
	env TEST_ENV= TEST_TIMEOUT= ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 PUSH=false \
		TEST_SERVICES="db=t$T_UNIQ-db:1" \
		TEST_CMD='echo started; sleep 120' \
		"$BUILDER_BIN" app >"$STDOUT" 2>"$STDERR" &
	pid=$!
	for i in $(seq 600); do
		grep -q started "$STDOUT" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	assert_contains "$STDOUT" "started"
	start=$(date +%s)
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	secs=$(($(date +%s) - start))
	cat "$STDOUT" "$STDERR" >"$OUT"
	cat "$OUT"
	assert_eq "$rc" 143 "exit status after SIGTERM"
	[ "$secs" -le 10 ] || t_fail "took $secs s to stop after SIGTERM"
	assert_clean "$OUT"
}

t_four_pipelines_at_once() {
	need_builder
	make_app app
	make_http_service
	pids=()
	for n in 1 2 3 4; do
		env TEST_ENV= TEST_TIMEOUT= ACCOUNT="t$T_UNIQ" IMAGE=app \
			TAG="v$n" PUSH=false TEST_SERVICES="db=t$T_UNIQ-db:1" \
			TEST_CMD="wget -qO- http://$(addr_of db):8080/ && echo run $n ok" \
			"$BUILDER_BIN" app >"out.$n" 2>&1 &
		pids+=($!)
	done
	for n in 1 2 3 4; do
		rc=0
		wait "${pids[$((n - 1))]}" || rc=$?
		sed "s/^/[$n] /" "out.$n"
		assert_eq "$rc" 0 "exit status of pipeline $n"
		assert_contains "out.$n" "run $n ok"
		assert_contains "out.$n" "hello from db"
	done
	ids=$(cat out.1 out.2 out.3 out.4 | grep -o 'builder-b[0-9a-f]\{10\}-test' | sort -u | wc -l)
	assert_eq "$ids" 4 "distinct test containers"
	assert_clean out.1 out.2 out.3 out.4
}

run_test "passing tests exit 0" t_passing_tests
run_test "no TEST_CMD skips the stage" t_no_test_cmd_skips
run_test "failing tests exit 4 with their exit code" t_failing_tests_exit_4
run_test "the verdict comes from the exit code, not the output" t_exit_code_not_from_output
run_test "image ENTRYPOINT, ENV and WORKDIR" t_entrypoint_env_workdir
run_test "a fast container loses no output" t_fast_container_keeps_output
run_test "binary output arrives byte for byte" t_binary_output_byte_exact
run_test "a container that exits at once keeps its output" t_instant_exit_keeps_early_output
run_test "an engine with log driver none (fake engine)" t_log_driver_none
run_test "the classic builder's step container: a hint that works" t_step_container_hint
run_test "TEST_TIMEOUT kills the tests" t_timeout_kills
run_test "a service is reached by its alias" t_service_by_alias
run_test "failing tests show the service log" t_service_log_on_failure
run_test "failed tests show the last 50 lines of every service log" t_service_logs_after_failed_tests
run_test "an image without /bin/sh exits 4" t_image_without_shell_exit_4
run_test "a service without CMD exits 4" t_service_without_cmd_exit_4
run_test "a service HEALTHCHECK is waited for" t_service_healthcheck_waited_for
run_test "a service HEALTHCHECK is run by builder between Docker's" t_service_healthcheck_run_by_builder
run_test "a service that exits or is unhealthy fails the stage" t_service_unhealthy_or_exited
run_test "a service image is pulled with credentials" t_service_pulled_with_credentials
run_test "SIGTERM during the tests exits 143 and cleans up" t_sigterm_during_tests
run_test "four pipelines at once" t_four_pipelines_at_once
t_summary
