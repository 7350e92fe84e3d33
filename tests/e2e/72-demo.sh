#!/usr/bin/env bash
# The README's first command: scripts/demo.sh (make demo) runs the main job
# on examples/hello and removes what it started.
. "$(dirname "$0")/../lib.sh"

t_demo() {
	local port=5066 last
	REGISTRY_PORT=$port assert_exit 0 bash "$REPO_ROOT/scripts/demo.sh"
	last=$(tail -n 1 "$STDOUT")
	[[ $last =~ ^127\.0\.0\.1:$port/demo/calc:1\.0\.0@sha256:[0-9a-f]{64}$ ]] ||
		t_fail "the last line is not the pushed reference: '$last'"
	assert_contains "$OUT" "3 tests passed"
	# Its registry is gone, and so are its images.
	! curl -s -o /dev/null "http://127.0.0.1:$port/v2/" ||
		t_fail "the demo's registry still answers on $port"
	[ -z "$(docker images -q "127.0.0.1:$port/demo/calc")" ] ||
		t_fail "the demo's images are still there"
}

run_test "scripts/demo.sh builds, tests, pushes and cleans up" t_demo
t_summary
