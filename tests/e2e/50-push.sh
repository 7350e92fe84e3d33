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
		pipeline assert_exit 0 "$BUILDER_BIN" app
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
		pipeline assert_exit 0 "$BUILDER_BIN" app
	check_pushed
	assert_contains "$OUT" "REGISTRY_PASSWORD_FILE"
}

# The password from a pipe: /dev/stdin, then a FIFO written to in pieces.
# Neither has a size to go by; both push.
t_password_file_stdin_fifo() {
	need_builder
	printf '%s\n' "$REGISTRY_PASS_T" |
		REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD_FILE=/dev/stdin \
			pipeline assert_exit 0 "$BUILDER_BIN" app
	check_pushed
	assert_contains "$OUT" "REGISTRY_PASSWORD_FILE"
	mkfifo pw.fifo
	(
		pw=$REGISTRY_PASS_T
		exec >pw.fifo
		while [ -n "$pw" ]; do
			printf '%s' "${pw:0:3}"
			pw=${pw:3}
			sleep 0.05
		done
		echo
	) &
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD_FILE=$T_DIR/pw.fifo \
		pipeline assert_exit 0 "$BUILDER_BIN" --tag 2 app
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" "1 2 "
	assert_not_contains "$OUT" "$REGISTRY_PASS_T"
}

t_ci_aliases() {
	need_builder
	DOCKER_USER=$REGISTRY_USER_T DOCKER_PASS=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER_BIN" app
	check_pushed
	assert_contains "$OUT" "DOCKER_USER"
	DOCKERHUB_USER=$REGISTRY_USER_T DOCKERHUB_PASS=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER_BIN" --tag 2 app
	assert_contains "$OUT" "DOCKERHUB_USER"
	DOCKERHUB_USERNAME=$REGISTRY_USER_T DOCKERHUB_PASS=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER_BIN" --tag 3 app
	assert_contains "$OUT" "DOCKERHUB_USERNAME"
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" "1 2 3 "
}

t_config_json_auths() {
	need_builder
	b64=$(printf '%s:%s' "$REGISTRY_USER_T" "$REGISTRY_PASS_T" | base64)
	printf '{"auths":{"http://%s/v2/":{"auth":"%s"}}}' "$REGISTRY_ADDR" "$b64" \
		>"$DOCKER_CONFIG/config.json"
	pipeline assert_exit 0 "$BUILDER_BIN" app
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
	PATH=$T_DIR/bin:$PATH pipeline assert_exit 0 "$BUILDER_BIN" app
	check_pushed
	assert_contains "$OUT" "docker-credential-e2e"
	assert_eq "$(cat helper-was-asked)" "$REGISTRY_ADDR"
}

# proc_gone PID: true once PID has exited (a zombie counts), within 5 s.
proc_gone() {
	local _ state
	for _ in $(seq 50); do
		state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
		case $state in Z | X | '') return 0 ;; esac
		sleep 0.1
	done
	return 1
}

# helper_with_child NAME ANSWER: bin/docker-credential-NAME starts
# `sleep 300` in the background, holding its stdout, with the pid in
# NAME.pid; then prints the registry's credentials and exits (ANSWER=yes),
# or hangs (ANSWER=no).
# shellcheck disable=SC2016 # $1 and $server are the helper's own
helper_with_child() {
	mkdir -p bin
	{
		printf '#!/bin/sh\n[ "$1" = get ] || exit 1\nread -r server || true\n'
		printf 'sleep 300 &\necho $! >"%s/%s.pid"\n' "$T_DIR" "$1"
		if [ "$2" = yes ]; then
			printf 'printf '"'"'{"ServerURL":"%%s","Username":"%s","Secret":"%s"}'"'"' "$server"\n' \
				"$REGISTRY_USER_T" "$REGISTRY_PASS_T"
		else
			printf 'exec sleep 200\n'
		fi
	} >"bin/docker-credential-$1"
	chmod +x "bin/docker-credential-$1"
	printf '{"credHelpers":{"%s":"%s"}}' "$REGISTRY_ADDR" "$1" >"$DOCKER_CONFIG/config.json"
}

# A helper that answered and exited, leaving a child that holds its stdout:
# the answer counts at once (it was "did not answer" after 30 s).
t_helper_child_holds_stdout() {
	need_builder
	local start child
	helper_with_child e2elinger yes
	start=$(date +%s)
	PATH=$T_DIR/bin:$PATH pipeline assert_exit 0 "$BUILDER_BIN" app
	check_pushed
	assert_contains "$OUT" "docker-credential-e2elinger"
	[ $(($(date +%s) - start)) -lt 25 ] || t_fail "the push waited for the helper's child"
	child=$(cat e2elinger.pid)
	kill "$child" 2>/dev/null || true
}

