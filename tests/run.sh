#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine to one verdict:
#
#   bash tests/run.sh                     everything
#   bash tests/run.sh tests/e2e/10-*.sh   the given end-to-end files only
#                                         (no unit tests)
#
# 1. installs the Debian packages that are missing (scripts/test-env.sh deps)
# 2. builds build/fake-engine, bin/builder, bin/builder-asan and each unit
#    test binary; a target that fails to build counts as one failure and
#    the rest goes on
# 3. runs `make check` (hermetic: check-env, the unit tests, the fuzz corpus
#    replay and the fake-engine tests, no engine needed) with the unit test
#    binaries that built
# 4. starts the engine and the registry (scripts/test-env.sh up)
# 5. runs each other tests/e2e/*.sh
#
# The last line is "N passed, N failed", the sum of every unit and
# end-to-end test (those of make check included) and of every step that
# failed; the exit status is non-zero
# when anything failed. With CI=true (or TEST_ENV_DOWN=1) the registry, and
# a dockerd that step 3 started, are stopped at the end.
set -u
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
problems=()
logs=$(mktemp -d /tmp/builder-tests.XXXXXX)
trap 'rm -rf "$logs"' EXIT

section() { printf '\n=== %s\n' "$*"; }

# step_failed WHAT: one failure that is not a test's.
step_failed() {
	failed=$((failed + 1))
	problems+=("$1")
	echo "FAIL $1"
}

# add_counts LINE: adds "... N passed, N failed" to the totals; 1 if absent.
add_counts() {
	local p f
	p=$(printf '%s\n' "$1" | sed -nE 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1/p')
	f=$(printf '%s\n' "$1" | sed -nE 's/.* ([0-9]+) passed, ([0-9]+) failed$/\2/p')
	[ -n "$p" ] || return 1
	passed=$((passed + p))
	failed=$((failed + f))
	LAST_FAILED=$f
}

# build TARGET: make it; on failure show the first errors.
build() {
	if make -s "$1" >"$logs/make.log" 2>&1; then
		return 0
	fi
	grep -E -A2 'error|Error|undefined reference' "$logs/make.log" | head -30
	echo "(make $1: $(wc -l <"$logs/make.log") lines of output)"
	step_failed "build $1"
	return 1
}

e2e_files=("$@")
if [ ${#e2e_files[@]} -eq 0 ]; then
	e2e_files=(tests/e2e/*.sh)
	run_unit=1
else
	run_unit=0
fi

section "dependencies"
bash scripts/test-env.sh deps || step_failed "install dependencies (scripts/test-env.sh deps)"

section "build"
build build/fake-engine
build bin/builder
build bin/builder-asan
unit_bins=()
if [ "$run_unit" = 1 ]; then
	for src in tests/unit/test_*.c; do
		[ -e "$src" ] || continue
		bin=build/unit/$(basename "$src" .c)
		# Only what built now runs: never a stale binary.
		build "$bin" && unit_bins+=("$bin")
	done
fi
echo "built: $(ls build/fake-engine bin/builder bin/builder-asan \
	"${unit_bins[@]}" 2>/dev/null | tr '\n' ' ')"

# The files make check runs; not run again below.
check_e2e=(tests/e2e/05-fuzz-replay.sh tests/e2e/10-fake-engine.sh)
if [ "$run_unit" = 1 ]; then
	section "make check (hermetic)"
	make -s check UNIT_BINS="${unit_bins[*]}" 2>&1 | tee "$logs/check.log"
	rc=${PIPESTATUS[0]}
	before=$failed
	counted=0
	while IFS= read -r line; do
		add_counts "$line" && counted=$((counted + 1))
	done < <(grep -E '^(unit tests|e2e [^ ]+): [0-9]+ passed, [0-9]+ failed$' "$logs/check.log")
	# unit tests + one line per file
	[ "$counted" -eq $((1 + ${#check_e2e[@]})) ] ||
		step_failed "make check printed $counted of $((1 + ${#check_e2e[@]})) summaries"
	if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then
		step_failed "make check exited $rc (check-env?)"
	fi
	rest=()
	for f in "${e2e_files[@]}"; do
		case " ${check_e2e[*]} " in *" $f "*) ;; *) rest+=("$f") ;; esac
	done
	e2e_files=("${rest[@]}")
fi

section "environment"
bash scripts/test-env.sh up || step_failed "start the test environment (scripts/test-env.sh up)"
# Untagged images the run leaves (a build whose tests failed is not
# tagged) are removed at the end; those that were there before are kept.
dangling_before=$(docker images -q --filter dangling=true 2>/dev/null | sort)

for f in "${e2e_files[@]}"; do
	section "$f"
	start=$(date +%s)
	timeout --kill-after=10 "${E2E_FILE_TIMEOUT:-1800}" bash "$f" </dev/null 2>&1 |
		tee "$logs/e2e.log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^e2e .*: [0-9]+ passed, [0-9]+ failed$' "$logs/e2e.log" | tail -1)
	LAST_FAILED=0
	if ! add_counts "$line"; then
		step_failed "$f ended without a summary (exit $rc)"
	elif [ "$rc" -ne 0 ] && [ "$LAST_FAILED" -eq 0 ]; then
		step_failed "$f exited $rc"
	fi
	echo "($f: $(($(date +%s) - start)) s)"
done

dangling_after=$(docker images -q --filter dangling=true 2>/dev/null | sort)
comm -13 <(echo "$dangling_before") <(echo "$dangling_after") |
	xargs -r docker rmi >/dev/null 2>&1 || true

if [ "${CI:-}" = true ] || [ "${TEST_ENV_DOWN:-}" = 1 ]; then
	section "stopping the test environment"
	bash scripts/test-env.sh down
fi

section "result"
for p in "${problems[@]}"; do
	echo "failed step: $p"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
