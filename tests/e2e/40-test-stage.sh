#!/usr/bin/env bash
# The test stage against the real engine: TEST_CMD's exit code and output,
# ENTRYPOINT images, TEST_TIMEOUT, sidecar services reached by alias and
# waited for by HEALTHCHECK, signals, and concurrent pipelines. Every test
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
		"$BUILDER" "$dir"
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
	need_builder
	make_app app
	pipeline 4 app TEST_CMD='echo "about to fail"; echo "oops" >&2; exit 7'
	assert_contains "$OUT" "tests failed (exit 7)"
	assert_contains "$STDOUT" "about to fail"
	assert_contains "$STDERR" "oops"
	# Failed tests stop the pipeline before the tag stage.
	assert_not_contains "$OUT" "==> tag"
	if docker image inspect "t$T_UNIQ/app:1" >/dev/null 2>&1; then
		t_fail "the image was tagged although its tests failed"
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

t_service_healthcheck_waited_for() {
	need_builder
	make_app app
	mkdir hc
	# Healthy only once /www/ready exists, 3 s after the start; the
	# tests fetch that file, so they pass only if they waited.
	cat >hc/Dockerfile <<'DF'
FROM busybox:latest
RUN mkdir /www && echo up >/www/index.html
HEALTHCHECK --interval=1s --timeout=2s --retries=60 CMD test -f /www/ready
CMD ["sh", "-c", "httpd -p 8080 -h /www; sleep 3; echo ready >/www/ready; exec sleep 600"]
DF
	service_image hc hc
	pipeline 0 app TEST_SERVICES="cache=t$T_UNIQ-hc:1" \
		TEST_CMD="wget -qO- http://$(addr_of cache):8080/ready"
	assert_contains "$STDOUT" "ready"
	assert_contains "$STDERR" "service 'cache' is healthy"
	assert_clean
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
		"$BUILDER" app >"$STDOUT" 2>"$STDERR" &
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
			"$BUILDER" app >"out.$n" 2>&1 &
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
run_test "TEST_TIMEOUT kills the tests" t_timeout_kills
run_test "a service is reached by its alias" t_service_by_alias
run_test "failing tests show the service log" t_service_log_on_failure
run_test "a service HEALTHCHECK is waited for" t_service_healthcheck_waited_for
run_test "a service that exits or is unhealthy fails the stage" t_service_unhealthy_or_exited
run_test "a service image is pulled with credentials" t_service_pulled_with_credentials
run_test "SIGTERM during the tests exits 143 and cleans up" t_sigterm_during_tests
run_test "four pipelines at once" t_four_pipelines_at_once
t_summary
