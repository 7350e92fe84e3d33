# shellcheck shell=bash disable=SC2030,SC2031 # test variables live in subshells
# Sourced by every tests/e2e/*.sh. A test file defines one shell function
# per test, runs each with `run_test NAME FUNCTION`, and ends with
# `t_summary`, which prints "e2e FILE: N passed, N failed" and sets the exit
# status. Example:
#
#	. "$(dirname "$0")/../lib.sh"
#
#	t_push_works() {
#		make_app app
#		assert_exit 0 "$BUILDER_BIN" ... app
#		assert_contains "$OUT" "pushed"
#		[ "$(registry_tags "t$T_UNIQ/app")" = 1 ] || t_fail "no tag"
#	}
#	run_test "push works" t_push_works
#	t_summary
#
# Each test runs in a subshell with `set -e`, in its own scratch directory
# (T_DIR, also the working directory) with its own HOME and DOCKER_CONFIG,
# stdin from /dev/null, and a time limit (E2E_TIME_LIMIT seconds, default
# 300). Its output goes to a log that is shown only when it fails. It fails
# when it exits non-zero, when an assertion fails (even one used inside `if`
# or `||`), or when a sanitizer reported anything. After it, whatever it
# left running is killed, and containers and images whose name contains
# T_UNIQ (a token unique to the test) are removed: use T_UNIQ in every name.
#
# TEST_ONLY=REGEX runs only the tests whose name matches; TEST_KEEP=1 keeps
# the scratch directories of failed tests; BUILDER_TEST_BIN=PATH tests
# another binary than bin/builder-asan. Nothing else of the caller's
# environment reaches a test but PATH, HOME, TMPDIR, the locale, proxies,
# the engine's DOCKER_HOST and TLS settings and what builds C (CC, CFLAGS,
# MAKEFLAGS...): tests/clean-env.sh.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/clean-env.sh
. "$REPO_ROOT/tests/clean-env.sh"
clean_env
# The binary under test (BUILDER_TEST_BIN to test another one).
BUILDER_BIN=${BUILDER_TEST_BIN:-$REPO_ROOT/bin/builder-asan}
FAKE_ENGINE=$REPO_ROOT/build/fake-engine
E2E_TIME_LIMIT=${E2E_TIME_LIMIT:-300}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# REGISTRY_ADDR, REGISTRY_USER_T, REGISTRY_PASS_T, REGISTRY_DIR
T_ENV_FILE=${BUILDER_TEST_STATE:-/tmp/builder-test-env}/env
if [ -s "$T_ENV_FILE" ]; then
	# shellcheck source=/dev/null
	. "$T_ENV_FILE"
	export REGISTRY_ADDR REGISTRY_USER_T REGISTRY_PASS_T REGISTRY_DIR
elif [ -z "${BUILDER_TEST_HERMETIC:-}" ]; then
	# make check (BUILDER_TEST_HERMETIC=1) needs no registry: no warning.
	echo "warning: no '$T_ENV_FILE': run 'bash scripts/test-env.sh up'" >&2
fi

T_FILE=$(basename "$0")
T_PASSED=0
T_FAILED=0
T_SKIPPED=0
T_NUM=0
T_PGID=
T_WDPID=

t_interrupted() {
	[ -n "$T_PGID" ] && kill -KILL -- "-$T_PGID" 2>/dev/null
	[ -n "$T_WDPID" ] && kill -KILL -- "-$T_WDPID" 2>/dev/null
	echo "e2e $T_FILE: interrupted"
	exit 130
}
trap t_interrupted INT TERM

# --- running tests -------------------------------------------------------

