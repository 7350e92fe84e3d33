# shellcheck shell=bash
# shellcheck disable=SC2154 # work, run_id, builder, pairs, wall, cpu: bench/run.sh
# bench/cases/autotest.sh, sourced by bench/run.sh: the "autotest" case.
#
# Docker Hub's autotest (issue 15): the app of the pipeline case
# (examples/hello, bench/pipeline.Dockerfile, a file of its own per run)
# with a docker-compose.test.yml whose sut waits for a sidecar that takes
# about 3 s to become healthy (depends_on: condition: service_healthy).
# builder (PUSH=false, no TEST_CMD: it finds the compose file) against the
# script CI used to run for it: `docker build`, then `docker-compose -f
# docker-compose.test.yml run sut` and `docker-compose ... down` (Debian's
# docker-compose 1.29). Both sides build the image, run sut against the
# healthy sidecar (sut fetches the sidecar's page, then runs the tests)
# and remove every container and network they started; the case checks
# that afterwards, outside the timing.
#
# Uses run.sh's helpers: say, die, record, run_builder, run_baseline,
# app_context, fmt_s and, for the report, sec, ratio, median, pair_ratios.

# The sidecar: busybox httpd serving "sidecar ready", started 3 s after the
# container, healthy once the page answers. It leaves on SIGTERM at once,
# as a database does, so that `docker-compose down` (SIGTERM, then
# SIGKILL after 10 s) is not charged a stop timeout builder never pays.
autotest_compose() {
	cat <<'YML'
services:
  db:
    image: busybox:latest
    command:
      - sh
      - -c
      - >-
        trap 'exit 0' TERM; sleep 3; mkdir -p /www;
        echo 'sidecar ready' >/www/index.html;
        httpd -f -p 8080 -h /www & wait
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 500ms
      timeout: 2s
      retries: 30
  sut:
    image: ${IMAGE_NAME}
    entrypoint: ["sh", "-c"]
    command: ["wget -qO- http://db:8080/ && /tests/run.sh"]
    depends_on:
      db:
        condition: service_healthy
YML
}

# The baseline: what a CI script did for Docker Hub's autotest, each step
# one command. No --label: builder adds no labels here (no CI facts, and
# no clock), so the engine runs the same build steps for both.
autotest_baseline() {
	cat <<'SH'
#!/usr/bin/env bash
# autotest baseline: CONTEXT IMAGE PROJECT
set -euo pipefail
ctx=$1 image=$2 project=$3
DOCKER_BUILDKIT=0 docker build -t "$image" "$ctx"
cd "$ctx"
export IMAGE_NAME=$image
rc=0
docker-compose -p "$project" -f docker-compose.test.yml run --rm -T sut || rc=$?
docker-compose -p "$project" -f docker-compose.test.yml down -v || rc=$((rc ? rc : 1))
exit "$rc"
SH
}

# autotest_assert_clean SIDE LABEL=VALUE: nothing with that label is left.
autotest_assert_clean() {
	local left
	left=$(docker ps -aq --filter "label=$2"; docker network ls -q --filter "label=$2")
	[ -z "$left" ] || die "[autotest] $1 left containers or networks labelled $2: $left"
}

case_autotest() {
	local i side order line ctx log project run
	local apairs=${BENCH_AUTOTEST_PAIRS:-$((pairs * 2))}
	# shellcheck disable=SC2034 # the document's run line: bench/run.sh
	autotest_pairs=$apairs
	command -v docker-compose >/dev/null || apt_install docker-compose ||
		die "[autotest] docker-compose is missing and cannot be installed: apt-get install docker-compose"
	autotest_cli_version=$(docker-compose version --short 2>/dev/null || echo unknown)
	autotest_baseline >"$work/autotest-baseline.sh"
	say "[autotest] $apairs pairs: build the app, then sut against a sidecar healthy after 3 s; builder against docker build + docker-compose $autotest_cli_version run sut + down"
	for i in $(seq "$apairs"); do
		for side in builder baseline; do
			ctx=$work/autotest-$i-$side
			app_context "$ctx" bench/pipeline.Dockerfile
			printf '%s-%s-%s\n' "$run_id" "$i" "$side" >"$ctx/build-id"
			autotest_compose >"$ctx/docker-compose.test.yml"
		done
		order="builder baseline"
		[ $((i % 2)) = 1 ] || order="baseline builder"
		line="pair $i/$apairs:"
		for side in $order; do
			ctx=$work/autotest-$i-$side
			log=$work/autotest-$i-$side.log
			if [ "$side" = builder ]; then
				run_builder "$log" ACCOUNT=bench \
					IMAGE="autotest-$side-$i-$run_id" TAG=1 \
					PUSH=false "$builder" "$ctx"
				run=$(grep -o 'run b[0-9a-f]\{10\}' "$log" | head -1)
				[ -n "$run" ] || die "[autotest] no run id in $log"
				autotest_assert_clean builder "io.builder.run=${run#run }"
				record autotest stage_test wall "$(sed -n \
					's/^<== test done in \([0-9.]*\)s$/\1/p' "$log")"
			else
				project=autotest$i$run_id
				run_baseline "$log" bash "$work/autotest-baseline.sh" \
					"$ctx" "bench/autotest-$side-$i-$run_id:1" "$project"
				autotest_assert_clean baseline \
					"com.docker.compose.project=$project"
			fi
			grep -q 'sidecar ready' "$log" ||
				die "[autotest] $side: sut did not reach the sidecar: see $log"
			grep -q '3 tests passed' "$log" ||
				die "[autotest] $side ran no tests: see $log"
			record autotest "$side" wall "$wall"
			record autotest "$side" cpu "$cpu"
			line="$line $side $(fmt_s "$wall") (cpu $(fmt_s "$cpu"))"
		done
		say "[autotest] $line"
	done
}

# autotest_report: the case's numbers as text (the summary of any run that
# measured it).
autotest_report() {
	printf 'wall builder %s, baseline %s, ratio %s (pairs %s; goal <= 0.8); client cpu builder %s, baseline %s; builder test stage %s s (median)\n' \
		"$(sec autotest builder wall)" "$(sec autotest baseline wall)" \
		"$(ratio "$(median autotest builder wall)" "$(median autotest baseline wall)")" \
		"$(pair_ratios autotest builder baseline wall)" \
		"$(sec autotest builder cpu)" "$(sec autotest baseline cpu)" \
		"$(median autotest stage_test wall)"
}
