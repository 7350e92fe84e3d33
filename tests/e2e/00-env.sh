#!/usr/bin/env bash
# The test environment itself: if these fail, every later failure is noise.
# Checks the engine, the registry and its authentication, the local base
# image, and the helpers of tests/lib.sh against what docker itself does.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

t_engine_answers() {
	if [ -n "${DOCKER_HOST:-}" ]; then
		assert_exit 0 docker version
	else
		assert_exit 0 curl -sf --unix-socket /var/run/docker.sock http://d/_ping
		assert_contains "$OUT" OK
	fi
}

t_registry_needs_auth() {
	[ -n "${REGISTRY_ADDR:-}" ] || t_fail "no REGISTRY_ADDR in '$T_ENV_FILE'"
	assert_exit 0 curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY_ADDR/v2/"
	assert_eq "$(cat "$STDOUT")" 401 "status without credentials"
	assert_exit 0 curl -s -o /dev/null -w '%{http_code}' \
		-u "$REGISTRY_USER_T:wrong" "http://$REGISTRY_ADDR/v2/"
	assert_eq "$(cat "$STDOUT")" 401 "status with a wrong password"
	assert_exit 0 curl -s -o /dev/null -w '%{http_code}' \
		-u "$REGISTRY_USER_T:$REGISTRY_PASS_T" "http://$REGISTRY_ADDR/v2/"
	assert_eq "$(cat "$STDOUT")" 200 "status with credentials"
	[ -d "$REGISTRY_DIR" ] || t_fail "REGISTRY_DIR '$REGISTRY_DIR' is not a directory"
}

t_busybox_runs() {
	assert_exit 0 docker image inspect busybox:latest
	assert_exit 0 docker run --rm busybox:latest echo hi
	assert_eq "$(cat "$STDOUT")" hi "output of echo"
	# The shell, PATH and a writable /tmp, which test scripts rely on.
	assert_exit 0 docker run --rm busybox:latest sh -c 'echo x >/tmp/f && cat /tmp/f && echo "$PATH"'
	assert_contains "$STDOUT" /bin:/usr/bin
}

# docker's own push gives the digest that registry_digest must find.
t_push_and_registry_helpers() {
	local repo="t$T_UNIQ/bb" digest
	echo "$REGISTRY_PASS_T" >"$T_DIR/pass"
	assert_exit 0 docker login -u "$REGISTRY_USER_T" --password-stdin \
		"$REGISTRY_ADDR" <"$T_DIR/pass"
	assert_exit 0 docker tag busybox:latest "$REGISTRY_ADDR/$repo:1"
	assert_exit 0 docker tag busybox:latest "$REGISTRY_ADDR/$repo:2"
	assert_exit 0 docker push "$REGISTRY_ADDR/$repo:1"
	digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' "$OUT")
	[ -n "$digest" ] || t_fail "no digest in docker push's output"
	assert_exit 0 docker push "$REGISTRY_ADDR/$repo:2"
	assert_eq "$(registry_tags "$repo" | tr '\n' ' ')" "1 2 " "tags"
	assert_eq "$(registry_digest "$repo" 1)" "$digest" "digest of tag 1"
	assert_eq "$(registry_tags "t$T_UNIQ/none")" "" "tags of an unknown repo"
	assert_eq "$(registry_digest "$repo" nosuchtag)" "" "digest of an unknown tag"
	# The credentials went to this test's DOCKER_CONFIG, not the real one.
	assert_contains "$DOCKER_CONFIG/config.json" "$REGISTRY_ADDR"
}

t_make_app_builds_and_tests() {
	make_app app
	assert_exit 0 env DOCKER_BUILDKIT=0 docker build -q -t "e2e-$T_UNIQ:1" app
	assert_exit 0 docker run --rm "e2e-$T_UNIQ:1"
	assert_eq "$(cat "$STDOUT")" "hello from app" "the app's output"
	assert_exit 0 docker run --rm "e2e-$T_UNIQ:1" /app/test.sh
	assert_contains "$STDOUT" "tests passed"
	# The image goes away with the test (its name holds T_UNIQ).
}

t_leftovers_helpers() {
	local run="r$T_UNIQ"
	assert_exit 0 docker network create --label "io.builder.run=$run" "net-$T_UNIQ"
	assert_exit 0 docker create --label "io.builder.run=$run" --name "c-$T_UNIQ" busybox:latest true
	leftovers "$run" >"$T_DIR/left"
	assert_contains "$T_DIR/left" "container"
	assert_contains "$T_DIR/left" "c-$T_UNIQ"
	assert_contains "$T_DIR/left" "net-$T_UNIQ"
	# assert_no_leftovers must fail here, and clean up.
	if (assert_no_leftovers "$run") 2>"$T_DIR/err"; then
		t_fail "assert_no_leftovers passed with leftovers"
	fi
	rm -f "$T_DIR/.failed"
	assert_contains "$T_DIR/err" "left behind"
	assert_eq "$(leftovers "$run")" "" "leftovers after the clean-up"
}

