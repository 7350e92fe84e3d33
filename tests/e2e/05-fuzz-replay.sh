#!/usr/bin/env bash
# Replays every fuzz corpus without libFuzzer: each tests/fuzz/fuzz_*.c is
# linked with tests/fuzz/replay.c and the library built with ASan and
# UBSan (gcc), then run over tests/fuzz/corpus/<target>/, which holds the
# seeds and every input `make fuzz` ever found crashing. A past crash that
# comes back fails here, in the normal test run. No engine needed.
. "$(dirname "$0")/../lib.sh"

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
. "$REPO_ROOT/scripts/libs.sh"
PKGS=$LIB_PKGS
# shellcheck disable=SC2086
DEPS_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null)
# shellcheck disable=SC2086
DEPS_LIBS=$(pkg-config --libs $PKGS 2>/dev/null || echo "$LIB_FALLBACK")

# The library objects the Makefile builds for bin/builder-asan, brought up
# to date once for all targets.
lib_objs=()
for src in "$REPO_ROOT"/builder/*/*.c; do
	[ "$(basename "$src")" = main.c ] && continue
	lib_objs+=("build/asan/$(basename "$src" .c).o")
done
LIB_STATUS=ok
make -s -C "$REPO_ROOT" "${lib_objs[@]}" >/tmp/fuzz-replay-make.$$ 2>&1 ||
	LIB_STATUS=$(tail -20 /tmp/fuzz-replay-make.$$)
rm -f /tmp/fuzz-replay-make.$$

# replay TARGET: builds the replayer for TARGET and runs it over its corpus.
replay() {
	local t=$1 corpus=$REPO_ROOT/tests/fuzz/corpus/$1 n
	[ "$LIB_STATUS" = ok ] || t_fail "the library did not build: $LIB_STATUS"
	[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] ||
		t_fail "no corpus in '$corpus': add seeds"
	# shellcheck disable=SC2086
	gcc -g -O1 -std=c17 -D_GNU_SOURCE $SAN -I"$REPO_ROOT/builder" -I"$REPO_ROOT/build/proto" $DEPS_CFLAGS \
		-o "$T_DIR/replay_$t" "$REPO_ROOT/tests/fuzz/replay.c" \
		"$REPO_ROOT/tests/fuzz/$t.c" "${lib_objs[@]/#/$REPO_ROOT/}" $DEPS_LIBS ||
		t_fail "cannot build the replayer of '$t'"
	assert_exit 0 "$T_DIR/replay_$t" "$corpus"
	n=$(ls "$corpus" | wc -l)
	assert_contains "$STDOUT" "replayed $n inputs"
}

for src in "$REPO_ROOT"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	eval "t_replay_$t() { replay $t; }"
	run_test "replay the $t corpus" "t_replay_$t"
done
t_summary
