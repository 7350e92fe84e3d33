#!/usr/bin/env bash
# Load: eight whole pipelines at once on one engine, each with its tests, a
# service, and a push to the test registry with credentials. Four build
# distinct images, four build the same image under different tags. Every
# one must succeed with its own digest, see only its own tests' output, and
# leave nothing behind.
. "$(dirname "$0")/../lib.sh"

N=8

# Static busybox cannot resolve names itself (wget fails on host names) but
# its nslookup asks the network's DNS: NAME's address, as a shell snippet.
addr_of() {
	printf '$(nslookup %s | awk '"'"'/^Address/ { a = $NF } END { print a }'"'"')' "$1"
}

# image_of I: pipelines 1-4 each have an image of their own, 5-8 share one.
image_of() {
	if [ "$1" -le 4 ]; then echo "app$1"; else echo shared; fi
}

t_eight_pipelines() {
	need_builder
	[ -n "${REGISTRY_ADDR:-}" ] || t_fail "no test registry"
	mkdir svc
	cat >svc/Dockerfile <<'DF'
FROM busybox:latest
RUN mkdir /www && echo "hello from db" >/www/index.html
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
DF
	DOCKER_BUILDKIT=0 docker build -q -t "t$T_UNIQ-db:1" svc >/dev/null ||
		t_fail "cannot build the service image"
	for i in 1 2 3 4; do
		make_app "app$i"
		echo "RUN echo 'built for pipeline $i' >/app/which" >>"app$i/Dockerfile"
	done
	make_app shared
	echo "RUN echo 'shared image' >/app/which" >>shared/Dockerfile

	start=$(date +%s)
	pids=()
	for i in $(seq $N); do
		img=$(image_of "$i")
		env TEST_TIMEOUT= BUILD_ARGS= LABELS= EXTRA_TAGS= \
			REGISTRY="$REGISTRY_ADDR" ACCOUNT="t$T_UNIQ" IMAGE="$img" \
			TAG="t$i" REGISTRY_USER="$REGISTRY_USER_T" \
			REGISTRY_PASSWORD="$REGISTRY_PASS_T" \
			TEST_ENV="MYTAG=t$i" TEST_SERVICES="db=t$T_UNIQ-db:1" \
			TEST_CMD="echo \"my tag is \$MYTAG\"; cat /app/which; /app/test.sh; wget -qO- http://$(addr_of db):8080/" \
			"$BUILDER_BIN" "$img" >"out.$i" 2>"err.$i" &
		pids+=($!)
	done
	for i in $(seq $N); do
		rc=0
		wait "${pids[$((i - 1))]}" || rc=$?
		cat "out.$i" "err.$i" | sed "s/^/[$i] /"
		echo "[$i] (exit $rc)"
		echo "$rc" >"rc.$i"
	done
	echo "$N pipelines in $(($(date +%s) - start)) s"

	for i in $(seq $N); do
		img=$(image_of "$i")
		ref=$REGISTRY_ADDR/t$T_UNIQ/$img:t$i
		assert_eq "$(cat "rc.$i")" 0 "exit status of pipeline $i"
		# Its own tests ran, in its own image, and only them.
		assert_contains "out.$i" "my tag is t$i"
		assert_eq "$(grep -c 'my tag is' "out.$i")" 1 "test lines of pipeline $i"
		assert_contains "out.$i" "tests passed"
		assert_contains "out.$i" "hello from db"
		if [ "$i" -le 4 ]; then
			assert_contains "out.$i" "built for pipeline $i"
		else
			assert_contains "out.$i" "shared image"
		fi
		# The registry holds what it says it pushed.
		digest=$(registry_digest "t$T_UNIQ/$img" "t$i")
		[ -n "$digest" ] || t_fail "the registry has no '$ref'"
		assert_eq "$(tail -n 1 "out.$i")" "$ref@$digest" "last line of pipeline $i"
		# No other pipeline's image or tag in its log.
		for j in $(seq $N); do
			[ "$j" = "$i" ] && continue
			other=t$T_UNIQ/$(image_of "$j"):t$j
			! cat "out.$i" "err.$i" | grep -qF -- "$other" ||
				t_fail "the log of pipeline $i mentions '$other'"
			! grep -q "my tag is t$j\$" "out.$i" ||
				t_fail "pipeline $i shows the tests of pipeline $j"
		done
	done
	for img in app1 app2 app3 app4; do
		assert_eq "$(registry_tags "t$T_UNIQ/$img" | tr '\n' ' ')" "t${img#app} " "tags of $img"
	done
	assert_eq "$(registry_tags "t$T_UNIQ/shared" | tr '\n' ' ')" "t5 t6 t7 t8 " "tags of shared"

	ids=$(cat err.* | grep -o 'builder-b[0-9a-f]\{10\}' | sed 's/^builder-//' | sort -u)
	assert_eq "$(echo "$ids" | grep -c .)" "$N" "distinct run ids"
	for id in $ids; do
		assert_no_leftovers "$id"
	done
	# Each run's id appears in one log only.
	for id in $ids; do
		assert_eq "$(grep -l "$id" err.* | wc -l)" 1 "logs naming run $id"
	done
}

