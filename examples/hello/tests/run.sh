#!/bin/sh
# The example's tests, run by builder in the built image (TEST_CMD).
set -e
fail() { echo "FAIL: $*"; exit 1; }
[ "$(calc 2 + 3)" = 5 ] || fail "2 + 3"
[ "$(calc 6 '*' 7)" = 42 ] || fail "6 * 7"
[ "$(calc 10 / 3)" = 3 ] || fail "10 / 3"
echo "3 tests passed"
