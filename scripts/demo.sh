#!/usr/bin/env bash
# make demo: the main job on examples/hello, on a fresh Debian machine.
#
# Installs what is missing, starts a Docker engine if none answers, starts a
# throwaway registry with a password on loopback, then lets builder build
# the example, run its tests in the image, tag it and push it there, and
# prints the pushed reference with its digest. Afterwards it removes what
# it started: the registry, its storage, the demo's images, and the engine
# if it started one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=$(mktemp -d /tmp/builder-demo.XXXXXX)
export BUILDER_TEST_STATE=$state

finish() {
	docker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null |
		grep '/demo/calc:' | xargs -r docker rmi -f >/dev/null 2>&1 || true
	bash scripts/test-env.sh down >/dev/null 2>&1 || true
	rm -rf "$state"
}
trap finish EXIT

bash scripts/test-env.sh deps
make -s bin/builder
REGISTRY_PORT=${REGISTRY_PORT:-5055} bash scripts/test-env.sh up
. "$state/env"

echo
echo "== builder on examples/hello, pushing to the throwaway registry $REGISTRY_ADDR"
REGISTRY=$REGISTRY_ADDR ACCOUNT=demo IMAGE=calc TAG=${TAG:-1.0.0} \
	EXTRA_TAGS=latest TEST_CMD=/tests/run.sh \
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
	bin/builder examples/hello
