#!/usr/bin/env bash
# bench/run.sh: `make bench`. builder against the docker CLI on the same
# work, on this machine's engine and a local registry, in one run; writes
# docs/benchmarks.md and docs/benchmarks.png from what it measured.
#
# Cases (docs/benchmarks.md says how each is measured):
#   pipeline   build, test, tag, push of a small app: wall time, client CPU
#   context    a 20,000-file, 330 MB context: wall time, client peak RSS
#   rebuild    an engine with no local images: CACHE_FROM against no cache
#   buildkit   a multi-stage build, BuildKit against the classic builder
#   session    the large context, COPY . /ctx, BuildKit with a session,
#              against DOCKER_BUILDKIT=1 docker 20.10: a cold first build
#              and a rebuild after one file changed: wall, CPU, peak RSS
#   autotest   Docker Hub's autotest: the app and a docker-compose.test.yml
#              whose sut waits for a sidecar healthy after 3 s, against
#              docker build + docker-compose run sut + down: wall time
#              (bench/cases/autotest.sh)
#   promote    builder promote of a 200 MB image to a second registry
#              against docker pull, tag, push; within one registry, 10 MB
#              against 200 MB (bench/cases/promote.sh)
#   image      builder:latest against the smallest docker-CLI image
#   startup    builder --version and a configuration error, in microseconds
#   ignore     the .dockerignore matcher on 100,000 paths, in ns per path
#
# builder and its baseline (bench/baseline.sh, plain docker CLI commands)
# run in alternating pairs, the order swapped on every pair, so that a slow
# spell of the engine or the disk hits both sides alike.
#
# Knobs: BENCH_PAIRS (5), BENCH_PIPELINE_PAIRS (10: the pipeline case is
# short, so more pairs are cheap and steady its median), BENCH_STARTUP_RUNS
# (200), BENCH_SLOW_STEP (10: seconds of the rebuild case's slow step),
# BENCH_CACHE (where the large context is generated once,
# /tmp/builder-bench-cache), BENCH_DOC and BENCH_PNG (the outputs),
# BUILDER_BIN (bin/builder), BENCH_SESSION_PAIRS (BENCH_PAIRS),
# BENCH_SESSION_PRUNE=1 (prune the engine's build cache before each side
# of a session pair), BENCH_DOCKER_CLI (/usr/bin/docker, Debian's 20.10),
# BENCH_AUTOTEST_PAIRS (2 x BENCH_PAIRS: short too, and two slow runs
# of five, which a busy engine gives, moved its median);
# for working on this script, BENCH_CASES or BENCH_ONLY (a subset of
# "pipeline context rebuild buildkit session promote autotest image
# startup ignore"; no document then, unless BENCH_DOC names one) and
# BENCH_KEEP=1 (keep the work directory with every run's output);
# BENCH_PROMOTE_LOCAL_RUNS (2 x BENCH_PAIRS).
set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

pairs=${BENCH_PAIRS:-5}
pipe_pairs=${BENCH_PIPELINE_PAIRS:-$((pairs * 2))}
startup_runs=${BENCH_STARTUP_RUNS:-200}
slow=${BENCH_SLOW_STEP:-10}
bk_slow=${BENCH_BUILDKIT_STEP:-5}
cache=${BENCH_CACHE:-/tmp/builder-bench-cache}
# BENCH_ONLY=CASES: BENCH_CASES under a shorter name.
[ -z "${BENCH_ONLY:-}" ] || BENCH_CASES=$BENCH_ONLY
doc=${BENCH_DOC:-$repo/docs/benchmarks.md}
png=${BENCH_PNG:-$repo/docs/benchmarks.png}
builder=${BUILDER_BIN:-$repo/bin/builder}
cflags="-O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Wshadow
-Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wvla"

started=$EPOCHREALTIME
run_id=$(printf 'b%x%x' "$(date +%s)" "$$" | tail -c 10)
work=$(mktemp -d "${TMPDIR:-/tmp}/builder-bench.XXXXXX")
# A subset of the cases does not overwrite the checked-in document.
if [ -n "${BENCH_CASES:-}" ]; then
	png=${BENCH_PNG:-$work/benchmarks.png}
fi
results=$work/results # "case side metric value" lines

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# Waits up to 90 s for the engine: on a machine shared with other work it
# may be restarting. Called before each case's own docker commands.
wait_engine() {
	local _
	for _ in $(seq 180); do
		docker version >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	die "the engine does not answer: see 'scripts/test-env.sh status'"
}

# Images this run made, by name; the registry's repositories are left to
# the throwaway registry.
sink_pid=""
cleanup() {
	[ -z "$sink_pid" ] || kill "$sink_pid" 2>/dev/null || true
	docker image ls --format '{{.Repository}}:{{.Tag}}' 2>/dev/null |
		grep -F -- "-$run_id" | xargs -r docker rmi -f >/dev/null 2>&1 || true
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# --- prerequisites ---------------------------------------------------------

# apt_install PACKAGE: installs it from Debian's archive; 1 when that is
# not possible (not root, no archive), so that the caller can do without.
apt_install() {
	[ "$(id -u)" = 0 ] || return 1
	say "installing $1"
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$1" ||
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$1"; }
	} >"$work/apt-$1.log" 2>&1
}

[ -x "$builder" ] || die "'$builder' is missing: run 'make bin/builder'"
[ -x /usr/bin/time ] || apt_install time ||
	die "GNU time is missing and cannot be installed: apt-get install time"
command -v gnuplot >/dev/null || apt_install gnuplot-nox || true
have_gnuplot=1
command -v gnuplot >/dev/null || have_gnuplot=0

say "starting the engine and the registry (scripts/test-env.sh up)"
bash scripts/test-env.sh up
envfile=$(bash scripts/test-env.sh envfile)
# shellcheck disable=SC1090
. "$envfile"
registry=$REGISTRY_ADDR

mkdir -p "$work/bin" "$work/builder-config" "$(dirname "$doc")"
# shellcheck disable=SC2086
for prog in startup gentree; do
	cc $cflags -Ibuilder -o "$work/bin/$prog" "bench/$prog.c"
