#!/usr/bin/env bash
# Results out of the test stage and into the CI, against the real engine:
# TEST_RESULTS copied out of the test container (also when the tests fail),
# JUnit totals and failing cases in the log, the report and the summary; a
# hostile results directory (links to / and out, a FIFO, a device, a 2 GB
# sparse file beyond the cap) writes nothing outside LOCAL_DIR and says
# what it refused; GITHUB_STEP_SUMMARY, SUMMARY and GITHUB_OUTPUT contents;
# SAVE output loaded back with `docker load`, tags and all; the same
# TEST_RESULTS out of compose autotest's sut, passing and failing. (SAVE
# loaded on a clean engine: 60-remote-engine.sh.) Names absolute
# or with '..' cannot come from a real engine's archive: the unit tests
# (tests/unit/test_extract.c) feed those as crafted tar streams.
. "$(dirname "$0")/../lib.sh"

# pipeline CODE DIR [VAR=VALUE...]: builds DIR and runs its tests, no push
# unless the caller says so; the CI variables are cleared first.
pipeline() {
	local want=$1 dir=$2
	shift 2
	assert_exit "$want" env TEST_CMD= TEST_ENV= TEST_SERVICES= TEST_TIMEOUT= \
		TEST_COMPOSE= HOOKS= TEST_RESULTS= SUMMARY= SAVE= GITHUB_STEP_SUMMARY= GITHUB_OUTPUT= \
		GITHUB_ACTIONS= ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 PUSH=false "$@" \
		"$BUILDER_BIN" "$dir"
}

# A test command writing a JUnit report (3 tests: one passes, one fails,
# one is skipped; a second suite errs) and a coverage file into /out.
JUNIT_CMD='mkdir -p /out/cov && cat >/out/junit.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
 <testsuite name="unit" time="1.5">
  <testcase classname="app.Math" name="adds" time="0.5"/>
  <testcase classname="app.Math" name="divides" time="1.0">
   <failure message="expected 2 but was 3">at Math.divide(Math.java:7)</failure>
  </testcase>
  <testcase classname="app.Math" name="later"><skipped/></testcase>
 </testsuite>
 <testsuite name="db" time="0.5">
  <testcase classname="app.Db" name="connects"><error>
   ConnectionRefused: db:5432
   more lines</error></testcase>
 </testsuite>
</testsuites>
EOF
echo "lines: 81.5%" >/out/cov/coverage.txt'

t_junit_and_coverage() {
	need_builder
	make_app app
	pipeline 4 app TEST_CMD="$JUNIT_CMD; exit 1" TEST_RESULTS=/out:res \
		REPORT=report.json SUMMARY=summary.md \
		GITHUB_STEP_SUMMARY=gh-summary.md
	[ -f res/junit.xml ] || t_fail "junit.xml was not copied out"
	assert_contains res/cov/coverage.txt "lines: 81.5%"
	assert_contains "$STDERR" "tests: 4 tests, 1 failure, 1 error, 1 skipped in 2.0s (1 JUnit file)"
	assert_contains "$STDERR" "tests: failure app.Math.divides: expected 2 but was 3"
	assert_contains "$STDERR" "tests: error app.Db.connects: ConnectionRefused: db:5432"
	assert_eq "$(jq -r .test_results.tests report.json)" 4
	assert_eq "$(jq -r .test_results.failures report.json)" 1
	assert_eq "$(jq -r .test_results.errors report.json)" 1
	assert_eq "$(jq -r .test_results.skipped report.json)" 1
	assert_eq "$(jq -r '.test_results.failing[0].name' report.json)" app.Math.divides
	assert_eq "$(jq -r '.test_results.failing[1].message' report.json)" "ConnectionRefused: db:5432"
	assert_contains summary.md "**Tests:** 4 tests, 1 failure, 1 error, 1 skipped in 2.0 s (1 JUnit file)"
	assert_contains summary.md "| app.Math.divides (failure) | expected 2 but was 3 |"
	assert_contains summary.md "| test | failed |"
	cmp summary.md gh-summary.md || t_fail "SUMMARY and GITHUB_STEP_SUMMARY differ"
}

t_passing_tests_results_default_dir() {
	need_builder
	make_app app
	pipeline 0 app TEST_CMD="$JUNIT_CMD" TEST_RESULTS=/out/junit.xml
	[ -f test-results/junit.xml ] || t_fail "not copied to test-results/"
	assert_contains "$STDERR" "tests: 4 tests"
}

