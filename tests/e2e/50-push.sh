#!/usr/bin/env bash
# Tag and push against the real registry with htpasswd authentication:
# every credential source, failures, retries, digest and report.
. "$(dirname "$0")/../lib.sh"

# pipeline [flags...]: the whole job on a fresh app, pushing to the test
# registry as $REGISTRY_ADDR/t$T_UNIQ/app:1.
pipeline() {
	[ -d app ] || make_app app
	REGISTRY=$REGISTRY_ADDR ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 \
		TEST_CMD=/app/test.sh "$@"
}

# assert_run_left_nothing: nothing of the run just made is left. Only its
# own objects, named in its output (a run without a test stage creates
# none): other runs on the shared engine are not this test's business, and
# a bare assert_no_leftovers would remove their live containers.
assert_run_left_nothing() {
	local id
	id=$(grep -o 'builder-b[0-9a-f]\{10\}' "$OUT" | head -n 1)
	[ -z "$id" ] || assert_no_leftovers "${id#builder-}"
}

check_pushed() {
	local digest
	digest=$(registry_digest "t$T_UNIQ/app" 1)
	[ -n "$digest" ] || t_fail "the registry has no t$T_UNIQ/app:1"
	assert_eq "$(tail -n 1 "$STDOUT")" "$REGISTRY_ADDR/t$T_UNIQ/app:1@$digest"
}

t_env_credentials() {
	need_builder
	make_app app
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		EXTRA_TAGS='latest stable' REPORT=$T_DIR/report.json \
		pipeline assert_exit 0 "$BUILDER" app
	check_pushed
	assert_contains "$OUT" "REGISTRY_USER/REGISTRY_PASSWORD"
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" "1 latest stable "
	digest=$(registry_digest "t$T_UNIQ/app" 1)
	assert_eq "$(jq -r .digest report.json)" "$digest"
	assert_eq "$(jq -r '.tags | length' report.json)" 3
	assert_eq "$(jq -r .stages.push.status report.json)" ok
	assert_eq "$(jq -r .stages.test.status report.json)" ok
	assert_eq "$(jq -r .test_exit_code report.json)" 0
	assert_eq "$(jq -r .success report.json)" true
	assert_eq "$(jq -r '.image_id | startswith("sha256:")' report.json)" true
	[ "$(jq -r .image_size report.json)" -gt 0 ] || t_fail "no image size"
	assert_not_contains report.json "$REGISTRY_PASS_T"
	assert_run_left_nothing
}

t_password_file() {
	need_builder
	printf '%s\n' "$REGISTRY_PASS_T" >pw
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD_FILE=$T_DIR/pw \
		pipeline assert_exit 0 "$BUILDER" app
	check_pushed
	assert_contains "$OUT" "REGISTRY_PASSWORD_FILE"
}

t_ci_aliases() {
	need_builder
	DOCKER_USER=$REGISTRY_USER_T DOCKER_PASS=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER" app
	check_pushed
	assert_contains "$OUT" "DOCKER_USER"
	DOCKERHUB_USER=$REGISTRY_USER_T DOCKERHUB_PASS=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER" --tag 2 app
	assert_contains "$OUT" "DOCKERHUB_USER"
	DOCKERHUB_USERNAME=$REGISTRY_USER_T DOCKERHUB_PASS=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER" --tag 3 app
	assert_contains "$OUT" "DOCKERHUB_USERNAME"
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" "1 2 3 "
}

t_config_json_auths() {
	need_builder
	b64=$(printf '%s:%s' "$REGISTRY_USER_T" "$REGISTRY_PASS_T" | base64)
	printf '{"auths":{"http://%s/v2/":{"auth":"%s"}}}' "$REGISTRY_ADDR" "$b64" \
		>"$DOCKER_CONFIG/config.json"
	pipeline assert_exit 0 "$BUILDER" app
	check_pushed
	assert_contains "$OUT" "config.json"
	assert_not_contains "$OUT" "$b64"
}

