#!/usr/bin/env bash
# A second Docker engine for the remote-engine tests: dockerd on
# tcp://127.0.0.1:PORT with --tlsverify, certificates made here with
# openssl, beside the machine's own engine and sharing nothing with it but
# the kernel.
#
#   scripts/tls-engine.sh up STATE      start it (busybox:latest loaded into
#                                       it from the local engine)
#   scripts/tls-engine.sh down STATE    stop it, remove its bridge, mounts
#                                       and STATE; fine to run twice
#   scripts/tls-engine.sh certs DIR [SANS]
#                                       a CA and a client certificate set in
#                                       DIR (ca.pem cert.pem key.pem) and
#                                       server-cert.pem/server-key.pem for
#                                       SANS (default
#                                       IP:127.0.0.1,DNS:localhost,DNS:docker)
#
# 'up' writes STATE/env for tests to source:
#
#   TLS_ENGINE_HOST=tcp://127.0.0.1:PORT
#   TLS_ENGINE_PORT=PORT
#   TLS_ENGINE_CERTS=STATE/client       ca.pem cert.pem key.pem, the layout
#                                       DOCKER_CERT_PATH wants
#   TLS_ENGINE_BRIDGE=NAME
#
# The engine has its own --data-root, --exec-root, --pidfile and config
# file, and its own bridge made with 'ip link': --bridge=none would delete
# the first engine's docker0 (see docs/test-environment.md). With
# --iptables=false its containers have no NAT; the daemon itself reaches
# 127.0.0.1 (the registry) directly. TLS_ENGINE_PORT picks the port
# (default: the first free one from 23760).
set -euo pipefail

