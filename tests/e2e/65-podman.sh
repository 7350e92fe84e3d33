#!/usr/bin/env bash
# shellcheck disable=SC2030,SC2031 # test variables live in subshells
# Podman as the engine: 'podman system service' speaks the Docker API on a
# unix socket, and the whole pipeline runs against it through DOCKER_HOST
# alone. The service gets storage of its own (--root, --runroot, --tmpdir
# under one temporary directory), busybox:latest from the local engine, a
# registries.conf that marks the test registry insecure (Podman, unlike
# dockerd, does not treat 127.0.0.0/8 registries as plain HTTP), and a
# containers.conf with default ulimits (see below).
#
# Podman is installed here when missing (apt-get install podman). When it
# cannot run containers on this machine, every test is skipped with the
# reason. The service, its storage and the CNI bridge it made go when the
# file ends, even on failure.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

POD_STATE=$(mktemp -d /tmp/podman-e2e.XXXXXX)
POD_SOCK=$POD_STATE/podman.sock
POD_SKIP=
POD_PROBLEM=
POD_PID=
# The CNI bridge of Podman's default network: removed at the end only if
# this file made it.
if ip link show cni-podman0 >/dev/null 2>&1; then POD_BRIDGE_WAS_THERE=1; else POD_BRIDGE_WAS_THERE=; fi

# pod ARGS...: the podman CLI on the service's storage.
pod() {
	CONTAINERS_CONF=$POD_STATE/containers.conf \
		CONTAINERS_REGISTRIES_CONF=$POD_STATE/registries.conf \
		podman --root "$POD_STATE/storage" --runroot "$POD_STATE/run" \
		--tmpdir "$POD_STATE/tmp" "$@"
}

# start_service SOCKET REGISTRIES_CONF [setsid]: a podman API service on
# SOCKET in the background (its pid in POD_SERVICE_PID), ready when this
# returns. Inside a test, without setsid: it then goes with the test.
start_service() {
	local sock=$1 _
	CONTAINERS_CONF=$POD_STATE/containers.conf CONTAINERS_REGISTRIES_CONF=$2 \
		${3:-} podman --root "$POD_STATE/storage" --runroot "$POD_STATE/run" \
		--tmpdir "$POD_STATE/tmp" system service --time=0 "unix://$sock" \
		>"$sock.log" 2>&1 </dev/null 9>&- &
	POD_SERVICE_PID=$!
	for _ in $(seq 100); do
		curl -sf --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 &&
			return 0
		kill -0 "$POD_SERVICE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$sock.log" >&2
	return 1
}

podman_down() {
	local _ m
	if [ -n "$POD_PID" ]; then
		kill "$POD_PID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$POD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$POD_PID" 2>/dev/null
	fi
	if command -v podman >/dev/null && [ -d "$POD_STATE/storage" ]; then
		pod rm -af -t 0 >/dev/null 2>&1
	fi
	awk -v s="$POD_STATE/" 'index($2, s) == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$POD_STATE"
	if [ -z "$POD_BRIDGE_WAS_THERE" ]; then
		ip link del cni-podman0 >/dev/null 2>&1
	fi
	return 0
}
trap podman_down EXIT

podman_up() {
	local out
	if ! command -v podman >/dev/null; then
		echo "installing podman for $T_FILE" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -qq --no-install-recommends podman >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 &&
			  apt-get install -y -qq --no-install-recommends podman >/dev/null 2>&1; }
		command -v podman >/dev/null || {
			POD_SKIP="podman is not installed and 'apt-get install podman' failed"
			return 1
		}
	fi
	mkdir -p "$POD_STATE/tmp"
	# Podman asks for RLIMIT_NOFILE 1048576 for root containers; without
	# CAP_SYS_RESOURCE (as in this sandbox) runc cannot raise it ("error
	# setting rlimit type 7: operation not permitted"). Lower limits are
	# always allowed. No systemd here: cgroupfs and a file event log.
	cat >"$POD_STATE/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
	cat >"$POD_STATE/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$REGISTRY_ADDR"
insecure = true
EOF
	if ! out=$(docker save busybox:latest | pod load 2>&1); then
		POD_PROBLEM="cannot load busybox:latest into podman: $out"
		return 1
	fi
	if ! out=$(pod run --rm busybox:latest true 2>&1); then
		POD_SKIP="podman cannot run containers here: $(echo "$out" | tail -1)"
		return 1
	fi
	if ! start_service "$POD_SOCK" "$POD_STATE/registries.conf" setsid 2>"$POD_STATE/service.err"; then
		POD_PROBLEM="'podman system service' did not answer on '$POD_SOCK': $(tail -5 "$POD_STATE/service.err")"
		return 1
	fi
	POD_PID=$POD_SERVICE_PID
}
podman_up

need_podman() {
	need_builder
	[ -z "$POD_SKIP" ] || t_skip "$POD_SKIP"
	[ -z "$POD_PROBLEM" ] || t_fail "$POD_PROBLEM"
}