t_credential_helper() {
	need_builder
	mkdir bin
	cat >bin/docker-credential-e2e <<HELPER
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server || true
echo "\$server" >"$T_DIR/helper-was-asked"
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "\$server" "$REGISTRY_USER_T" "$REGISTRY_PASS_T"
HELPER
	chmod +x bin/docker-credential-e2e
	printf '{"credHelpers":{"%s":"e2e"}}' "$REGISTRY_ADDR" >"$DOCKER_CONFIG/config.json"
	PATH=$T_DIR/bin:$PATH pipeline assert_exit 0 "$BUILDER" app
	check_pushed
	assert_contains "$OUT" "docker-credential-e2e"
	assert_eq "$(cat helper-was-asked)" "$REGISTRY_ADDR"
}

t_wrong_password() {
	need_builder
	pw='Wr0ng-Pa55word-e2e'
	b64=$(printf '%s:%s' "$REGISTRY_USER_T" "$pw" | base64)
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$pw REPORT=$T_DIR/r.json \
		pipeline assert_exit 5 "$BUILDER" --verbose app
	assert_contains "$OUT" "unauthorized"
	assert_contains "$OUT" "REGISTRY_USER/REGISTRY_PASSWORD"
	assert_not_contains "$OUT" "$pw"
	assert_not_contains "$OUT" "$b64"
	assert_not_contains r.json "$pw"
	assert_not_contains r.json "$b64"
	assert_eq "$(jq -r .failed_stage r.json)" push
	assert_eq "$(jq -r .exit_code r.json)" 5
	# Authentication failures are not retried.
	assert_not_contains "$OUT" "retry"
}

t_anonymous_refused() {
	need_builder
	pipeline assert_exit 5 "$BUILDER" app
	assert_contains "$OUT" "anonymous"
}

t_registry_down_retries() {
	need_builder
	make_app app
	REGISTRY=127.0.0.1:9 ACCOUNT=t$T_UNIQ IMAGE=app PUSH_RETRIES=2 \
		REGISTRY_USER=u REGISTRY_PASSWORD=p assert_exit 5 "$BUILDER" app
	assert_contains "$OUT" "retry 1 of 2"
	assert_contains "$OUT" "retry 2 of 2"
	assert_contains "$OUT" "127.0.0.1:9"
	assert_run_left_nothing
}

t_no_push_only_tags() {
	need_builder
	make_app app
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=5 EXTRA_TAGS=latest PUSH=false \
		assert_exit 0 "$BUILDER" app
	docker image inspect "t$T_UNIQ/app:5" "t$T_UNIQ/app:latest" >/dev/null ||
		t_fail "tags missing"
	assert_contains "$OUT" "push: skipped"
}

# Layer progress goes through one printer: on stderr, one line per layer
# and state in CI (not a terminal: no redraws), and nothing at all with
# --quiet; stdout keeps build and test output and the reference.
t_progress_lines() {
	need_builder
	make_app app
	echo "$T_UNIQ" >app/uniq
	echo 'COPY uniq /uniq' >>app/Dockerfile
	local layer='^ *[0-9a-f]{12}: '
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER" app
	check_pushed
	grep -Eq "$layer(Pushed|Layer already exists)\$" "$STDERR" ||
		t_fail "no layer lines on stderr"
	! grep -Eq "$layer" "$STDOUT" || t_fail "layer lines on stdout"
	! grep -q $'\r' "$STDERR" || t_fail "a terminal redraw in a CI log"
	assert_eq "$(grep -E "$layer" "$STDERR" | sort | uniq -d)" "" "repeated layer lines"
	echo "$T_UNIQ again" >app/uniq
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER" --quiet app
	check_pushed
	! grep -Eq "$layer" "$STDOUT" "$STDERR" || t_fail "layer lines with --quiet"
	assert_not_contains "$STDERR" "The push refers to"
	assert_contains "$STDOUT" "tests passed"
}

run_test "layer progress: stderr, once per state in CI, none with --quiet" t_progress_lines
run_test "push with REGISTRY_USER/REGISTRY_PASSWORD, extra tags, report" t_env_credentials
run_test "push with REGISTRY_PASSWORD_FILE" t_password_file
run_test "push with each CI alias" t_ci_aliases
run_test "push with config.json auths" t_config_json_auths
run_test "push with a credential helper" t_credential_helper
run_test "a wrong password exits 5 and leaks nothing" t_wrong_password
run_test "anonymous push is refused with exit 5" t_anonymous_refused
run_test "registry down: retries, then exit 5 naming it" t_registry_down_retries
run_test "PUSH=false tags and stops" t_no_push_only_tags
t_summary