t_missing_path_is_a_warning() {
	need_builder
	make_app app
	pipeline 0 app TEST_CMD='true' TEST_RESULTS=/nowhere:res
	assert_contains "$STDERR" "no test results at '/nowhere' in the test container"
}

# What a hostile test container can put in a real results directory: links
# to / and out of it, a FIFO, a character device, a hard link, a 2 GB
# sparse file beyond the byte cap.
t_hostile_results() {
	need_builder
	make_app app
	mkdir res
	touch before
	pipeline 0 app TEST_RESULTS=/out:res TEST_CMD='set -e; mkdir -p /out/sub
		echo fine >/out/a-fine.txt
		echo "<testsuite>" >"/out/$(printf "\033")[31mred.xml"
		ln -s / /out/b-root
		ln -s ../../etc /out/c-etc
		ln -s /etc/passwd /out/d-abs
		ln /out/a-fine.txt /out/sub/hard
		mkfifo /out/e-fifo
		mknod /out/f-null c 1 3
		dd if=/dev/zero of=/out/z-big bs=1 count=0 seek=2147483648 2>/dev/null
		echo after >/out/zz-after.txt'
	assert_contains res/a-fine.txt fine
	assert_contains "$STDERR" "refused 'out/b-root: symbolic link pointing outside the results'"
	assert_contains "$STDERR" "refused 'out/c-etc: symbolic link pointing outside the results'"
	assert_contains "$STDERR" "refused 'out/d-abs: symbolic link pointing outside the results'"
	assert_contains "$STDERR" "refused 'out/e-fifo: a FIFO'"
	assert_contains "$STDERR" "refused 'out/f-null: a character device'"
	assert_contains "$STDERR" "the results exceed 1073741824 bytes ('out/z-big' alone has 2147483648)"
	assert_contains res/sub/hard fine
	# A malformed report whose name holds an escape sequence: named,
	# with the escape made harmless.
	assert_contains "$STDERR" "JUnit report not read: 'res/?[31mred.xml' line 2"
	! grep -q "$(printf '\033')" "$STDERR" || t_fail "an escape sequence reached the log"
	[ ! -e res/z-big ] || t_fail "the 2 GB file was written"
	for f in b-root c-etc d-abs e-fifo f-null; do
		[ ! -e "res/$f" ] && [ ! -L "res/$f" ] || t_fail "'$f' was written"
	done
	# Nothing new outside res/ but what the run itself writes.
	# (out, log, stdout, stderr: the harness's own files.)
	left=$(find "$T_DIR" -newer before -not -path "$T_DIR/res*" \
		-not -path "$T_DIR/home*" -not -path "$T_DIR" -not -path "$T_DIR/app*" \
		-not -name out -not -name log -not -name stdout -not -name stderr | head)
	[ -z "$left" ] || t_fail "written outside res/: $left"
}

t_github_output_and_push() {
	need_builder
	make_app app
	pipeline 0 app TEST_CMD="$JUNIT_CMD" PUSH=true REGISTRY="$REGISTRY_ADDR" \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T" \
		EXTRA_TAGS=latest TEST_RESULTS=/out GITHUB_OUTPUT=gh-out \
		GITHUB_STEP_SUMMARY=gh-summary.md
	digest=$(registry_digest "t$T_UNIQ/app" 1)
	[ -n "$digest" ] || t_fail "nothing pushed"
	# name<<DELIM / value / DELIM, with one random delimiter.
	delim=$(sed -n 's/^digest<<//p' gh-out)
	case $delim in ghadelimiter_????????????????????????????????) ;;
	*) t_fail "bad delimiter '$delim'" ;; esac
	out_value() { awk -v n="$1" -v d="$delim" '$0 == n "<<" d { on = 1; next } $0 == d { on = 0 } on' gh-out; }
	assert_eq "$(out_value digest)" "$digest"
	assert_eq "$(out_value imageid)" "$(docker image inspect -f '{{.Id}}' "$REGISTRY_ADDR/t$T_UNIQ/app:1")"
	assert_eq "$(out_value tags | tr '\n' ' ')" "$REGISTRY_ADDR/t$T_UNIQ/app:1 $REGISTRY_ADDR/t$T_UNIQ/app:latest "
	assert_eq "$(out_value metadata | jq -r .digest)" "$digest"
	assert_eq "$(out_value metadata | jq -r .test_results.tests)" 4
	assert_contains gh-summary.md "| digest | \`$digest\` |"
	assert_contains gh-summary.md "| push | ok |"
}