pipeline() {
	[ -d app ] || make_app app
	DOCKER_HOST=unix://$POD_SOCK REGISTRY=$REGISTRY_ADDR ACCOUNT=t$T_UNIQ \
		IMAGE=app TAG=1 REGISTRY_USER=$REGISTRY_USER_T \
		REGISTRY_PASSWORD=$REGISTRY_PASS_T TEST_CMD=/app/test.sh "$@"
}

t_podman_check() {
	need_podman
	assert_exit 0 env DOCKER_HOST="unix://$POD_SOCK" "$BUILDER_BIN" check
	assert_contains "$STDOUT" "engine:       unix://$POD_SOCK"
	assert_contains "$STDOUT" "(Podman)"
	assert_contains "$STDOUT" "api version:  1.41"
	assert_contains "$STDOUT" "buildkit:     not advertised"
}

t_podman_pipeline() {
	need_podman
	REPORT=$T_DIR/report.json EXTRA_TAGS=latest \
		pipeline assert_exit 0 "$BUILDER_BIN" app
	assert_contains "$OUT" "(Podman)"
	assert_contains "$OUT" "builder: classic"
	assert_contains "$OUT" "tests passed"
	digest=$(registry_digest "t$T_UNIQ/app" 1)
	[ -n "$digest" ] || t_fail "the registry has no t$T_UNIQ/app:1"
	assert_eq "$(tail -n 1 "$STDOUT")" "$REGISTRY_ADDR/t$T_UNIQ/app:1@$digest"
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" "1 latest "
	assert_eq "$(jq -r .digest report.json)" "$digest"
	assert_eq "$(jq -r '.image_id | startswith("sha256:")' report.json)" true
	# Podman's own image id is the one builder reported.
	id=$(pod image inspect --format '{{.Id}}' "$REGISTRY_ADDR/t$T_UNIQ/app:1")
	assert_eq "$(jq -r .image_id report.json)" "sha256:$id" "image id"
	! docker image inspect "$REGISTRY_ADDR/t$T_UNIQ/app:1" >/dev/null 2>&1 ||
		t_fail "the local engine has the image: the pipeline ran there"
	assert_eq "$(pod ps -aq --filter label=io.builder.run)" "" \
		"containers left in podman"
	assert_eq "$(pod images --format '{{.Repository}}:{{.Tag}}' | grep builder-run)" "" \
		"run image names left in podman"
}

t_podman_build_failure() {
	need_podman
	mkdir app
	printf 'FROM busybox:latest\nRUN echo "before the failure"; exit 7\n' >app/Dockerfile
	pipeline assert_exit 1 "$BUILDER_BIN" app
	assert_contains "$STDOUT" "before the failure"
	assert_contains "$STDERR" "exit status 7"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags pushed"
	assert_eq "$(pod ps -aq --filter label=io.builder.run)" "" \
		"containers left in podman"
	assert_eq "$(pod images --format '{{.Repository}}:{{.Tag}}' | grep builder-run)" "" \
		"run image names left in podman"
}

t_podman_test_failure() {
	need_podman
	pipeline assert_exit 4 "$BUILDER_BIN" \
		--test-cmd 'echo "podman test output"; echo "to stderr" >&2; exit 3' app
	assert_contains "$OUT" "podman test output"
	assert_contains "$OUT" "to stderr"
	assert_contains "$OUT" "tests failed (exit 3)"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags pushed"
	assert_eq "$(pod ps -aq --filter label=io.builder.run)" "" \
		"containers left in podman"
	assert_eq "$(pod images --format '{{.Repository}}:{{.Tag}}' | grep builder-run)" "" \
		"run image names left in podman"
}

# Without the registries.conf entry Podman talks HTTPS to the plain-HTTP
# test registry: the push fails, exit 5, with Podman's own words.
t_podman_insecure_registry_needs_config() {
	need_podman
	printf 'unqualified-search-registries = []\n' >registries.conf
	start_service "$T_DIR/p.sock" "$T_DIR/registries.conf" ||
		t_fail "a second podman service did not start"
	pipeline assert_exit 5 env DOCKER_HOST="unix://$T_DIR/p.sock" "$BUILDER_BIN" app
	assert_contains "$STDERR" "server gave HTTP response to HTTPS client"
	assert_contains "$STDERR" "'$REGISTRY_ADDR'"
	kill "$POD_SERVICE_PID"
}

run_test "podman: check names Podman and API 1.41" t_podman_check
run_test "podman: the whole pipeline, pushed to the registry" t_podman_pipeline
run_test "podman: a failing RUN is exit 1 with podman's message" t_podman_build_failure
run_test "podman: failing tests are exit 4 with their output" t_podman_test_failure
run_test "podman: an HTTP registry needs insecure=true in registries.conf" t_podman_insecure_registry_needs_config
t_summary