# run_test NAME FUNCTION
run_test() {
	local name=$1 func=$2 dir rc start secs wd verdict
	if [ -n "${TEST_ONLY:-}" ] && ! [[ $name =~ $TEST_ONLY ]]; then
		return 0
	fi
	T_NUM=$((T_NUM + 1))
	dir=$(mktemp -d /tmp/e2e.XXXXXX)
	mkdir -p "$dir/home" "$dir/docker-config"
	start=$(date +%s)
	# Job control while the test and its watchdog start: each gets a
	# process group of its own, so a test and everything it started can be
	# killed as one. Off again before they end, so that bash prints no job
	# notices.
	set -m
	(
		T_NAME=$name
		T_DIR=$dir
		T_UNIQ=$(date +%s%N | tail -c 9)$RANDOM
		HOME=$dir/home
		DOCKER_CONFIG=$dir/docker-config
		OUT=$dir/out STDOUT=$dir/stdout STDERR=$dir/stderr
		ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$dir/sanitizer
		UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$dir/sanitizer
		export T_NAME T_DIR T_UNIQ HOME DOCKER_CONFIG OUT STDOUT STDERR
		export ASAN_OPTIONS UBSAN_OPTIONS
		echo "$T_UNIQ" >"$dir/.uniq"
		cd "$dir"
		set -e
		"$func"
	) >"$dir/log" 2>&1 </dev/null &
	T_PGID=$!
	# The watchdog: a test that hangs is killed, with all it started.
	(
		sleep "$E2E_TIME_LIMIT"
		echo "timed out after $E2E_TIME_LIMIT s" >"$dir/.timeout"
		kill -TERM -- "-$T_PGID" 2>/dev/null
		sleep 5
		kill -KILL -- "-$T_PGID" 2>/dev/null
	) >/dev/null 2>&1 </dev/null &
	wd=$!
	T_WDPID=$wd
	set +m
	wait "$T_PGID"
	rc=$?
	kill -- "-$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	T_WDPID=
	# Whatever the test left running (fake engines, builders in the
	# background) goes with it.
	kill -KILL -- "-$T_PGID" 2>/dev/null
	T_PGID=
	secs=$(($(date +%s) - start))
	t_cleanup_docker "$(cat "$dir/.uniq" 2>/dev/null)"

	if [ -e "$dir/.timeout" ]; then
		verdict="FAIL ($(cat "$dir/.timeout"))"
	elif ls "$dir"/sanitizer.* >/dev/null 2>&1; then
		verdict="FAIL (sanitizer report)"
		cat "$dir"/sanitizer.* >>"$dir/log"
	elif [ -e "$dir/.failed" ]; then
		verdict="FAIL (assertion)"
	elif [ "$rc" -ne 0 ]; then
		verdict="FAIL (exit $rc)"
	elif [ -e "$dir/.skip" ]; then
		verdict="skip"
	else
		verdict=ok
	fi
	case $verdict in
	ok)
		T_PASSED=$((T_PASSED + 1))
		echo "ok $T_NUM - $name (${secs}s)"
		;;
	skip)
		T_SKIPPED=$((T_SKIPPED + 1))
		echo "skip $T_NUM - $name: $(cat "$dir/.skip")"
		;;
	*)
		T_FAILED=$((T_FAILED + 1))
		echo "FAIL $T_NUM - $name ${verdict#FAIL } (${secs}s)"
		sed 's/^/    | /' "$dir/log"
		if [ "${TEST_KEEP:-}" = 1 ]; then
			echo "    scratch directory kept: $dir"
			return 0
		fi
		;;
	esac
	rm -rf "$dir"
	return 0
}

# Removes containers and images whose name contains the token.
t_cleanup_docker() {
	local uniq=$1 ids
	[ -n "$uniq" ] && [ -z "${BUILDER_TEST_HERMETIC:-}" ] || return 0
	ids=$(docker ps -aq --filter "name=$uniq" 2>/dev/null)
	# shellcheck disable=SC2086 # one id a word
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
	ids=$(docker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null |
		grep -F -- "$uniq")
	# shellcheck disable=SC2086
	[ -z "$ids" ] || docker rmi -f $ids >/dev/null 2>&1
	return 0
}

# Prints the file's summary line; the exit status says whether all passed.
t_summary() {
	[ "$T_SKIPPED" -eq 0 ] || echo "e2e $T_FILE: $T_SKIPPED skipped"
	echo "e2e $T_FILE: $T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}

# --- inside a test -------------------------------------------------------

# t_fail MESSAGE: fails the test (the caller's `set -e` ends it).
t_fail() {
	echo "FAILED: $*" >&2
	: >"$T_DIR/.failed"
	return 1
}

# t_skip REASON: ends the test, counted as skipped.
t_skip() {
	echo "$*" >"$T_DIR/.skip"
	exit 0
}

# need_builder: fails the test early when the binary under test is missing.
need_builder() {
	[ -x "$BUILDER_BIN" ] ||
		t_fail "'$BUILDER_BIN' was not built: run 'make bin/builder-asan'"
}

# assert_exit CODE CMD...: runs CMD, stdout to $STDOUT, stderr to $STDERR,
# both to $OUT; CODE is a number or '!0' for any failure.
assert_exit() {
	local want=$1 rc
	shift
	echo "\$ $*"
	"$@" >"$STDOUT" 2>"$STDERR" && rc=0 || rc=$?
	cat "$STDOUT" "$STDERR" >"$OUT"
	sed 's/^/  | /' "$OUT"
	echo "  (exit $rc)"
	if [ "$want" = '!0' ]; then
		[ "$rc" -ne 0 ] || t_fail "expected a non-zero exit from: $*"
	else
		[ "$rc" -eq "$want" ] ||
			t_fail "expected exit $want, got $rc from: $*"
	fi
}

# assert_contains FILE TEXT: TEXT (fixed string) occurs in FILE.
assert_contains() {
	grep -qF -- "$2" "$1" 2>/dev/null ||
		t_fail "'$1' does not contain '$2'"
}

# assert_not_contains FILE TEXT
assert_not_contains() {
	[ -e "$1" ] || t_fail "'$1' does not exist"
	! grep -qF -- "$2" "$1" || t_fail "'$1' contains '$2'"
}

# assert_eq GOT WANT [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || t_fail "${3:-value}: got '$1', want '$2'"
}

