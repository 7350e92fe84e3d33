#!/bin/sh
# The example's tests, run by builder in the built image (TEST_CMD). They
# also write a JUnit XML report to $RESULTS_DIR (default /tmp/test-results),
# which TEST_RESULTS copies out of the test container for the CI to show.
set -e
out=${RESULTS_DIR:-/tmp/test-results}
mkdir -p "$out"
failed=0
cases=
# check NAME WANT ARGS...: one test case, calc ARGS must print WANT.
check() {
	name=$1 want=$2
	shift 2
	got=$(calc "$@") || got="(exit $?)"
	if [ "$got" = "$want" ]; then
		cases="$cases<testcase classname=\"calc\" name=\"$name\"/>"
	else
		echo "FAIL: $name"
		failed=$((failed + 1))
		cases="$cases<testcase classname=\"calc\" name=\"$name\"><failure message=\"got $got, want $want\"/></testcase>"
	fi
}
check "2 + 3" 5 2 + 3
check "6 * 7" 42 6 '*' 7
check "10 / 3" 3 10 / 3
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="calc" tests="3" failures="%d">%s</testsuite>\n' \
	"$failed" "$cases" >"$out/junit.xml"
[ "$failed" -eq 0 ] || exit 1
echo "3 tests passed"