# A second environment whose registry takes a second to exec: its cmdline
# does not name docker-registry until then, as on a busy CI machine where
# setsid has not yet exec'd it. 'up' must wait for it, not take it for dead.
t_env_up_waits_for_a_slow_registry() {
	local real state="$T_DIR/state"
	real=$(command -v docker-registry) || t_skip "no docker-registry"
	mkdir -p "$T_DIR/shim"
	cat >"$T_DIR/shim/docker-registry" <<'EOF_SHIM'
#!/usr/bin/env bash
exec -a slow-start bash -c 'sleep 1; exec "$REAL_REGISTRY" "$@"' slow-start "$@"
EOF_SHIM
	chmod +x "$T_DIR/shim/docker-registry"
	assert_exit 0 env BUILDER_TEST_STATE="$state" REAL_REGISTRY="$real" \
		PATH="$T_DIR/shim:$PATH" bash "$REPO_ROOT/scripts/test-env.sh" up
	assert_contains "$OUT" "ready: engine, registry"
	assert_exit 0 env BUILDER_TEST_STATE="$state" bash "$REPO_ROOT/scripts/test-env.sh" status
	assert_contains "$STDOUT" "registry: 127.0.0.1:"
	assert_exit 0 env BUILDER_TEST_STATE="$state" bash "$REPO_ROOT/scripts/test-env.sh" down
	assert_exit 1 env BUILDER_TEST_STATE="$state" bash "$REPO_ROOT/scripts/test-env.sh" status
	assert_contains "$STDOUT" "registry: down"
}

# The caller's settings stay out of the tests (tests/clean-env.sh): with
# BUILDER=classic exported every e2e test failed (lib.sh took it for the
# binary), SECRETS failed 6 unit tests, and a CI's GITHUB_STEP_SUMMARY got
# every test's summary.
t_callers_environment_stays_out() {
	local caller=(BUILDER=classic TAG=callers SECRETS=id=nosuch
		GITHUB_ACTIONS=true GITHUB_RUN_NUMBER=99
		GITHUB_STEP_SUMMARY="$T_DIR/callers-summary.md")
	assert_exit 0 env "${caller[@]}" TEST_ONLY='^build args, labels and target$' \
		bash "$REPO_ROOT/tests/e2e/30-build.sh"
	assert_contains "$OUT" "1 passed, 0 failed"
	assert_exit 0 env "${caller[@]}" bash "$REPO_ROOT/tests/run-unit.sh" \
		"$REPO_ROOT/build/unit/test_config"
	assert_contains "$OUT" " 0 failed"
	[ ! -e "$T_DIR/callers-summary.md" ] ||
		t_fail "the tests wrote the caller's GITHUB_STEP_SUMMARY"
}

# The scripts the tests, the bench and CI run are shell: shellcheck finds
# their quoting and unused-variable mistakes.
t_shell_scripts_pass_shellcheck() {
	assert_exit 0 make -s -C "$REPO_ROOT" lint
}

# run_test removes images named with T_UNIQ: one test leaves an image, the
# next checks it is gone.
t_leave_an_image() {
	assert_exit 0 docker tag busybox:latest "e2e-$T_UNIQ:left"
	echo "e2e-$T_UNIQ:left" >"/tmp/e2e-env-$$.image"
}

t_image_was_removed() {
	local image
	image=$(cat "/tmp/e2e-env-$$.image")
	rm -f "/tmp/e2e-env-$$.image"
	assert_exit 1 docker image inspect "$image"
}

run_test "engine answers" t_engine_answers
run_test "registry requires authentication" t_registry_needs_auth
run_test "busybox:latest runs" t_busybox_runs
run_test "docker push lands; registry_tags and registry_digest see it" t_push_and_registry_helpers
run_test "test-env.sh up waits for a registry that is slow to start" t_env_up_waits_for_a_slow_registry
run_test "make_app builds and its test passes" t_make_app_builds_and_tests
run_test "leftovers and assert_no_leftovers" t_leftovers_helpers
run_test "the caller's BUILDER, TAG, SECRETS and GITHUB_* stay out of the tests" t_callers_environment_stays_out
run_test "every shell script passes shellcheck (make lint)" t_shell_scripts_pass_shellcheck
run_test "a test leaves an image named with T_UNIQ" t_leave_an_image
run_test "run_test removed it" t_image_was_removed
t_summary