# A helper that hangs after starting a child: on the time limit, and on a
# signal to builder, the helper's whole process group is killed.
t_helper_children_killed() {
	need_builder
	local pid rc=0 _
	helper_with_child e2ehang no
	make_app app
	PATH=$T_DIR/bin:$PATH REGISTRY=$REGISTRY_ADDR ACCOUNT=t$T_UNIQ IMAGE=app \
		"$BUILDER_BIN" app >"$STDOUT" 2>"$STDERR" &
	pid=$!
	for _ in $(seq 200); do
		[ -s e2ehang.pid ] && break
		sleep 0.1
	done
	[ -s e2ehang.pid ] || t_fail "the helper did not start"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	cat "$STDERR"
	assert_eq "$rc" 143 "exit code after SIGTERM"
	proc_gone "$(cat e2ehang.pid)" || t_fail "the helper's child survived SIGTERM"
	rm -f e2ehang.pid
	# the time limit (30 s)
	PATH=$T_DIR/bin:$PATH pipeline assert_exit 2 "$BUILDER_BIN" app
	assert_contains "$OUT" "did not answer within 30 s"
	proc_gone "$(cat e2ehang.pid)" || t_fail "the helper's child survived the time limit"
}

t_wrong_password() {
	need_builder
	pw='Wr0ng-Pa55word-e2e'
	b64=$(printf '%s:%s' "$REGISTRY_USER_T" "$pw" | base64)
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$pw REPORT=$T_DIR/r.json \
		pipeline assert_exit 5 "$BUILDER_BIN" --verbose app
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
	pipeline assert_exit 5 "$BUILDER_BIN" app
	assert_contains "$OUT" "anonymous"
}

t_registry_down_retries() {
	need_builder
	make_app app
	REGISTRY=127.0.0.1:9 ACCOUNT=t$T_UNIQ IMAGE=app PUSH_RETRIES=2 \
		REGISTRY_USER=u REGISTRY_PASSWORD=p assert_exit 5 "$BUILDER_BIN" app
	assert_contains "$OUT" "retry 1 of 2"
	assert_contains "$OUT" "retry 2 of 2"
	assert_contains "$OUT" "127.0.0.1:9"
	assert_run_left_nothing
}

t_no_push_only_tags() {
	need_builder
	make_app app
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=5 EXTRA_TAGS=latest PUSH=false \
		assert_exit 0 "$BUILDER_BIN" app
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
		pipeline assert_exit 0 "$BUILDER_BIN" app
	check_pushed
	grep -Eq "$layer(Pushed|Layer already exists)\$" "$STDERR" ||
		t_fail "no layer lines on stderr"
	! grep -Eq "$layer" "$STDOUT" || t_fail "layer lines on stdout"
	! grep -q $'\r' "$STDERR" || t_fail "a terminal redraw in a CI log"
	assert_eq "$(grep -E "$layer" "$STDERR" | sort | uniq -d)" "" "repeated layer lines"
	echo "$T_UNIQ again" >app/uniq
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		pipeline assert_exit 0 "$BUILDER_BIN" --quiet app
	check_pushed
	! grep -Eq "$layer" "$STDOUT" "$STDERR" || t_fail "layer lines with --quiet"
	assert_not_contains "$STDERR" "The push refers to"
	assert_contains "$STDOUT" "tests passed"
}

run_test "layer progress: stderr, once per state in CI, none with --quiet" t_progress_lines
run_test "push with REGISTRY_USER/REGISTRY_PASSWORD, extra tags, report" t_env_credentials
run_test "push with REGISTRY_PASSWORD_FILE" t_password_file
run_test "push with REGISTRY_PASSWORD_FILE=/dev/stdin and a FIFO" t_password_file_stdin_fifo
run_test "push with each CI alias" t_ci_aliases
run_test "push with config.json auths" t_config_json_auths
run_test "push with a credential helper" t_credential_helper
run_test "a helper whose child holds its stdout: the answer counts" t_helper_child_holds_stdout
run_test "a helper's children die with it on a timeout and a signal" t_helper_children_killed
run_test "a wrong password exits 5 and leaks nothing" t_wrong_password
run_test "anonymous push is refused with exit 5" t_anonymous_refused
run_test "registry down: retries, then exit 5 naming it" t_registry_down_retries
run_test "PUSH=false tags and stops" t_no_push_only_tags
t_summary