# registry_config_digest REPO DIGEST: the config digest of that manifest.
registry_config_digest() {
	curl -s -u "$REGISTRY_USER_T:$REGISTRY_PASS_T" \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$REGISTRY_ADDR/v2/$1/manifests/$2" | jq -r '.config.digest // empty'
}

# Sixteen runs push different images (a build argument differs) under the
# same tag and a shared extra tag: the local tag moves under the runs' feet.
# Each run either prints the digest of a manifest whose config is the image
# it tested, or fails with exit 5 naming the race; none reports another
# run's image.
t_same_tag_race() {
	need_builder
	[ -n "${REGISTRY_ADDR:-}" ] || t_fail "no test registry"
	make_app app
	printf 'ARG N\nRUN echo "run $N" >/app/which\n' >>app/Dockerfile
	local n=16 repo="t$T_UNIQ/race" pids=() i rc id printed digest config
	for i in $(seq $n); do
		env TEST_TIMEOUT= LABELS= BUILD_ARGS="N=$i" EXTRA_TAGS=latest \
			REGISTRY="$REGISTRY_ADDR" ACCOUNT="t$T_UNIQ" IMAGE=race \
			TAG=same REGISTRY_USER="$REGISTRY_USER_T" \
			REGISTRY_PASSWORD="$REGISTRY_PASS_T" REPORT="$PWD/report.$i" \
			TEST_CMD="grep -qx 'run $i' /app/which" \
			"$BUILDER_BIN" app >"out.$i" 2>"err.$i" &
		pids+=($!)
	done
	local ok=0 raced=0
	for i in $(seq $n); do
		rc=0
		wait "${pids[$((i - 1))]}" || rc=$?
		id=$(jq -r '.image_id // empty' "report.$i")
		echo "[$i] exit $rc, image $id"
		if [ "$rc" = 5 ]; then
			grep -q 'race' "err.$i" || {
				cat "err.$i"
				t_fail "run $i exited 5 without naming the race"
			}
			raced=$((raced + 1))
			continue
		fi
		[ "$rc" = 0 ] || { cat "out.$i" "err.$i"; t_fail "run $i exited $rc"; }
		printed=$(tail -n 1 "out.$i")
		digest=${printed##*@}
		assert_eq "${printed%@*}" "$REGISTRY_ADDR/$repo:same" "ref printed by run $i"
		config=$(registry_config_digest "$repo" "$digest")
		[ "$config" = "$id" ] || {
			cat "err.$i"
			t_fail "run $i printed $digest, whose config is $config, not its tested image $id"
		}
		ok=$((ok + 1))
	done
	echo "$ok runs pushed their own image, $raced failed on the race," \
		"$(cat err.* | grep -c 'another run moved the tag') pushes were repeated"
	for i in $(seq $n); do
		id=$(grep -o 'builder-b[0-9a-f]\{10\}' "err.$i" | head -n 1)
		[ -z "$id" ] || assert_no_leftovers "${id#builder-}"
	done
}

run_test "sixteen runs, one tag, different images: each reports its own" t_same_tag_race
run_test "eight pipelines at once, with services and pushes" t_eight_pipelines
t_summary