done
# The matcher benchmark links against the objects bin/builder was made of,
# as an archive: the linker takes only the ones the matcher needs (ignore.o
# and its helpers), however the sources are split.
objs=()
for o in build/obj/*.o; do
	[ "$o" = build/obj/main.o ] || objs+=("$o")
done
[ -e "${objs[0]}" ] || die "no objects in build/obj: run 'make bin/builder'"
ar rcs "$work/libbuilder.a" "${objs[@]}"
# shellcheck disable=SC2086
cc $cflags -Ibuilder -o "$work/bin/ignore_bench" bench/ignore_bench.c \
	"$work/libbuilder.a" ||
	die "cannot build bench/ignore_bench.c against build/obj: run 'make bin/builder'"

# builder:latest: the image case measures it, and the binary it ships
# (make static) is measured beside bin/builder in the context and start-up
# cases. `make image` needs `make static`, which builds libcurl and cJSON
# from Debian's source packages: minutes, once.
image_note=""
static_bin=""
wait_engine
if ! docker image inspect builder:latest >/dev/null 2>&1; then
	say "builder:latest is missing: trying 'make image' (log: $work/make-image.log)"
	if ! make image >"$work/make-image.log" 2>&1; then
		image_note="builder:latest not measured: 'make image' failed: $(grep -v '^[[:space:]]*$' "$work/make-image.log" | tail -1)"
		say "$image_note"
	fi
fi
if docker image inspect builder:latest >/dev/null 2>&1; then
	c=$(docker create builder:latest)
	if docker cp "$c:/builder" "$work/bin/builder-static" >/dev/null 2>&1; then
		static_bin=$work/bin/builder-static
		static_version=$("$static_bin" --version)
	fi
	docker rm "$c" >/dev/null
fi

# --- measuring -------------------------------------------------------------

record() { printf '%s %s %s %s\n' "$1" "$2" "$3" "$4" >>"$results"; }

# values CASE SIDE METRIC: the recorded values, one a line.
values() {
	awk -v c="$1" -v s="$2" -v m="$3" '$1 == c && $2 == s && $3 == m { print $4 }' \
		"$results"
}

# stats CASE SIDE METRIC: "median min max count", or "nan nan nan 0".
stats() {
	values "$@" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (!NR) { print "nan nan nan 0"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print m, v[1], v[NR], NR
		}'
}
median() { stats "$@" | cut -d' ' -f1; }

# calc EXPR: awk arithmetic, printed with %g.
calc() { awk "BEGIN { x = $1; printf \"%.6g\n\", x }"; }

# measure LOG CMD...: runs CMD with its output in LOG, under GNU time.
# Sets wall (seconds, from the shell's clock), cpu (user + sys seconds of
# CMD and every descendant it waited for: GNU time reports the rusage
# wait4() returns) and rss (the largest peak RSS among them, KiB).
#
# A run that fails is tried once more, once the engine answers: on a
# machine shared with other work the engine may restart under us. The
# document says how many runs were retried.
retries=0
measure() {
	local log=$1 rc
	shift
	measure_once "$log" "$@" && return 0
	rc=$?
	say "'$(shown "$@")' failed with status $rc (output: $log): retrying once the engine answers"
	cp "$log" "$log.failed"
	retries=$((retries + 1))
	wait_engine
	measure_once "$log" "$@" && return 0
	rc=$?
	tail -20 "$log" >&2
	die "'$(shown "$@")' failed twice, with status $rc: its output is above"
}

measure_once() {
	local log=$1 t0 t1 u s m
	shift
	t0=$EPOCHREALTIME
	/usr/bin/time -o "$work/time" -f '%U %S %M' "$@" >"$log" 2>&1 </dev/null ||
		return $?
	t1=$EPOCHREALTIME
	read -r u s m < <(tail -1 "$work/time")
	wall=$(calc "$t1 - $t0")
	cpu=$(calc "$u + $s")
	rss=$m
}

# shown CMD...: the command without its VAR=VALUE words, which hold the
# registry password.
shown() {
	local a out=""
	for a in "$@"; do
		[[ $a =~ ^[A-Z_][A-Z0-9_]*= ]] || out="$out${out:+ }$a"
	done
	printf '%s\n' "$out"
}


# The environment each side runs in: nothing of the caller's but PATH,
# HOME and the variables that choose the engine (DOCKER_HOST and its TLS
# settings, so that both sides talk to the engine this script checks).
# builder gets an empty DOCKER_CONFIG (credentials come from
# REGISTRY_USER/REGISTRY_PASSWORD); baseline.sh makes its own.
engine_env=()
for v in DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH; do
	[ -z "${!v:-}" ] || engine_env+=("$v=${!v}")
done
run_builder() { # LOG VAR=VALUE... CONTEXT
	local log=$1
	shift
	measure "$log" env -i PATH="$PATH" HOME="$HOME" ${engine_env[@]+"${engine_env[@]}"} \
		DOCKER_CONFIG="$work/builder-config" BUILDER=classic "$@"
}
run_baseline() { # LOG VAR=VALUE... CONTEXT
	local log=$1
	shift
	measure "$log" env -i PATH="$PATH" HOME="$HOME" ${engine_env[@]+"${engine_env[@]}"} "$@"
}

# app_context DIR DOCKERFILE: examples/hello's files with DOCKERFILE.
app_context() {
	mkdir -p "$1"
	cp -r examples/hello/calc.sh examples/hello/tests "$1/"
	cp "$2" "$1/Dockerfile"
}

fmt_s() { awk -v x="$1" 'BEGIN { printf "%.2f s", x }'; }

# --- case 1: the full pipeline -------------------------------------------------

case_pipeline() {
	local i side ctx stage
	say "[pipeline] $pipe_pairs pairs: build, test, tag and push examples/hello (plus a per-run file)"
	for i in $(seq "$pipe_pairs"); do
		for side in builder baseline; do
			ctx=$work/pipeline-$i-$side
			app_context "$ctx" bench/pipeline.Dockerfile
			printf '%s-%s-%s\n' "$run_id" "$i" "$side" >"$ctx/build-id"
		done
		local order="builder baseline"
		[ $((i % 2)) = 1 ] || order="baseline builder"
		local line="pair $i/$pipe_pairs:"
		for side in $order; do
			local vars=(REGISTRY="$registry" ACCOUNT=bench
				IMAGE="pipe-$side-$i-$run_id" TAG="1.0.$i" EXTRA_TAGS=latest
				TEST_CMD=/tests/run.sh PUSH=true
				REGISTRY_USER="$REGISTRY_USER_T"
				REGISTRY_PASSWORD="$REGISTRY_PASS_T")
			if [ "$side" = builder ]; then
				run_builder "$work/pipeline-$i-$side.log" "${vars[@]}" \
					"$builder" "$work/pipeline-$i-$side"
			else
				run_baseline "$work/pipeline-$i-$side.log" "${vars[@]}" \
					bash bench/baseline.sh "$work/pipeline-$i-$side"
			fi
			grep -q '3 tests passed' "$work/pipeline-$i-$side.log" ||
				die "[pipeline] $side ran no tests: see $work/pipeline-$i-$side.log"
			record pipeline "$side" wall "$wall"
			record pipeline "$side" cpu "$cpu"
			line="$line $side $(fmt_s "$wall") (cpu $(fmt_s "$cpu"))"
		done
		# builder's own account of its stages: "<== build done in 1.2s"
		for stage in build test tag push; do
			record pipeline "stage_$stage" wall "$(sed -n \
				"s/^<== $stage done in \([0-9.]*\)s\$/\1/p" \
				"$work/pipeline-$i-builder.log")"
		done
		say "[pipeline] $line"
	done
	# Both pushed: the registry has each side's last tag.
	for side in builder baseline; do
		curl -sf -u "$REGISTRY_USER_T:$REGISTRY_PASS_T" \
			"http://$registry/v2/bench/pipe-$side-$pipe_pairs-$run_id/tags/list" |
			grep -q '"latest"' ||
			die "[pipeline] $side's push did not reach the registry"
	done
}

# --- case 2: context upload ------------------------------------------------------

ctx_dir=$cache/context-v1
# The labels builder adds to every image (baseline.sh adds them too): with
# them the classic builder runs one more step, a LABEL that is never cached.
labels=(--label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
case_context() {
	local i side order line
	ensure_ctx
	say "[context] $pairs pairs: $ctx_files files, $((ctx_bytes / 1000000)) MB; classic build, no push"
	for i in $(seq "$pairs"); do
		order="builder baseline"
		[ $((i % 2)) = 1 ] || order="baseline builder"
		line="pair $i/$pairs:"
		for side in $order; do
			if [ "$side" = builder ]; then
				run_builder "$work/context-$i-$side.log" ACCOUNT=bench \
					IMAGE="ctx-$run_id" TAG="$i" PUSH=false \
					"$builder" "$ctx_dir"
			else
				run_baseline "$work/context-$i-$side.log" \
					DOCKER_CONFIG="$work/builder-config" DOCKER_BUILDKIT=0 \
					docker build -t "bench/ctxd-$run_id:$i" \
					"${labels[@]}" --label "org.opencontainers.image.version=$i" \
					"$ctx_dir"
			fi
			record context "$side" wall "$wall"
			record context "$side" rss "$rss"
			line="$line $side $(fmt_s "$wall") (rss $((rss / 1024)) MiB)"
		done
		say "[context] $line"
	done
	case_context_sink
	# The static binary of builder:latest, once: what the image runs.
	if [ -n "$static_bin" ]; then
		run_builder "$work/context-static.log" ACCOUNT=bench \
			IMAGE="ctx-$run_id" TAG=static PUSH=false \
			"$static_bin" "$ctx_dir"
		record context static wall "$wall"
		record context static rss "$rss"
		say "[context] builder:latest's static binary, one run: $(fmt_s "$wall") (rss $((rss / 1024)) MiB)"
		measure "$work/static-version.log" "$static_bin" --version
		record context static rss_idle "$rss"
	fi
	# What builder's peak RSS is made of: the same binary doing nothing.
	measure "$work/version.log" "$builder" --version
	record context builder rss_idle "$rss"
}

# The same upload to a sink instead of the engine: tests/fake_engine.c
# answers the few requests a classic build makes and reads the tar to its
# end. No unpacking, no layer: what is left is the client's own work.
start_sink() {
	local _
	# shellcheck disable=SC2086
	cc $cflags -o "$work/bin/fake-engine" tests/fake_engine.c
	cat >"$work/sink.script" <<'SCRIPT'
match /_ping
send HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK
match /version
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 51\r\n\r\n{"ApiVersion":"1.41","Version":"20.10.24","Os":"x"}
match POST /build
drain
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n
chunked {"stream":"Successfully built 0123456789ab\\n"}\r\n
chunked {"aux":{"ID":"sha256:0123456789ab0123456789ab0123456789ab0123456789ab0123456789ab0123"}}\r\n
chunked-end
match /tag
send HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n
match /json
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}
SCRIPT
	setsid "$work/bin/fake-engine" "$work/sink.sock" "$work/sink.script" \
		>"$work/sink.out" 2>&1 </dev/null &
	sink_pid=$!
	for _ in $(seq 50); do
		[ -S "$work/sink.sock" ] && return 0
		sleep 0.1
	done
	die "[context] the sink (tests/fake_engine.c) did not start: $(cat "$work/sink.out")"
}

case_context_sink() {
	local i side order line
	start_sink
	say "[context] $pairs pairs to a sink (the client's own work only)"
	for i in $(seq "$pairs"); do
		order="builder baseline"
		[ $((i % 2)) = 1 ] || order="baseline builder"
		line="pair $i/$pairs:"
		for side in $order; do
			if [ "$side" = builder ]; then
				run_builder "$work/sink-$i-$side.log" \
					DOCKER_HOST="unix://$work/sink.sock" ACCOUNT=bench \
					IMAGE="sink-$run_id" TAG="$i" PUSH=false \
					"$builder" "$ctx_dir"
			else
				run_baseline "$work/sink-$i-$side.log" \
					DOCKER_HOST="unix://$work/sink.sock" \
					DOCKER_CONFIG="$work/builder-config" DOCKER_BUILDKIT=0 \
					docker build -t "bench/sink-$run_id:$i" \
					"${labels[@]}" --label "org.opencontainers.image.version=$i" \
					"$ctx_dir"
			fi
			record sink "$side" wall "$wall"
			record sink "$side" cpu "$cpu"
			record sink "$side" rss "$rss"
			# The tar the sink read: the last "body N bytes" line.
			record sink "$side" tar_bytes "$(sed -n 's/^  body \([0-9]*\) bytes$/\1/p' \
				"$work/sink.sock.log" | tail -1)"
			line="$line $side $(fmt_s "$wall") (cpu $(fmt_s "$cpu"))"
		done
		say "[context] sink $line"
	done
	kill "$sink_pid"
	sink_pid=""
}

# --- case 3: rebuild without local images -----------------------------------------

purge_rebuild_images() {
	wait_engine
	docker image ls --format '{{.Repository}}:{{.Tag}}' |
		{ grep -F "/rebuild-$run_id:" || true; } | xargs -r docker rmi -f >/dev/null
	if docker image ls --format '{{.Repository}}' | grep -qF "/rebuild-$run_id"; then
		die "[rebuild] images of 'rebuild-$run_id' are still there"
	fi
}

case_rebuild() {
	local i side order line ctx=$work/rebuild
	local image=$registry/bench/rebuild-$run_id
	local common=(REGISTRY="$registry" ACCOUNT=bench IMAGE="rebuild-$run_id"
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T")
	app_context "$ctx" /dev/null
	sed -e "s/@SLOW@/$slow/" -e "s/@RUN_ID@/$run_id/" bench/rebuild.Dockerfile \
		>"$ctx/Dockerfile"
	say "[rebuild] seeding: build and push $image:seed (RUN sleep $slow)"
	run_builder "$work/rebuild-seed.log" "${common[@]}" TAG=seed PUSH=true \
		"$builder" "$ctx"
	say "[rebuild] $pairs pairs, local images removed before each run: CACHE_FROM=$image:seed against no cache"
	for i in $(seq "$pairs"); do
		order="cache_from plain"
		[ $((i % 2)) = 1 ] || order="plain cache_from"
		line="pair $i/$pairs:"
		for side in $order; do
			purge_rebuild_images
			if [ "$side" = cache_from ]; then
				run_builder "$work/rebuild-$i-$side.log" "${common[@]}" \
					TAG="c$i" PUSH=false CACHE_FROM="$image:seed" \
					"$builder" "$ctx"
				grep -q 'Using cache' "$work/rebuild-$i-$side.log" ||
					die "[rebuild] CACHE_FROM was not used: see $work/rebuild-$i-$side.log"
			else
				run_builder "$work/rebuild-$i-$side.log" "${common[@]}" \
					TAG="p$i" PUSH=false "$builder" "$ctx"
				if grep -q 'Using cache' "$work/rebuild-$i-$side.log"; then
					grep -B3 'Using cache' "$work/rebuild-$i-$side.log" >&2
					die "[rebuild] the plain build found a cache: see above"
				fi
			fi
			record rebuild "$side" wall "$wall"
			line="$line $side $(fmt_s "$wall")"
		done
		say "[rebuild] $line"
	done
	purge_rebuild_images
}

# --- case: BuildKit against the classic builder ---------------------------------

case_buildkit() {
	local i side order line ctx=$work/multistage
	local common=(ACCOUNT=bench IMAGE="multistage-$run_id" PUSH=false NO_CACHE=true)
	app_context "$ctx" /dev/null
	sed -e "s/@SLOW@/$bk_slow/" -e "s/@RUN_ID@/$run_id/" bench/multistage.Dockerfile \
		>"$ctx/Dockerfile"
	say "[buildkit] $pairs pairs: two independent stages of RUN sleep $bk_slow, BUILDER=buildkit against BUILDER=classic (NO_CACHE)"
	for i in $(seq "$pairs"); do
		order="buildkit classic"
		[ $((i % 2)) = 1 ] || order="classic buildkit"
		line="pair $i/$pairs:"
		for side in $order; do
			run_builder "$work/buildkit-$i-$side.log" "${common[@]}" \
				TAG="$side$i" BUILDER="$side" "$builder" "$ctx"
			record buildkit "$side" wall "$wall"
			line="$line $side $(fmt_s "$wall")"
		done
		say "[buildkit] $line"
	done
	docker image ls --format '{{.Repository}}:{{.Tag}}' |
		{ grep -F "bench/multistage-$run_id:" || true; } | xargs -r docker rmi -f >/dev/null
	# The classic builder's stage images (no name; labelled by the
	# Dockerfile): 2 MB a stage and run were left behind.
	docker image ls -q --filter "label=io.builder.bench=$run_id" |
		sort -u | xargs -r docker rmi -f >/dev/null
}

# --- case: BuildKit with a session, against the docker CLI ---------------------------

# ensure_ctx: the 20,000-file, 330 MB tree, generated once (shared with the
# context case), and in the page cache.
ensure_ctx() {
	# The stamp (gentree's "files=N bytes=N") says the tree is complete.
	if [ ! -s "$ctx_dir.complete" ] || [ ! -d "$ctx_dir" ]; then
		say "generating the large context once, in $ctx_dir"
		rm -rf "$ctx_dir" "$ctx_dir.complete"
		mkdir -p "$cache"
		"$work/bin/gentree" "$ctx_dir" >"$work/gentree.out"
		mv "$work/gentree.out" "$ctx_dir.complete"
	fi
	read -r ctx_files ctx_bytes < <(sed 's/[a-z]*=//g' "$ctx_dir.complete")
	# Read the tree once, untimed: the first side of pair 1 would
	# otherwise read it from the disk and every later side from the page
	# cache (builder's first session build in pair 1 took 22 s against
	# 8-13 s for every other).
	cache_ctx
}

# cache_ctx: every file of the context read once, into the page cache.
cache_ctx() { find "$ctx_dir" -type f -exec cat {} + >/dev/null; }

# The docker CLI that streams a context over a session: Debian's 20.10
# (docker.io), not a newer CLI earlier in PATH that wants buildx.
session_cli=${BENCH_DOCKER_CLI:-/usr/bin/docker}

# settle_memory: each session build writes a GB or more (the engine's copy
# of the context, the COPY layer, the image) and the memory fills up within
# a few pairs; a full page cache made every build on this machine 2-3x
# slower (transfers of 8-27 s against 3-5 s), and more so the later a side
# ran. So before each first build: write back what is dirty and, where we
# may (root), empty the page cache and read the context back in, so that
# every side starts from the same memory: the context cached, the rest
# cold. (Before a rebuild as well, it made the engine read its copy of the
# context back from the disk, 2 s more for both sides.)
settle_memory() {
	sync
	if [ -w /proc/sys/vm/drop_caches ]; then
		echo 3 >/proc/sys/vm/drop_caches
		cache_ctx
	fi
}

# engine_phases LOG CASE SIDE: records the seconds BuildKit itself reported
# for the context transfer (xfer) and the COPY step (copy), where LOG has
# them: builder prints the same lines as the CLI's plain progress. They
# show how much of a build is the engine's work, the same for both sides.
engine_phases() {
	local x c="" id
	x=$(sed -n 's/.*transferring context: [0-9.]*[a-zA-Z]*B \([0-9.]*\)s done.*/\1/p' \
		"$1" | tail -1)
	id=$(sed -n 's/^\(#[0-9]*\) \[[0-9]*\/[0-9]*\] COPY \. \/ctx$/\1/p' "$1" | tail -1)
	[ -z "$id" ] || c=$(sed -n "s/^$id DONE \([0-9.]*\)s\$/\1/p" "$1" | tail -1)
	[ -z "$x" ] || record "$2" "$3" xfer "$x"
	[ -z "$c" ] || record "$2" "$3" copy "$c"
}