say() { printf 'tls-engine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# make_certs DIR SANS: CA, server and client; quiet unless openssl fails.
make_certs() {
	local d=$1 sans=$2
	command -v openssl >/dev/null || die "'openssl' is not installed: apt-get install openssl"
	mkdir -p "$d"
	(
		cd "$d"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
			-keyout ca-key.pem -out ca.pem -subj "/CN=builder test CA $RANDOM"
		openssl req -newkey rsa:2048 -nodes -keyout server-key.pem \
			-out server.csr -subj /CN=127.0.0.1
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$sans" >server.ext
		openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca-key.pem \
			-CAcreateserial -extfile server.ext -out server-cert.pem
		openssl req -newkey rsa:2048 -nodes -keyout key.pem -out client.csr \
			-subj /CN=builder-test-client
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -days 2 -in client.csr -CA ca.pem -CAkey ca-key.pem \
			-CAcreateserial -extfile client.ext -out cert.pem
		rm -f ./*.csr ./*.ext ca.srl
		chmod 600 ./*key.pem
	) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "openssl failed: see above"; }
}

cmd_certs() {
	[ -n "${1:-}" ] || die "usage: scripts/tls-engine.sh certs DIR [SANS]"
	make_certs "$1" "${2:-IP:127.0.0.1,DNS:localhost,DNS:docker}"
}

# tls_curl STATE PATH: a request to the engine with the client certificate.
tls_curl() {
	curl -sf --max-time 5 --cacert "$1/client/ca.pem" \
		--cert "$1/client/cert.pem" --key "$1/client/key.pem" \
		"https://127.0.0.1:$(cat "$1/port")$2"
}

cmd_up() {
	local state=${1:-} port bridge net _ pid
	[ -n "$state" ] || die "usage: scripts/tls-engine.sh up STATE"
	command -v dockerd >/dev/null || die "'dockerd' is not installed: run 'scripts/test-env.sh deps'"
	mkdir -p "$state"
	state=$(cd "$state" && pwd)

	port=${TLS_ENGINE_PORT:-23760}
	if [ -z "${TLS_ENGINE_PORT:-}" ]; then
		while port_busy "$port"; do
			port=$((port + 1))
			[ "$port" -lt 23860 ] || die "no free port from 23760 to 23859: set TLS_ENGINE_PORT"
		done
	elif port_busy "$port"; then
		die "port $port (TLS_ENGINE_PORT) is in use"
	fi
	echo "$port" >"$state/port"

	# The CA key and the server's files stay in pki/; client/ holds only
	# what a client gets: the layout DOCKER_CERT_PATH wants.
	make_certs "$state/pki" "IP:127.0.0.1,DNS:localhost,DNS:docker"
	mkdir -p "$state/client"
	cp "$state/pki/ca.pem" "$state/pki/cert.pem" "$state/pki/key.pem" "$state/client/"

	# A bridge of its own, named and numbered after the port so that two
	# of these can coexist; never --bridge=none.
	bridge=bt$port
	net=10.$((200 + port % 50)).$((port % 250)).1/24
	ip link del "$bridge" >/dev/null 2>&1 || true
	ip link add "$bridge" type bridge || die "cannot create bridge '$bridge' (needs root and CAP_NET_ADMIN)"
	echo "$bridge" >"$state/bridge"
	ip addr add "$net" dev "$bridge"
	ip link set "$bridge" up

	echo '{}' >"$state/daemon.json"
	say "starting dockerd on tcp://127.0.0.1:$port with TLS (log: $state/dockerd.log)"
	setsid dockerd --config-file "$state/daemon.json" \
		--data-root "$state/data" --exec-root "$state/exec" \
		--pidfile "$state/dockerd.pid" \
		-H "tcp://127.0.0.1:$port" --tlsverify \
		--tlscacert "$state/pki/ca.pem" \
		--tlscert "$state/pki/server-cert.pem" \
		--tlskey "$state/pki/server-key.pem" \
		--bridge="$bridge" --iptables=false --ip-forward=false \
		>"$state/dockerd.log" 2>&1 </dev/null 9>&- &
	echo $! >"$state/dockerd.launcher.pid"
	pid=$!
	for _ in $(seq 100); do
		tls_curl "$state" /_ping >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.3
	done
	if ! tls_curl "$state" /_ping >/dev/null 2>&1; then
		tail -30 "$state/dockerd.log" >&2
		die "the second dockerd did not answer on 127.0.0.1:$port within 30 s: see its log above"
	fi

	# Nothing can be pulled: the local engine's busybox goes over the wire.
	docker save busybox:latest |
		docker -H "tcp://127.0.0.1:$port" --tlsverify \
			--tlscacert "$state/client/ca.pem" \
			--tlscert "$state/client/cert.pem" \
			--tlskey "$state/client/key.pem" load >"$state/load.log" 2>&1 ||
		{ cat "$state/load.log" >&2; die "cannot load busybox:latest into the second engine"; }

	cat >"$state/env" <<EOF
TLS_ENGINE_HOST=tcp://127.0.0.1:$port
TLS_ENGINE_PORT=$port
TLS_ENGINE_CERTS=$state/client
TLS_ENGINE_BRIDGE=$bridge
EOF
	say "ready: tcp://127.0.0.1:$port, client certificates in $state/client"
}

cmd_down() {
	local state=${1:-} pid _ m
	[ -n "$state" ] || die "usage: scripts/tls-engine.sh down STATE"
	[ -d "$state" ] || return 0
	state=$(cd "$state" && pwd)
	# dockerd.launcher.pid is ours (setsid execs, so it is dockerd's pid);
	# dockerd removes its own dockerd.pid when it stops.
	if [ -s "$state/dockerd.launcher.pid" ]; then
		pid=$(cat "$state/dockerd.launcher.pid")
		# Only our own dockerd: the pid must still be a dockerd using
		# this state directory.
		tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$state" || pid=
	else
		pid=
	fi
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	# Its containerd and shims normally go with it; what is left of this
	# state directory goes now.
	for pid in $(pgrep -f -- "$state/" 2>/dev/null || true); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	awk -v s="$state/" 'index($2, s) == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	if [ -s "$state/bridge" ]; then
		ip link del "$(cat "$state/bridge")" >/dev/null 2>&1 || true
	fi
	rm -rf "$state"
}

case "${1:-}" in
up) cmd_up "${2:-}" ;;
down) cmd_down "${2:-}" ;;
certs) cmd_certs "${2:-}" "${3:-}" ;;
*) echo "usage: scripts/tls-engine.sh up STATE | down STATE | certs DIR [SANS]" >&2; exit 2 ;;
esac