# --- the registry ---------------------------------------------------------

# registry_tags REPO: the repository's tags, one a line, sorted; nothing if
# the registry does not know it.
registry_tags() {
	[ -n "${REGISTRY_ADDR:-}" ] || t_fail "no test registry: run 'bash scripts/test-env.sh up'"
	curl -s -u "$REGISTRY_USER_T:$REGISTRY_PASS_T" \
		"http://$REGISTRY_ADDR/v2/$1/tags/list" |
		jq -r '.tags[]? // empty' 2>/dev/null | sort
}

# registry_digest REPO TAG: the manifest digest (sha256:...) the registry
# holds for the tag, as the engine reports it after a push.
registry_digest() {
	[ -n "${REGISTRY_ADDR:-}" ] || t_fail "no test registry: run 'bash scripts/test-env.sh up'"
	curl -s -I -u "$REGISTRY_USER_T:$REGISTRY_PASS_T" \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		"http://$REGISTRY_ADDR/v2/$1/manifests/$2" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p'
}

# --- the engine -----------------------------------------------------------

# leftovers [RUNID]: containers and networks labelled io.builder.run (=RUNID
# when given), and with RUNID the build's image name builder-run:RUNID (not
# without: a live run's name is not a leftover), one a line: "container ID
# NAME", "network ID NAME" or "image NAME -".
leftovers() {
	local f="label=io.builder.run${1:+=$1}"
	docker ps -a --filter "$f" --format 'container {{.ID}} {{.Names}}'
	docker network ls --filter "$f" --format 'network {{.ID}} {{.Name}}'
	[ -z "${1:-}" ] || docker images --filter "reference=builder-run:$1" \
		--format 'image {{.Repository}}:{{.Tag}} -'
}

# assert_no_leftovers [RUNID]: none at all (of that run). What is found is
# removed, so that one failure does not fail the tests after it.
assert_no_leftovers() {
	local left kind id name
	left=$(leftovers "${1:-}")
	[ -n "$left" ] || return 0
	echo "$left" | while read -r kind id name; do
		case $kind in
		container) docker rm -f "$id" >/dev/null 2>&1 ;;
		network) docker network rm "$id" >/dev/null 2>&1 ;;
		image) docker rmi "$id" >/dev/null 2>&1 ;;
		esac
	done
	t_fail "left behind: $(echo "$left" | tr '\n' ';')"
}

# make_app DIR: a tiny app FROM busybox:latest. /app/app.sh prints
# "hello from app"; /app/test.sh runs it and prints "tests passed" (exit 0).
make_app() {
	mkdir -p "$1"
	cat >"$1/Dockerfile" <<'EOF'
FROM busybox:latest
COPY app.sh test.sh /app/
CMD ["/app/app.sh"]
EOF
	printf '#!/bin/sh\necho "hello from app"\n' >"$1/app.sh"
	cat >"$1/test.sh" <<'EOF'
#!/bin/sh
out=$(/app/app.sh)
[ "$out" = "hello from app" ] || { echo "tests failed: got '$out'"; exit 1; }
echo "tests passed"
EOF
	chmod 755 "$1/app.sh" "$1/test.sh"
}

# fake_engine_start [SCRIPT_FILE]: starts build/fake-engine on
# $T_DIR/fe.sock with the script (from stdin when no file is given) and
# sets FAKE_SOCK, FAKE_LOG (its request log) and FAKE_PID. It is stopped
# with the test, or earlier by fake_engine_stop.
fake_engine_start() {
	local script=${1:-$T_DIR/fake-engine.script} _
	[ -n "${1:-}" ] || cat >"$script"
	[ -x "$FAKE_ENGINE" ] || t_fail "'$FAKE_ENGINE' was not built: run 'make build/fake-engine'"
	FAKE_SOCK=$T_DIR/fe.sock
	export FAKE_LOG=$FAKE_SOCK.log
	rm -f "$FAKE_SOCK"
	"$FAKE_ENGINE" "$FAKE_SOCK" "$script" 2>"$T_DIR/fake-engine.err" &
	FAKE_PID=$!
	for _ in $(seq 100); do
		[ -S "$FAKE_SOCK" ] && return 0
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T_DIR/fake-engine.err" >&2
	t_fail "the fake engine did not start"
}

fake_engine_stop() {
	[ -n "${FAKE_PID:-}" ] || return 0
	kill "$FAKE_PID" 2>/dev/null || true
	wait "$FAKE_PID" 2>/dev/null || true
	FAKE_PID=
}
