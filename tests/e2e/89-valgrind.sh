#!/usr/bin/env bash
# bin/builder (not the ASan build) under valgrind: the happy path (build,
# tests with a service, tag, push to the test registry with credentials),
# failing tests, and a SIGTERM during the tests. No memory error, no
# definite or indirect leak, no file descriptor left open at exit.
. "$(dirname "$0")/../lib.sh"

PLAIN=$REPO_ROOT/bin/builder

# vg CODE [VAR=VALUE...] -- ARGS...: runs bin/builder under valgrind with
# the environment given, expecting exit CODE; the report is vg.log.
vg() {
	local want=$1
	shift
	assert_exit "$want" env "$@" valgrind --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--track-fds=yes --log-file="$T_DIR/vg.log" "$PLAIN" app
	check_vg_log
}

# check_vg_log: shows valgrind's report and fails on errors or open fds.
check_vg_log() {
	local open
	echo "--- valgrind:"
	cat "$T_DIR/vg.log"
	grep -q 'ERROR SUMMARY: 0 errors' "$T_DIR/vg.log" ||
		t_fail "valgrind found errors (see above)"
	! grep -qE '(definitely|indirectly) lost: [1-9]' "$T_DIR/vg.log" ||
		t_fail "valgrind found leaks (see above)"
	# Every descriptor open at exit must be stdin/out/err or inherited.
	open=$(awk '/^==[0-9]+== Open / { fd = $0; getline; if ($0 !~ /inherited from parent/ && fd !~ /descriptor [012]:/) print fd }' "$T_DIR/vg.log")
	[ -z "$open" ] || t_fail "descriptors left open: $open"
}

need_valgrind() {
	need_builder
	[ -x "$PLAIN" ] || t_fail "'$PLAIN' was not built: run 'make bin/builder'"
	command -v valgrind >/dev/null ||
		t_fail "valgrind is not installed: apt-get install valgrind"
}

make_service() {
	mkdir -p svc
	cat >svc/Dockerfile <<'DF'
FROM busybox:latest
RUN mkdir /www && echo "hello from db" >/www/index.html
HEALTHCHECK --interval=1s --timeout=1s --retries=30 CMD wget -qO- http://127.0.0.1:8080/ >/dev/null
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
DF
	DOCKER_BUILDKIT=0 docker build -q -t "t$T_UNIQ-db:1" svc >/dev/null ||
		t_fail "cannot build the service image"
}

t_happy_path() {
	need_valgrind
	make_app app
	make_service
	vg 0 REGISTRY="$REGISTRY_ADDR" ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 \
		EXTRA_TAGS=latest REGISTRY_USER="$REGISTRY_USER_T" \
		REGISTRY_PASSWORD="$REGISTRY_PASS_T" TEST_SERVICES="db=t$T_UNIQ-db:1" \
		TEST_ENV=MODE=valgrind REPORT="$T_DIR/report.json" \
		TEST_CMD='/app/test.sh && echo "mode $MODE"'
	assert_contains "$STDOUT" "tests passed"
	assert_contains "$STDOUT" "mode valgrind"
	digest=$(registry_digest "t$T_UNIQ/app" 1)
	[ -n "$digest" ] || t_fail "nothing pushed"
	assert_eq "$(tail -n 1 "$STDOUT")" "$REGISTRY_ADDR/t$T_UNIQ/app:1@$digest"
	assert_eq "$(jq -r .success report.json)" true
	assert_no_leftovers "$(grep -o 'builder-b[0-9a-f]\{10\}' "$OUT" | head -1 | sed 's/^builder-//')"
}

t_failing_tests() {
	need_valgrind
	make_app app
	vg 4 ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 PUSH=false TEST_CMD='echo bad; exit 3'
	assert_contains "$OUT" "tests failed (exit 3)"
}

t_build_failure() {
	need_valgrind
	mkdir app
	printf 'FROM busybox:latest\nRUN echo broken; exit 2\n' >app/Dockerfile
	vg 1 ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 PUSH=false
}

t_sigterm_during_tests() {
	need_valgrind
	make_app app
	make_service
	env ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 PUSH=false \
		TEST_SERVICES="db=t$T_UNIQ-db:1" TEST_CMD='echo tests-started; sleep 60' \
		valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --track-fds=yes --log-file="$T_DIR/vg.log" \
		"$PLAIN" app >"$STDOUT" 2>"$STDERR" &
	pid=$!
	for _ in $(seq 1200); do
		grep -q tests-started "$STDOUT" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	cat "$STDOUT" "$STDERR" >"$OUT"
	cat "$OUT"
	assert_eq "$rc" 143 "exit status after SIGTERM"
	check_vg_log
	assert_no_leftovers "$(grep -o 'builder-b[0-9a-f]\{10\}' "$OUT" | head -1 | sed 's/^builder-//')"
}

run_test "the happy path under valgrind" t_happy_path
run_test "failing tests under valgrind" t_failing_tests
run_test "a failing build under valgrind" t_build_failure
run_test "SIGTERM during the tests under valgrind" t_sigterm_during_tests
t_summary
