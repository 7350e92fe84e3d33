#!/usr/bin/env bash
# `make fuzz`: builds each tests/fuzz/fuzz_*.c with libFuzzer (clang
# -fsanitize=fuzzer,address,undefined), runs it for FUZZ_SECONDS (default
# 60) on its corpus, and copies every input that crashed, leaked or hung
# into tests/fuzz/corpus/<target>/, where tests/e2e/05-fuzz-replay.sh
# replays it on every `make test` until it is fixed.
#
#   bash tests/fuzz/run.sh                 every target, 60 s each
#   FUZZ_SECONDS=300 bash tests/fuzz/run.sh
#   FUZZ_TARGETS='jstream ref' bash tests/fuzz/run.sh   some targets only
#
# tests/fuzz/corpus/<target>/ holds the seeds (checked in) and past
# crashers; the inputs libFuzzer finds on the way live in
# build/fuzz/corpus/<target>/ and are kept between runs but not checked
# in. FUZZ_JOBS=N runs N targets at a time (default 1). The last line is
# "fuzz: N targets, N crashes"; the exit status is non-zero when a target
# crashed or did not build.
set -u
cd "$(dirname "$0")/../.." || exit 1

SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-1}
CC_FUZZ=${CC_FUZZ:-clang}
OUT=build/fuzz
SAN=-fsanitize=address,undefined
CFLAGS_FUZZ=(-g -O1 -std=c17 -D_GNU_SOURCE '-DBUILDER_VERSION="fuzz"'
	-fno-omit-frame-pointer -Ibuilder -Ibuild/proto)
. scripts/libs.sh
# shellcheck disable=SC2206
PKGS=($LIB_PKGS)
DEPS_CFLAGS=$(pkg-config --cflags "${PKGS[@]}" 2>/dev/null)
DEPS_LIBS=$(pkg-config --libs "${PKGS[@]}" 2>/dev/null || echo "$LIB_FALLBACK")

command -v "$CC_FUZZ" >/dev/null ||
	{ echo "fuzz: '$CC_FUZZ' is not installed: apt-get install clang" >&2; exit 1; }

targets=()
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	if [ -n "${FUZZ_TARGETS:-}" ]; then
		case " $FUZZ_TARGETS " in
		*" ${t#fuzz_} "* | *" $t "*) ;;
		*) continue ;;
		esac
	fi
	targets+=("$t")
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no target matches '${FUZZ_TARGETS:-}'" >&2; exit 1; }

# The library objects, once, instrumented for coverage but without
# libFuzzer's main(); each target links them all (the linker keeps what it
# uses).
mkdir -p "$OUT/obj"
objs=()
build_failed=0
for src in builder/*/*.c; do
	[ "$src" = builder/cli/main.c ] && continue
	obj=$OUT/obj/$(basename "$src" .c).o
	objs+=("$obj")
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] ||
		[ -n "$(find builder build/proto -name '*.h' -newer "$obj" 2>/dev/null)" ] ||
		[ -n "$(find build/proto -name '*.c' -newer "$obj" 2>/dev/null)" ]; then
		# shellcheck disable=SC2086
		"$CC_FUZZ" "${CFLAGS_FUZZ[@]}" -fsanitize=fuzzer-no-link $SAN $DEPS_CFLAGS \
			-c -o "$obj" "$src" || { echo "fuzz: cannot build '$src'" >&2; build_failed=1; }
	fi
done
[ "$build_failed" = 0 ] || exit 1

crashes=0
failed_targets=()

# fuzz_one TARGET: builds, runs and harvests one target; prints its summary
# line and returns 1 when it crashed.
fuzz_one() {
	local t=$1 bin=$OUT/$1 seeds=tests/fuzz/corpus/$1 work=$OUT/corpus/$1
	local art=$OUT/artifacts/$1 log=$OUT/$1.log rc f sum name found=0
	mkdir -p "$seeds" "$work" "$art"
	rm -f "$art"/*
	# shellcheck disable=SC2086
	if ! "$CC_FUZZ" "${CFLAGS_FUZZ[@]}" -fsanitize=fuzzer $SAN $DEPS_CFLAGS \
		-o "$bin" "tests/fuzz/$t.c" "${objs[@]}" $DEPS_LIBS >"$log" 2>&1; then
		sed 's/^/    /' "$log" | head -20
		echo "fuzz $t: did not build"
		return 2
	fi
	# Crashers stop the run at once (libFuzzer's default); the timeout
	# per input and the memory ceiling catch hangs and runaway growth.
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" \
		"$work" "$seeds" >"$log" 2>&1
	rc=$?
	for f in "$art"/*; do
		[ -f "$f" ] || continue
		found=$((found + 1))
		# A crasher already kept (not fixed yet) crashes again at
		# once: say so rather than keep a second copy.
		sum=$(sha1sum <"$f" | cut -d' ' -f1)
		if sha1sum "$seeds"/* 2>/dev/null | cut -d' ' -f1 | grep -qx "$sum"; then
			echo "    $t: an input already in $seeds still crashes"
			continue
		fi
		name=$(basename "$f" | sed 's/-.*//')-$(echo "$sum" | cut -c1-16)
		cp "$f" "$seeds/$name"
		echo "    $t: kept $(basename "$f") as $seeds/$name"
	done
	if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
		grep -E -A25 '^==[0-9]+==ERROR|runtime error|deadly signal|ALARM|out-of-memory|Assertion' "$log" | head -40 | sed 's/^/    | /'
		echo "fuzz $t: CRASH (exit $rc, $found input(s) kept; log: $log)"
		return 1
	fi
	echo "fuzz $t: ok, $(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1) runs in ${SECONDS_EACH}s, corpus $(find "$work" -type f | wc -l) inputs, coverage $(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2) edges"
	return 0
}

echo "fuzz: ${#targets[@]} targets, ${SECONDS_EACH}s each, $JOBS at a time"
running=0
for t in "${targets[@]}"; do
	echo "fuzz $t: running"
	{ fuzz_one "$t" >"$OUT/$t.summary" 2>&1; echo $? >"$OUT/$t.rc"; } &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
for t in "${targets[@]}"; do
	cat "$OUT/$t.summary"
	rc=$(cat "$OUT/$t.rc" 2>/dev/null || echo 2)
	if [ "$rc" -ne 0 ]; then
		crashes=$((crashes + (rc == 1)))
		failed_targets+=("$t")
	fi
done
echo "fuzz: ${#targets[@]} targets, $crashes crashes${failed_targets[*]:+ (failed: ${failed_targets[*]})}"
[ ${#failed_targets[@]} -eq 0 ]