# engine_ticks: the CPU time (user + system, clock ticks, every thread) the
# engine's dockerd has used so far, or nothing when it cannot be read: a
# remote engine (DOCKER_HOST tcp), or not exactly one dockerd here. BuildKit
# runs inside dockerd (20.10), so the difference over a build is the
# engine's own work for it, the part neither client can change.
engine_ticks() {
	local pids
	case ${DOCKER_HOST:-unix://} in unix://*) ;; *) return 0 ;; esac
	pids=$(pgrep -x dockerd) || return 0
	[ "$(printf '%s\n' "$pids" | wc -l)" = 1 ] || return 0
	awk '{ print $14 + $15 }' "/proc/$pids/stat" 2>/dev/null || true
}
clk_tck=$(getconf CLK_TCK)

# One side of a session pair: a first build of the context, cold (a shared
# key and a stamp file this engine has never seen, so the whole context is
# sent and COPY runs: what a pruned build cache gives, without pruning an
# engine other work shares; BENCH_SESSION_PRUNE=1 prunes it as well), then
# a rebuild after one file changed. session_side PAIR SIDE BIN
session_side() {
	local i=$1 side=$2 bin=${3:-} key stamp=$ctx_dir/bench-session-stamp
	local cfg=$work/session-cli-$i-$side tag=bench/sess-$side-$run_id
	key=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
	mkdir -p "$cfg"
	if [ "${BENCH_SESSION_PRUNE:-0}" = 1 ]; then
		docker builder prune -af >/dev/null
	fi
	local ticks0 ticks1
	for phase in first rebuild; do
		# first: a stamp no build has seen; rebuild: that one file
		# changed again. A tag per phase: a rebuild that took the
		# first build's tag would leave that image dangling, out of
		# reach of the cleanup by name (330 MB a side and pair).
		printf '%s %s %s %s\n' "$run_id" "$i" "$side" "$phase" >"$stamp"
		# The first build starts from settled memory; the rebuild
		# follows its own first build, as a quick rebuild does (the
		# engine's copy of the context still cached).
		if [ "$phase" = first ]; then
			settle_memory
		else
			sync
		fi
		ticks0=$(engine_ticks)
		if [ "$side" = cli ]; then
			# A fresh DOCKER_CONFIG per pair: a fresh build node ID,
			# so a fresh shared key for the CLI too.
			run_baseline "$work/session-$i-$side-$phase.log" \
				DOCKER_CONFIG="$cfg" DOCKER_BUILDKIT=1 \
				"$session_cli" build --progress=plain \
				-f "$work/session.Dockerfile" -t "$tag:$i-$phase" \
				"$ctx_dir"
		else
			run_builder "$work/session-$i-$side-$phase.log" \
				BUILDER=buildkit BUILDKIT_SHARED_KEY="$key" \
				DOCKERFILE="$work/session.Dockerfile" ACCOUNT=bench \
				IMAGE="sess-$side-$run_id" TAG="$i-$phase" PUSH=false \
				"$bin" "$ctx_dir"
			grep -q 'context: [0-9]* files' "$work/session-$i-$side-$phase.log" ||
				die "[session] $side: no context line in $work/session-$i-$side-$phase.log"
			record "session_$phase" "$side" ctx_mb "$(sed -n \
				's/.*(context: [0-9]* files, \([0-9.]*\) MB).*/\1/p' \
				"$work/session-$i-$side-$phase.log" | tail -1)"
		fi
		ticks1=$(engine_ticks)
		if [ -n "$ticks0" ] && [ -n "$ticks1" ]; then
			record "session_$phase" "$side" ecpu \
				"$(calc "($ticks1 - $ticks0) / $clk_tck")"
		fi
		engine_phases "$work/session-$i-$side-$phase.log" \
			"session_$phase" "$side"
		record "session_$phase" "$side" wall "$wall"
		record "session_$phase" "$side" cpu "$cpu"
		record "session_$phase" "$side" rss "$rss"
		line="$line $side/$phase $(fmt_s "$wall") (cpu $(fmt_s "$cpu"), rss $((rss / 1024)) MiB)"
	done
	rm -f "$stamp"
}

# build_cache_ids: the IDs of the engine's build cache records, one a line.
build_cache_ids() {
	docker system df -v --format '{{json .BuildCache}}' | jq -r '.[]?.ID' | sort
}

case_session() {
	local i side order line cache_before out
	session_pairs=${BENCH_SESSION_PAIRS:-$pairs}
	# "Docker version 20.10.24+dfsg1, build 297e128": the client's own.
	session_cli_version=$("$session_cli" --version 2>/dev/null |
		sed -n 's/^Docker version \([^,]*\),.*/\1/p') || true
	[ -n "$session_cli_version" ] ||
		die "[session] $session_cli is not a docker CLI: apt-get install docker.io"
	ensure_ctx
	cache_before=$(build_cache_ids)
	printf 'FROM busybox:latest\nCOPY . /ctx\n' >"$work/session.Dockerfile"
	say "[session] $session_pairs pairs: $ctx_files files, $((ctx_bytes / 1000000)) MB, COPY . /ctx; builder (BUILDER=buildkit, a session) against DOCKER_BUILDKIT=1 $session_cli $session_cli_version; a cold first build, then a rebuild after one file changed"
	for i in $(seq "$session_pairs"); do
		order="builder cli"
		[ $((i % 2)) = 1 ] || order="cli builder"
		line="pair $i/$session_pairs:"
		for side in $order; do
			session_side "$i" "$side" "$builder"
		done
		say "[session] $line"
	done
	# The static binary of builder:latest, one pair's worth, when it has
	# sessions (SECRETS in its --help).
	if [ -n "$static_bin" ] && "$static_bin" --help 2>&1 | grep -q SECRETS; then
		line="static:"
		session_side 0 static "$static_bin"
		say "[session] $line"
	fi
	docker image ls --format '{{.Repository}}:{{.Tag}}' |
		{ grep -F -- "-$run_id:" | grep -F bench/sess- || true; } |
		xargs -r docker rmi -f >/dev/null
	# The build cache this case added (every side's copy of the context
	# and its COPY layer, 7 GB), record by record: left behind, it grew
	# to 22 GB over a few runs and every later build paid for it. What
	# was there before stays.
	comm -13 <(printf '%s\n' "$cache_before") <(build_cache_ids) |
		while read -r id; do
			# (2>&1: a newer CLI's notice on the legacy builder
			# stays out of the log unless the prune fails.)
			out=$(docker builder prune -af --filter "id=$id" 2>&1) ||
				say "[session] could not remove build cache record $id: $out"
		done
}

# session_report: the section's numbers as text (the document, and the
# log of a BENCH_ONLY=session run).
session_report() {
	local phase
	for phase in first rebuild; do
		printf '%s: wall builder %s, cli %s, ratio %s (pairs %s); client cpu builder %s, cli %s, ratio %s; peak rss builder %s, cli %s, static %s; context sent by builder %s MB; engine: transfer builder %s, cli %s, COPY builder %s, cli %s, CPU builder %s, cli %s\n' \
			"$phase" \
			"$(sec "session_$phase" builder wall)" "$(sec "session_$phase" cli wall)" \
			"$(ratio "$(median "session_$phase" builder wall)" "$(median "session_$phase" cli wall)")" \
			"$(pair_ratios "session_$phase" builder cli wall)" \
			"$(sec "session_$phase" builder cpu)" "$(sec "session_$phase" cli cpu)" \
			"$(ratio "$(median "session_$phase" builder cpu)" "$(median "session_$phase" cli cpu)")" \
			"$(mib_stat "session_$phase" builder rss)" "$(mib_stat "session_$phase" cli rss)" \
			"$(mib_stat "session_$phase" static rss)" \
			"$(median "session_$phase" builder ctx_mb)" \
			"$(sec "session_$phase" builder xfer)" "$(sec "session_$phase" cli xfer)" \
			"$(sec "session_$phase" builder copy)" "$(sec "session_$phase" cli copy)" \
			"$(sec "session_$phase" builder ecpu)" "$(sec "session_$phase" cli ecpu)"
	done
}

# --- case 4: image size ------------------------------------------------------------

case_image() {
	local dir=$work/docker-cli-image size
	wait_engine
	if docker image inspect builder:latest >/dev/null 2>&1; then
		record image builder bytes "$(docker image inspect -f '{{.Size}}' builder:latest)"
		image_builder_created=$(docker image inspect -f '{{.Created}}' builder:latest | cut -c1-19)
		if docker image inspect builder-shell:latest >/dev/null 2>&1; then
			record image builder_shell bytes \
				"$(docker image inspect -f '{{.Size}}' builder-shell:latest)"
		fi
	fi
	# The smallest image that can run a docker-CLI CI script: the CLI, a
	# static busybox for the shell, and the CA bundle builder's image has.
	say "[image] building the docker-CLI image (FROM scratch: /usr/bin/docker, static busybox, CA bundle)"
	mkdir -p "$dir/bin" "$dir/etc/ssl/certs"
	cp /usr/bin/docker "$dir/bin/docker"
	cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
	if busybox_bin=$(command -v busybox) &&
	   file -L "$busybox_bin" 2>/dev/null | grep -q 'statically linked'; then
		cp "$busybox_bin" "$dir/bin/busybox"
		ln -s busybox "$dir/bin/sh"
	else
		image_note="${image_note:+$image_note; }no static busybox (apt-get install busybox-static): the docker-CLI image has no shell"
	fi
	printf 'FROM scratch\nCOPY bin/ /bin/\nCOPY etc/ /etc/\nENV PATH=/bin\nENTRYPOINT ["/bin/docker"]\n' \
		>"$dir/Dockerfile"
	DOCKER_BUILDKIT=0 docker build -q -t "bench/docker-cli-$run_id:1" "$dir" \
		>"$work/docker-cli-image.log" 2>&1 ||
		{ cat "$work/docker-cli-image.log" >&2; die "[image] cannot build the docker-CLI image"; }
	size=$(docker image inspect -f '{{.Size}}' "bench/docker-cli-$run_id:1")
	record image docker_cli bytes "$size"
	docker_cli_version=$(/usr/bin/docker --version)
	say "[image] builder:latest $(median image builder bytes) bytes, docker-CLI image $size bytes"
}

# --- case 5: start-up ---------------------------------------------------------------

case_startup() {
	local out f
	say "[startup] $startup_runs runs each"
	startup() { # NAME EXPECTED_EXIT CMD...
		local name=$1
		shift
		# PATH, HOME and ACCOUNT only: no IMAGE, and nothing else builder reads.
		out=$(env -i PATH="$PATH" HOME="$HOME" ACCOUNT=bench "$work/bin/startup" "$startup_runs" "$@") ||
			die "[startup] $name failed"
		read -r -a f <<<"$out" # startup runs= median_us= min_us= max_us=
		record startup "$name" us "${f[2]#median_us=}"
		record startup "$name" us_min "${f[3]#min_us=}"
		record startup "$name" us_max "${f[4]#max_us=}"
		say "[startup] $name: median ${f[2]#median_us=} us"
	}
	startup builder_version 0 "$builder" --version
	startup builder_config_error 2 "$builder"
	if [ -n "$static_bin" ]; then
		startup static_version 0 "$static_bin" --version
		startup static_config_error 2 "$static_bin"
	fi
	startup docker_version 0 "$(command -v docker)" --version
	startup true 0 /bin/true
}

# --- case 6: the .dockerignore matcher -----------------------------------------------

ignore_note=""
case_ignore() {
	local out f gobin=$work/bin/ignore_bench_go pm=/usr/share/gocode/src/github.com/moby/patternmatcher
	mkdir -p "$work/ignore"
	out=$("$work/bin/ignore_bench" --dump "$work/ignore") || die "[ignore] ignore_bench failed"
	# ignore paths= patterns= excluded= ns_per_path= min= max=
	read -r -a f <<<"$out"
	record ignore builder ns "${f[4]#ns_per_path=}"
	record ignore builder ns_min "${f[5]#min=}"
	record ignore builder ns_max "${f[6]#max=}"
	record ignore builder excluded "${f[3]#excluded=}"
	ignore_patterns=${f[2]#patterns=}
	say "[ignore] builder: ${f[4]#ns_per_path=} ns per path"
	# The docker CLI's own matcher, when Debian's Go and its package are here.
	[ -d "$pm" ] || apt_install golang-github-moby-patternmatcher-dev || true
	command -v go >/dev/null || apt_install golang-go || true
	if [ -d "$pm" ] && command -v go >/dev/null &&
	   GOCACHE=$work/gocache GO111MODULE=off GOPATH=/usr/share/gocode \
		go build -o "$gobin" bench/ignore_bench.go >"$work/go.log" 2>&1; then
		out=$("$gobin" "$work/ignore") || die "[ignore] ignore_bench.go failed"
		read -r -a f <<<"$out"
		record ignore patternmatcher ns "${f[4]#ns_per_path=}"
		record ignore patternmatcher ns_min "${f[5]#min=}"
		record ignore patternmatcher ns_max "${f[6]#max=}"
		record ignore patternmatcher excluded "${f[3]#excluded=}"
		say "[ignore] moby/patternmatcher: ${f[4]#ns_per_path=} ns per path"
	else
		ignore_note="moby/patternmatcher not measured: Debian's golang-go and golang-github-moby-patternmatcher-dev are not installable here"
		say "[ignore] $ignore_note"
	fi
}

# --- cases in files of their own ------------------------------------------------------

for f in "$repo"/bench/cases/*.sh; do
	# shellcheck source=/dev/null
	. "$f"
done

# --- run ---------------------------------------------------------------------------

# The shared libraries bin/builder loads before main().
builder_libs=$(ldd "$builder" | grep -c '=>' || true)
builder_needed=$(readelf -d "$builder" 2>/dev/null | grep -c NEEDED || true)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for c in ${BENCH_CASES:-pipeline context rebuild buildkit session promote autotest image startup ignore}; do
	"case_$c"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(calc "$EPOCHREALTIME - $started")

# --- the document --------------------------------------------------------------------

# ratio A B: A / B, or "nan".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.3g\n", a / b }'; }
# goal VALUE OP LIMIT: "met" or "not met" ("not measured" for nan).
goal() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "nan") { print "not measured"; exit }
		ok = op == "<=" ? v + 0 <= l + 0 : v + 0 >= l + 0
		print ok ? "**met**" : "**not met**"
	}'
}
# sec CASE SIDE METRIC: "median (min-max)" in seconds.
sec() {
	stats "$@" | awk '{ if ($4 == 0) print "n/a"; else printf "%.2f s (%.2f-%.2f)\n", $1, $2, $3 }'
}
mib() { # KIB
	awk -v k="$1" 'BEGIN { if (k == "nan") print "n/a"; else printf "%.1f MiB\n", k / 1024 }'
}
mib_stat() {
	stats "$@" | awk '{ if ($4 == 0) print "n/a"; else printf "%.1f MiB (%.1f-%.1f)\n", $1 / 1024, $2 / 1024, $3 / 1024 }'
}
mb() { awk -v b="$1" 'BEGIN { if (b == "nan") print "n/a"; else printf "%.2f MB\n", b / 1e6 }'; }
# pair_ratios CASE A B METRIC: "min-max" of the per-pair ratios A/B.
pair_ratios() {
	paste <(values "$1" "$2" "$4") <(values "$1" "$3" "$4") | awk '
		{ r = $1 / $2; if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r }
		END { if (NR) printf "%.2f-%.2f\n", lo, hi; else print "n/a" }'
}

pipe_wall=$(ratio "$(median pipeline builder wall)" "$(median pipeline baseline wall)")
# GNU time counts CPU in 10 ms steps; builder's share often rounds to 0.
# Then the ratio is given for 0.01 s, as an upper bound ("<=").
pipe_cpu_b=$(median pipeline builder cpu)
pipe_cpu_bound=
if awk -v x="$pipe_cpu_b" 'BEGIN { exit !(x != "nan" && x < 0.01) }'; then
	pipe_cpu_b=0.01
	pipe_cpu_bound="<= "
fi
pipe_cpu=$(ratio "$pipe_cpu_b" "$(median pipeline baseline cpu)")
ctx_wall=$(ratio "$(median context builder wall)" "$(median context baseline wall)")
sink_wall=$(ratio "$(median sink builder wall)" "$(median sink baseline wall)")
sink_cpu=$(ratio "$(median sink builder cpu)" "$(median sink baseline cpu)")
if [ "$(median sink builder tar_bytes)" = "$(median sink baseline tar_bytes)" ]; then
	sink_same="the same size, $(median sink builder tar_bytes) bytes"
else
	sink_same="builder $(median sink builder tar_bytes) bytes, the docker CLI $(median sink baseline tar_bytes) bytes"
fi
ctx_rss_b=$(median context builder rss)
ctx_rss_d=$(median context baseline rss)
ctx_rss=$(ratio "$ctx_rss_b" "$ctx_rss_d")
ctx_rss_mib=$(calc "$ctx_rss_b / 1024")
ctx_rss_static=$(median context static rss)
ctx_rss_static_mib=$(awk -v k="$ctx_rss_static" 'BEGIN { if (k == "nan") print "nan"; else print k / 1024 }')
rb_speedup=$(ratio "$(median rebuild plain wall)" "$(median rebuild cache_from wall)")
rb_ratio=$(ratio "$(median rebuild cache_from wall)" "$(median rebuild plain wall)")
bk_ratio=$(ratio "$(median buildkit buildkit wall)" "$(median buildkit classic wall)")
ss_first_wall=$(ratio "$(median session_first builder wall)" "$(median session_first cli wall)")
ss_first_cpu=$(ratio "$(median session_first builder cpu)" "$(median session_first cli cpu)")
ss_re_wall=$(ratio "$(median session_rebuild builder wall)" "$(median session_rebuild cli wall)")
ss_re_cpu=$(ratio "$(median session_rebuild builder cpu)" "$(median session_rebuild cli cpu)")
at_wall=$(ratio "$(median autotest builder wall)" "$(median autotest baseline wall)")
ss_rss_static=$(stats session_first static rss | awk '{ print $3 }')
[ "$ss_rss_static" != nan ] || ss_rss_static=$(median session_first builder rss)
ss_rss_static_mib=$(awk -v k="$ss_rss_static" 'BEGIN { if (k == "nan") print "nan"; else print k / 1024 }')
img_b=$(median image builder bytes)
img_d=$(median image docker_cli bytes)
img_ratio=$(ratio "$img_b" "$img_d")
img_shell_ratio=$(ratio "$(median image builder_shell bytes)" "$img_d")
st_ratio=$(ratio "$(median startup builder_version us)" "$(median startup docker_version us)")
st_static_ratio=$(ratio "$(median startup static_version us)" "$(median startup docker_version us)")
ig_ratio=$(ratio "$(median ignore builder ns)" "$(median ignore patternmatcher ns)")
ig_agree="n/a"
if [ "$(median ignore patternmatcher excluded)" != nan ]; then
	if [ "$(median ignore builder excluded)" = "$(median ignore patternmatcher excluded)" ]; then
		ig_agree="yes, both exclude $(median ignore builder excluded) paths"
	else
		ig_agree="NO: builder excludes $(median ignore builder excluded), patternmatcher $(median ignore patternmatcher excluded)"
	fi
fi
promote_figures
img_inv=$(awk -v r="$img_ratio" 'BEGIN { if (r == "nan" || r == 0) print "n/a"; else printf "1/%.1f\n", 1 / r }')

us() { # NAME: "median us (min-max)"
	local m
	m=$(median startup "$1" us)
	[ "$m" != nan ] || { echo "n/a"; return; }
	printf '%s us (%s-%s)\n' "$m" "$(median startup "$1" us_min)" "$(median startup "$1" us_max)"
}

wait_engine
engine=$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo unknown)
client=$(docker version --format '{{.Client.Version}}' 2>/dev/null || echo unknown)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
builder_version=$("$builder" --version)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# A subset of the cases (BENCH_CASES/BENCH_ONLY) has no document: the
# figures of the other cases are missing. BENCH_DOC asks for it anyway.
write_doc=1
# What the cases that did not run would have set (a subset with BENCH_DOC).
: "${ctx_files:=?}" "${ctx_bytes:=nan}" "${docker_cli_version:=n/a}" \
	"${ignore_patterns:=?}" "${session_cli_version:=}"
[ -z "${BENCH_CASES:-}" ] || [ -n "${BENCH_DOC:-}" ] || write_doc=0
if [ "$write_doc" = 1 ]; then
say "writing $doc"
{
cat <<EOF
# Benchmarks: builder against the docker CLI

Generated by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'); every
number below was measured by that run. Do not edit: run \`make bench\` again.

| | |
| --- | --- |
| builder | \`$builder_version\` (bin/builder: dynamically linked, -O2, commit $commit) |
| engine | Docker Engine $engine at \`${DOCKER_HOST:-unix:///var/run/docker.sock}\`, classic builder |
| docker CLI | $client (\`DOCKER_BUILDKIT=0\`) |
| machine | $(nproc) CPUs, $cpu_model, $mem, Linux $(uname -r) |
| load average | $load_before at the start, $load_after at the end |
| run | $pipe_pairs alternating pairs for the pipeline, ${autotest_pairs:-$pairs} for autotest, ${session_pairs:-$pairs} for session, $pairs for the other cases (the order swapped every pair), $(fmt_s "$elapsed") in all; $retries failed runs tried again |

The baseline is [bench/baseline.sh](../bench/baseline.sh): the same job as
plain docker CLI commands, the way a CI script writes it:
\`DOCKER_BUILDKIT=0 docker build\`, \`docker run --rm\` of the test command,
\`docker tag\`, \`docker login --password-stdin\` and \`docker push\` of each tag,
with a throwaway \`DOCKER_CONFIG\`. Both sides talk to the same engine and the
same local registry (htpasswd authentication), with nothing of the caller's
environment but \`PATH\` and \`HOME\`. Medians, with the range over the runs in
parentheses; ratios are builder's median over the baseline's.

![builder / baseline, per case](benchmarks.png)

## Goals

| case | figure | measured | goal | |
| --- | --- | --- | --- | --- |
| full pipeline | wall time, builder / docker CLI | $pipe_wall | <= 1.0 | $(goal "$pipe_wall" "<=" 1.0) |
| full pipeline | client CPU, builder / docker CLI | $pipe_cpu_bound$pipe_cpu | <= 0.2 | $(goal "$pipe_cpu" "<=" 0.2) |
| context upload | wall time, builder / docker CLI | $ctx_wall | <= 1.0 | $(goal "$ctx_wall" "<=" 1.0) |
| context upload to a sink | wall time, the clients' own work | $sink_wall | <= 1.0 | $(goal "$sink_wall" "<=" 1.0) |
| context upload | builder's peak RSS (bin/builder) | $(mib "$ctx_rss_b") | <= 10 MiB | $(goal "$ctx_rss_mib" "<=" 10) |
| context upload | peak RSS of builder:latest's static binary (one run) | $(mib "$ctx_rss_static") | <= 10 MiB | $(goal "$ctx_rss_static_mib" "<=" 10) |
| rebuild, no local images | speed-up of CACHE_FROM over no cache | ${rb_speedup}x | >= 5x | $(goal "$rb_speedup" ">=" 5) |
| multi-stage build | wall time, BuildKit / classic builder (both builder) | $bk_ratio | reported | |
| session, first build | wall time, builder / \`DOCKER_BUILDKIT=1\` docker 20.10 | $ss_first_wall | <= 0.9 | $(goal "$ss_first_wall" "<=" 0.9) |
| session, rebuild | wall time, builder / docker 20.10 | $ss_re_wall | <= 0.9 | $(goal "$ss_re_wall" "<=" 0.9) |
| session, first build | client CPU, builder / docker 20.10 | $ss_first_cpu | <= 0.5 | $(goal "$ss_first_cpu" "<=" 0.5) |
| session, rebuild | client CPU, builder / docker 20.10 | $ss_re_cpu | <= 0.5 | $(goal "$ss_re_cpu" "<=" 0.5) |
| session | peak RSS, static binary (bin/builder if none) | $(mib "$ss_rss_static") | <= 10 MiB | $(goal "$ss_rss_static_mib" "<=" 10) |
| autotest, sidecar healthy after 3 s | wall time, builder / docker build + docker-compose | $at_wall | <= 0.8 | $(goal "$at_wall" "<=" 0.8) |
| image size | builder:latest / docker-CLI image | $img_ratio ($img_inv) | <= 1/5 | $(goal "$img_ratio" "<=" 0.2) |
| start-up | \`builder --version\` | $(median startup builder_version us) us | reported | |
| start-up | configuration error (exit 2) | $(median startup builder_config_error us) us | reported | |
| .dockerignore | ns per path, 100,000 paths | $(median ignore builder ns) ns | reported | |
EOF
promote_goal_rows
cat <<EOF

## Full pipeline: build, test, tag, push

examples/hello (a shell app and its tests) with
[bench/pipeline.Dockerfile](../bench/pipeline.Dockerfile): three COPY steps and
a RUN, then the tests in the image (\`TEST_CMD=/tests/run.sh\`), a second tag
(\`EXTRA_TAGS=latest\`) and a push of both tags to the local registry. Every
run gets a new image name and a file of its own in the context, so each one
really builds a new layer and pushes it, as CI does after a commit.

Client CPU is user + system time from GNU time (\`/usr/bin/time\`), which
reports what \`wait4()\` returns: the process and every descendant it waited
for. For builder that is the one process. For the baseline it is the
script's bash plus every docker CLI process it ran (build, run, tag, login,
push), plus the few small commands the script itself runs (\`mktemp\`, \`date\`,
\`rm\`): the shell's share is small but counted against the baseline.

| | builder | docker CLI | ratio | per-pair ratios |
| --- | --- | --- | --- | --- |
| wall time | $(sec pipeline builder wall) | $(sec pipeline baseline wall) | $pipe_wall | $(pair_ratios pipeline builder baseline wall) |
| client CPU (user + sys) | $(sec pipeline builder cpu) | $(sec pipeline baseline cpu) | $pipe_cpu_bound$pipe_cpu | $(pair_ratios pipeline builder baseline cpu) |

Where builder's wall time goes, by its own stage lines (\`<== build done in
1.2s\`, 0.1 s resolution): the engine's work, not the client's.

| stage | build | test | tag | push |
| --- | --- | --- | --- | --- |
| builder, median | $(median pipeline stage_build wall) s | $(median pipeline stage_test wall) s | $(median pipeline stage_tag wall) s | $(median pipeline stage_push wall) s |

## Context upload

A generated context ([bench/gentree.c](../bench/gentree.c), made once under
\`$cache\`): $ctx_files files in 200 directories, $(mb "$ctx_bytes") in all, file sizes from
0 to 36 KiB with a 1-3 MiB file every 200 files, incompressible deterministic
contents. The Dockerfile is \`FROM busybox:latest\` and a \`LABEL\`, so the time
is the context: read, tar, send, and the engine unpacking it. builder runs
with \`PUSH=false\` and no tests; the baseline is \`DOCKER_BUILDKIT=0 docker build\`
itself under GNU time, so its peak RSS is the docker process's, with the two
labels builder adds to every image (\`org.opencontainers.image.created\` and
\`.version\`), so that the engine does the same steps for both.

| | builder | docker CLI | ratio | per-pair ratios |
| --- | --- | --- | --- | --- |
| wall time | $(sec context builder wall) | $(sec context baseline wall) | $ctx_wall | $(pair_ratios context builder baseline wall) |
| peak RSS | $(mib_stat context builder rss) | $(mib_stat context baseline rss) | $ctx_rss | $(pair_ratios context builder baseline rss) |

Most of that wall time is the engine's: it stores the whole context and
unpacks it before the first step, and it shares the machine's $(nproc) CPUs and
its disk with both clients. The same upload to a sink shows the clients' own
work: [tests/fake_engine.c](../tests/fake_engine.c) answers the few requests a
classic build makes, reads the tar to its end and throws it away.

| to a sink | builder | docker CLI | ratio | per-pair ratios |
| --- | --- | --- | --- | --- |
| wall time | $(sec sink builder wall) | $(sec sink baseline wall) | $sink_wall | $(pair_ratios sink builder baseline wall) |
| client CPU (user + sys) | $(sec sink builder cpu) | $(sec sink baseline cpu) | $sink_cpu | $(pair_ratios sink builder baseline cpu) |
| peak RSS | $(mib_stat sink builder rss) | $(mib_stat sink baseline rss) | $(ratio "$(median sink builder rss)" "$(median sink baseline rss)") | $(pair_ratios sink builder baseline rss) |

The two tars the sink read: $sink_same.
EOF
if [ -n "$static_bin" ]; then
cat <<EOF

builder:latest's static binary (\`$static_version\`), one run after the pairs:
$(fmt_s "$(median context static wall)"), peak RSS $(mib "$(median context static rss)").
EOF
fi
cat <<EOF

Peak RSS of the same binaries doing nothing (\`--version\`), for scale: bin/builder
$(mib "$(median context builder rss_idle)"): it names $builder_needed libraries, which
bring $builder_libs shared libraries in all (Debian's libcurl and libarchive
and everything they link)$( [ -z "$static_bin" ] || printf '; the static binary %s' "$(mib "$(median context static rss_idle)")").

## Rebuild on an engine with no local images

CI without layer caching: a fresh engine has none of the app's layers.
[bench/rebuild.Dockerfile](../bench/rebuild.Dockerfile) has a slow dependency
step (\`RUN sleep $slow\`) before the app's files. The image was built and pushed
once; then, before every run, all of the app's local images are removed
(busybox:latest stays), and builder runs either with
\`CACHE_FROM=<the pushed image>\` (it pulls it and the classic builder uses it as
cache) or without it. Both build only (\`PUSH=false\`); the run checks that the
first used the cache and the second did not.

| | with CACHE_FROM | without | speed-up | per-pair speed-ups |
| --- | --- | --- | --- | --- |
| wall time | $(sec rebuild cache_from wall) | $(sec rebuild plain wall) | ${rb_speedup}x | $(pair_ratios rebuild plain cache_from wall) |

## BuildKit against the classic builder

[bench/multistage.Dockerfile](../bench/multistage.Dockerfile) has two
independent stages, each a \`RUN sleep $bk_slow\`, and a final stage that
copies from both. builder builds it with \`BUILDER=buildkit\` (\`POST
/build?version=2\`, no session) and with \`BUILDER=classic\`, \`NO_CACHE=true\`
and \`PUSH=false\` both, in alternating pairs. BuildKit runs the two stages
at the same time; the classic builder runs them one after the other.

| | BuildKit | classic | ratio | per-pair ratios |
| --- | --- | --- | --- | --- |
| wall time | $(sec buildkit buildkit wall) | $(sec buildkit classic wall) | $bk_ratio | $(pair_ratios buildkit buildkit classic wall) |

## BuildKit with a session against the docker CLI

The context of the context case ($(printf '%s' "${ctx_files:-?}") files, $(mb "${ctx_bytes:-nan}")) built with
\`FROM busybox:latest\` and \`COPY . /ctx\` by builder (\`BUILDER=buildkit\`:
\`POST /session\`, the context through FileSync) and by
\`DOCKER_BUILDKIT=1\` ${session_cli_version:+docker $session_cli_version (}\`$session_cli\`${session_cli_version:+)}, same
engine, in alternating pairs. Each side: a cold first build (a shared key
and a stamp file the engine has not seen: the whole context is sent and
COPY runs, as after a build-cache prune, without pruning a shared engine),
then a rebuild after that one file changed (only it is sent). Before each
first build the page cache is written back and, where the bench runs as
root, emptied and the context read back in: every side starts with the
context cached and the rest cold, however full earlier builds left the
memory. The rebuild follows its side's first build.
The case removes the images and build cache records it made.
Client CPU is user + system time of the client process (GNU time).

| | builder | docker CLI | ratio | per-pair ratios |
| --- | --- | --- | --- | --- |
| first build, wall | $(sec session_first builder wall) | $(sec session_first cli wall) | $ss_first_wall | $(pair_ratios session_first builder cli wall) |
| first build, client CPU | $(sec session_first builder cpu) | $(sec session_first cli cpu) | $ss_first_cpu | $(pair_ratios session_first builder cli cpu) |
| first build, peak RSS | $(mib_stat session_first builder rss) | $(mib_stat session_first cli rss) | | |
| rebuild, wall | $(sec session_rebuild builder wall) | $(sec session_rebuild cli wall) | $ss_re_wall | $(pair_ratios session_rebuild builder cli wall) |
| rebuild, client CPU | $(sec session_rebuild builder cpu) | $(sec session_rebuild cli cpu) | $ss_re_cpu | $(pair_ratios session_rebuild builder cli cpu) |
| rebuild, peak RSS | $(mib_stat session_rebuild builder rss) | $(mib_stat session_rebuild cli rss) | | |

Context builder sent (its log): first build $(median session_first builder ctx_mb) MB, rebuild $(median session_rebuild builder ctx_mb) MB.

The engine's own phases, as BuildKit reported them in each client's
progress (medians; the rest of a build is mostly the image export), and
the CPU time dockerd used during each build (user + system, all its
threads: BuildKit runs inside it; n/a for a remote engine), on this
$(nproc)-core machine:

| | builder | docker CLI |
| --- | --- | --- |
| first build, context transfer | $(sec session_first builder xfer) | $(sec session_first cli xfer) |
| first build, COPY | $(sec session_first builder copy) | $(sec session_first cli copy) |
| first build, engine CPU | $(sec session_first builder ecpu) | $(sec session_first cli ecpu) |
| rebuild, context transfer | $(sec session_rebuild builder xfer) | $(sec session_rebuild cli xfer) |
| rebuild, COPY | $(sec session_rebuild builder copy) | $(sec session_rebuild cli copy) |
| rebuild, engine CPU | $(sec session_rebuild builder ecpu) | $(sec session_rebuild cli ecpu) |

The engine's CPU is about the same for both clients, and on a rebuild it
is about as long as the whole build: the engine copies and exports the
context's 330 MB whichever client sent the one changed file. A client
can only save its own time (its start, its walk of the context, its CPU
above) and the little engine work its session causes, which bounds the
rebuild's wall ratio from below.

Static binary (builder:latest), one pair: peak RSS $(mib_stat session_first static rss) (first), $(mib_stat session_rebuild static rss) (rebuild).
EOF
promote_doc
cat <<EOF

## Autotest

Docker Hub's autotest ([bench/cases/autotest.sh](../bench/cases/autotest.sh)):
the app of the pipeline case (a file of its own per run, so each run really
builds) with a \`docker-compose.test.yml\` whose \`sut\` (\`image:
\${IMAGE_NAME}\`) waits for a sidecar (\`depends_on: condition:
service_healthy\`): busybox httpd, serving its page 3 s after it starts,
with a health check every 500 ms that fetches it. \`sut\` fetches the
sidecar's page, then runs the app's tests. builder runs with \`PUSH=false\`
and no \`TEST_CMD\`: it finds the file, starts the sidecar while the image
builds, runs the sidecar's health check itself while \`sut\` waits (as
well as Docker's every 500 ms: README, "Waiting for \`healthy\`"), runs
\`sut\` and removes everything. The baseline is the script a CI
ran for such a repository: \`DOCKER_BUILDKIT=0 docker build\` (the same
steps as builder's build: builder adds no labels here), then
\`docker-compose -f docker-compose.test.yml run --rm -T sut\` and
\`docker-compose ... down -v\` (docker-compose ${autotest_cli_version:-?}, a
project name of its own per run). The sidecar leaves at once on SIGTERM, as
a database does, so that \`down\` pays no stop timeout. Each run is checked
afterwards: \`sut\` reached the sidecar and the tests passed, and no
container or network of the run is left. Wall time from start to exit, in
alternating pairs; client CPU from GNU time (the baseline's includes
docker-compose's Python).

| | builder | docker build + docker-compose | ratio | per-pair ratios |
| --- | --- | --- | --- | --- |
| wall time | $(sec autotest builder wall) | $(sec autotest baseline wall) | $at_wall | $(pair_ratios autotest builder baseline wall) |
| client CPU (user + sys) | $(sec autotest builder cpu) | $(sec autotest baseline cpu) | $(ratio "$(median autotest builder cpu)" "$(median autotest baseline cpu)") | $(pair_ratios autotest builder baseline cpu) |

builder's test stage by its own stage line (\`<== test done in\`), median
$(median autotest stage_test wall) s: \`sut\` and the teardown, plus whatever of the sidecar's
3 s the build did not cover, and the time from the sidecar's readiness to a
passing run of its check.

## Image size

builder:latest (\`make image\`: the static binary and a CA bundle, FROM scratch$( [ -z "${image_builder_created:-}" ] || printf ', built %s UTC' "${image_builder_created/T/ }")) against the
smallest image that can run a docker-CLI CI script, built here FROM scratch:
/usr/bin/docker ($docker_cli_version, Debian's docker.io), a static busybox as
its shell, and the same CA bundle. Sizes as the engine reports them.

| image | size | / docker-CLI image |
| --- | --- | --- |
| builder:latest | $(mb "$img_b") | $img_ratio |
| builder-shell:latest (with busybox) | $(mb "$(median image builder_shell bytes)") | $img_shell_ratio |
| docker CLI + busybox | $(mb "$img_d") | 1 |
EOF
[ -z "$image_note" ] || printf '\nNote: %s.\n' "$image_note"
cat <<EOF

## Start-up

Wall time from \`posix_spawn()\` to \`waitpid()\` ([bench/startup.c](../bench/startup.c)),
output to /dev/null, median of $startup_runs runs one after the other. The
configuration error is builder with \`ACCOUNT\` set and \`IMAGE\` missing, which
exits 2 before any engine call.

| command | median (min-max) |
| --- | --- |
| bin/builder --version | $(us builder_version) |
| bin/builder, configuration error (exit 2) | $(us builder_config_error) |
EOF
if [ -n "$static_bin" ]; then
cat <<EOF
| builder:latest's static binary --version | $(us static_version) |
| builder:latest's static binary, configuration error | $(us static_config_error) |
EOF
fi
cat <<EOF
| docker --version (reference) | $(us docker_version) |
| /bin/true (the cost of a spawn) | $(us true) |

bin/builder --version over docker --version: $st_ratio$( [ -z "$static_bin" ] || printf '; the static binary: %s' "$st_static_ratio").
bin/builder loads $builder_libs shared libraries before \`main()\`: mapping and
relocating them is most of its start-up, which the static binary does not
pay.

## .dockerignore matcher

[bench/ignore_bench.c](../bench/ignore_bench.c): a $ignore_patterns-pattern .dockerignore of the
kind real repositories carry (VCS and editor files, dependency and build
directories, \`**\` globs, character classes, exceptions), compiled once with
\`ignore_parse()\`; 100,000 deterministic paths, 0 to 6 directories deep, each
asked with \`ignore_excluded()\` (the pattern or any parent directory matches);
median over 11 rounds of the whole list. The reference is the docker CLI's
own matcher, moby/patternmatcher's \`MatchesOrParentMatches\` (Debian's Go
package), on the same patterns and paths
([bench/ignore_bench.go](../bench/ignore_bench.go)).

| matcher | ns per path, median (min-max) |
| --- | --- |
| builder (builder/context/ignore.c) | $(median ignore builder ns) ($(median ignore builder ns_min)-$(median ignore builder ns_max)) |
| moby/patternmatcher (Go) | $(median ignore patternmatcher ns) ($(median ignore patternmatcher ns_min)-$(median ignore patternmatcher ns_max)) |

builder / patternmatcher: $ig_ratio. Same answers on all 100,000 paths: $ig_agree.
EOF
[ -z "$ignore_note" ] || printf '\nNote: %s.\n' "$ignore_note"
} >"$doc.tmp"
mv "$doc.tmp" "$doc"

# --- the chart ------------------------------------------------------------------------

# label ratio goal colour: all builder / baseline, lower is better; goal
# "nan" where the figure has none; green met, red not met, blue no goal.
bar() { # LABEL RATIO GOAL
	local colour=0x4472c4
	if [ "$3" != nan ] && [ "$2" != nan ]; then
		colour=$(awk -v r="$2" -v g="$3" 'BEGIN { print r + 0 <= g + 0 ? "0x2e8b57" : "0xc0392b" }')
	fi
	printf '"%s" %s %s %d\n' "$1" "$2" "$3" "$colour"
}
{
	bar 'pipeline\nwall' "$pipe_wall" 1.0
	bar 'pipeline\nclient CPU' "$pipe_cpu" 0.2
	bar 'context\nwall' "$ctx_wall" 1.0
	bar 'to a sink\nwall' "$sink_wall" 1.0
	# The RSS goal is absolute: 10 MiB, drawn against the docker CLI's RSS.
	# The shipped binary is the static one: chart its RSS when measured.
	if [ "$ctx_rss_static" != nan ]; then
		bar 'peak RSS\n(static)' "$(ratio "$ctx_rss_static" "$ctx_rss_d")" "$(ratio 10240 "$ctx_rss_d")"
	else
		bar 'peak RSS' "$ctx_rss" "$(ratio 10240 "$ctx_rss_d")"
	fi
	bar 'rebuild\nCACHE_FROM' "$rb_ratio" 0.2
	bar 'BuildKit\n/ classic' "$bk_ratio" nan
	bar 'image\nsize' "$img_ratio" 0.2
	if [ "$st_static_ratio" != nan ]; then
		bar 'start-up\n(static)' "$st_static_ratio" nan
	else
		bar 'start-up' "$st_ratio" nan
	fi
	bar 'ignore\nmatcher' "$ig_ratio" nan
	bar 'session first\nwall' "$ss_first_wall" 0.9
	bar 'session rebuild\nwall' "$ss_re_wall" 0.9
	bar 'session first\nclient CPU' "$ss_first_cpu" 0.5
	# shellcheck disable=SC2154 # set by bench/cases/promote.sh
	bar 'promote across\nregistries' "$pm_across" 0.3
	bar 'autotest\nwall' "$at_wall" 0.8
} >"$work/chart.dat"
if [ "$have_gnuplot" = 1 ]; then
	say "drawing $png"
	gnuplot >"$work/gnuplot.log" 2>&1 <<EOF || { cat "$work/gnuplot.log" >&2; die "gnuplot failed"; }
set terminal pngcairo noenhanced size 1300,560 font ",10"
set output "$png.tmp"
set title "builder / docker CLI, per case (lower is better; log scale)"
set logscale y
set yrange [0.005:5]
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)
set grid ytics
set style fill solid 0.8 border -1
set boxwidth 0.6
set key top left
set bmargin 4
set xtics nomirror
unset mxtics
plot "$work/chart.dat" using 0:2:4:xtic(1) with boxes lc rgb variable title "measured (green: goal met, red: not met, blue: no goal)", \
     "" using 0:2:(sprintf("%.3g", \$2)) with labels offset 0,0.8 notitle, \
     "" using 0:3 with points pt 7 ps 1.5 lc rgb "#000000" title "goal", \
     1 with lines dt 2 lc rgb "#555555" title "parity"
EOF
	mv "$png.tmp" "$png"
else
	say "gnuplot is missing and cannot be installed: $png not drawn"
fi
fi # write_doc

# --- summary ---------------------------------------------------------------------------

printf '\n%-34s %-22s %-10s %s\n' "case" "measured" "goal" "result"
printf '%-34s %-22s %-10s %s\n' \
	"pipeline wall (builder/docker)" "$pipe_wall" "<= 1.0" "$(goal "$pipe_wall" "<=" 1.0 | tr -d '*')" \
	"pipeline client CPU" "$pipe_cpu" "<= 0.2" "$(goal "$pipe_cpu" "<=" 0.2 | tr -d '*')" \
	"context wall (builder/docker)" "$ctx_wall" "<= 1.0" "$(goal "$ctx_wall" "<=" 1.0 | tr -d '*')" \
	"context to a sink wall (client)" "$sink_wall" "<= 1.0" "$(goal "$sink_wall" "<=" 1.0 | tr -d '*')" \
	"context builder peak RSS" "$(mib "$ctx_rss_b")" "<= 10 MiB" "$(goal "$ctx_rss_mib" "<=" 10 | tr -d '*')" \
	"rebuild CACHE_FROM speed-up" "${rb_speedup}x" ">= 5x" "$(goal "$rb_speedup" ">=" 5 | tr -d '*')" \
	"multi-stage BuildKit/classic" "$bk_ratio" "reported" "-" \
	"session first wall (builder/cli)" "$ss_first_wall" "<= 0.9" "$(goal "$ss_first_wall" "<=" 0.9 | tr -d '*')" \
	"session rebuild wall" "$ss_re_wall" "<= 0.9" "$(goal "$ss_re_wall" "<=" 0.9 | tr -d '*')" \
	"session first client CPU" "$ss_first_cpu" "<= 0.5" "$(goal "$ss_first_cpu" "<=" 0.5 | tr -d '*')" \
	"session rebuild client CPU" "$ss_re_cpu" "<= 0.5" "$(goal "$ss_re_cpu" "<=" 0.5 | tr -d '*')" \
	"session peak RSS (static)" "$(mib "$ss_rss_static")" "<= 10 MiB" "$(goal "$ss_rss_static_mib" "<=" 10 | tr -d '*')" \
	"autotest wall (builder/compose)" "$at_wall" "<= 0.8" "$(goal "$at_wall" "<=" 0.8 | tr -d '*')" \
	"image size (builder/docker CLI)" "$img_ratio ($img_inv)" "<= 1/5" "$(goal "$img_ratio" "<=" 0.2 | tr -d '*')" \
	"start-up --version" "$(median startup builder_version us) us" "reported" "-" \
	"start-up configuration error" "$(median startup builder_config_error us) us" "reported" "-" \
	".dockerignore per path" "$(median ignore builder ns) ns" "reported" "-"
promote_summary_rows
if [ "$(median session_first builder wall)" != nan ]; then
	printf '\nsession case:\n'
	session_report
fi
if [ "$(median promote_across builder wall)" != nan ]; then
	printf '\npromote case:\n'
	promote_report
fi
if [ "$(median autotest builder wall)" != nan ]; then
	printf '\nautotest case:\n'
	autotest_report
fi
if [ "$write_doc" = 1 ]; then
	printf '\nbench: done in %s: %s, %s\n' "$(fmt_s "$elapsed")" "$doc" "$png"
else
	printf '\nbench: done in %s (no document: a subset of the cases)\n' "$(fmt_s "$elapsed")"
fi