t_save_loads_with_tags() {
	need_builder
	make_app app
	pipeline 0 app TEST_CMD=true SAVE=img.tar EXTRA_TAGS=extra
	[ -s img.tar ] || t_fail "SAVE wrote nothing"
	assert_contains "$STDERR" "saved"
	docker rmi -f "t$T_UNIQ/app:1" "t$T_UNIQ/app:extra" >/dev/null
	assert_exit 0 docker load -i img.tar
	docker image inspect "t$T_UNIQ/app:1" >/dev/null || t_fail "no t$T_UNIQ/app:1 after docker load"
	docker image inspect "t$T_UNIQ/app:extra" >/dev/null || t_fail "no t$T_UNIQ/app:extra after docker load"
}

t_save_bad_path_is_usage() {
	need_builder
	make_app app
	pipeline 2 app SAVE=/nonexistent/dir/img.tar
	assert_contains "$STDERR" "SAVE"
}

# make_sut_app DIR SUT_SHELL: make_app's app with /app/results.sh (the
# JUnit report and coverage file above) and a docker-compose.test.yml whose
# sut, built from the app, runs SUT_SHELL.
make_sut_app() {
	make_app "$1"
	printf '#!/bin/sh\n%s\n' "$JUNIT_CMD" >"$1/results.sh"
	chmod 755 "$1/results.sh"
	echo 'COPY results.sh /app/' >>"$1/Dockerfile"
	cat >"$1/docker-compose.test.yml" <<YML
sut:
  build: .
  command: ["sh", "-c", "$2"]
YML
}

# The run id builder named in $OUT.
run_id() {
	grep -o 'run b[0-9a-f]\{10\}' "$OUT" | head -n 1 | sed 's/^run //'
}

# Compose autotest: sut's results, copied out before its container goes,
# also when it fails; the hostile-entry rules are the same.
t_sut_results_when_sut_fails() {
	need_builder
	make_sut_app app '/app/results.sh && ln -s / /out/root-link && mkfifo /out/fifo; echo sut-ran; exit 1'
	pipeline 4 app TEST_RESULTS=/out:res REPORT=report.json SUMMARY=summary.md
	assert_contains "$STDOUT" "sut-ran"
	assert_contains "$STDERR" "sut failed (exit 1)"
	[ -f res/junit.xml ] || t_fail "junit.xml was not copied out of sut"
	assert_contains res/cov/coverage.txt "lines: 81.5%"
	assert_contains "$STDERR" "tests: 4 tests, 1 failure, 1 error, 1 skipped in 2.0s (1 JUnit file)"
	assert_contains "$STDERR" "tests: failure app.Math.divides: expected 2 but was 3"
	assert_contains "$STDERR" "refused 'out/root-link: symbolic link pointing outside the results'"
	assert_contains "$STDERR" "refused 'out/fifo: a FIFO'"
	[ ! -e res/root-link ] && [ ! -L res/root-link ] || t_fail "the link to / was written"
	assert_eq "$(jq -r .test_results.tests report.json)" 4
	assert_eq "$(jq -r '.test_results.failing[0].name' report.json)" app.Math.divides
	assert_contains summary.md "| app.Math.divides (failure) | expected 2 but was 3 |"
	assert_contains summary.md "| test | failed |"
	id=$(run_id)
	[ -n "$id" ] || t_fail "no run id in the output"
	assert_no_leftovers "$id"
}

t_sut_results_when_sut_passes() {
	need_builder
	make_sut_app app '/app/results.sh'
	pipeline 0 app TEST_RESULTS=/out/junit.xml REPORT=report.json
	[ -f test-results/junit.xml ] || t_fail "not copied out of sut to test-results/"
	assert_contains "$STDERR" "tests: 4 tests, 1 failure"
	assert_eq "$(jq -r .test_results.failures report.json)" 1
	id=$(run_id)
	[ -n "$id" ] || t_fail "no run id in the output"
	assert_no_leftovers "$id"
}

run_test "JUnit and coverage copied out of failed tests" t_junit_and_coverage
run_test "passing tests, default test-results/" t_passing_tests_results_default_dir
run_test "a missing PATH is a warning" t_missing_path_is_a_warning
run_test "a hostile results directory" t_hostile_results
run_test "compose sut: results copied out when sut fails" t_sut_results_when_sut_fails
run_test "compose sut: results copied out when sut passes" t_sut_results_when_sut_passes
run_test "GITHUB_OUTPUT and the summary after a push" t_github_output_and_push
run_test "SAVE loads with docker load, tags and all" t_save_loads_with_tags
run_test "SAVE to a missing directory is a usage error" t_save_bad_path_is_usage
t_summary
