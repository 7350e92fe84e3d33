# shellcheck shell=bash disable=SC2154 # run.sh's variables
# bench/cases/promote.sh: the promote case of bench/run.sh, which sources
# it (its helpers: say, die, record, median, run_builder, run_baseline...).
#
# Between two registries: `builder promote` of a 200 MB image from the
# bench's registry to a second local registry, against the docker CLI's
# `docker pull`, `docker tag`, `docker push`, in alternating pairs. Every
# run gets a second registry of its own, started empty and removed after
# it, so that no run finds the blobs of an earlier one there (and the
# engine cannot mount them from an earlier push). Before each docker-CLI
# run the image is removed from the engine, as on a fresh CI runner.
# Both sides read the same DOCKER_CONFIG (config.json with the bench
# registry's credentials, written once): no login is timed.
#
# Within one registry: builder promotes a 10 MB and a 200 MB image to a new
# repository (cross-repository mounts) and to a new tag of the same
# repository (the blobs are there: the manifest alone), alternating the
# sizes; the time should not depend on the size, and no byte is copied
# (builder's "promoted ... N copied (B bytes)" line).
#
# The images: FROM scratch, four COPY layers of random bytes (4 x 50 MB and
# 4 x 2.5 MB), built by the engine and pushed to the bench's registry once
# per run. Knob: BENCH_PROMOTE_LOCAL_RUNS (2 x BENCH_PAIRS), the runs of
# each within-registry kind and size.

promote_cfg=""
promote_reg=""
promote_reg_pid=""
promote_reg_dir=""

# promote_reg_start: an empty registry without authentication on a free
# port of loopback, its storage under $work; sets promote_reg (host:port).
promote_reg_start() {
	local port _ try
	command -v docker-registry >/dev/null ||
		die "[promote] docker-registry is missing: run 'scripts/test-env.sh deps'"
	for try in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 20000))
		promote_reg_dir=$work/promote-reg.$try.$port
		mkdir -p "$promote_reg_dir"
		cat >"$promote_reg_dir/config.yml" <<EOC
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $promote_reg_dir/data
http:
  addr: 127.0.0.1:$port
EOC
		setsid docker-registry serve "$promote_reg_dir/config.yml" \
			>"$promote_reg_dir/log" 2>&1 </dev/null &
		promote_reg_pid=$!
		for _ in $(seq 100); do
			if curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; then
				promote_reg=127.0.0.1:$port
				return 0
			fi
			kill -0 "$promote_reg_pid" 2>/dev/null || break
			sleep 0.1
		done
		promote_reg_stop
	done
	die "[promote] the second registry did not start: see $promote_reg_dir/log"
}

# promote_reg_stop: stops the second registry and removes its storage.
promote_reg_stop() {
	local _
	if [ -n "$promote_reg_pid" ]; then
		kill "$promote_reg_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$promote_reg_pid" 2>/dev/null || break
			sleep 0.1
		done
		wait "$promote_reg_pid" 2>/dev/null || true
	fi
	[ -z "$promote_reg_dir" ] || rm -rf "$promote_reg_dir"
	promote_reg_pid=""
	promote_reg_dir=""
	promote_reg=""
}

# promote_seed SIZE_MB: builds bench/promote-src-SIZE-<run>:1 (FROM
# scratch, four layers of SIZE/4 MB of random bytes), pushes it to the
# bench's registry and removes it from the engine.
promote_seed() {
	local mb=$1 dir=$work/promote-img-$1 n
	local ref=$registry/bench/promote-src-$1-$run_id:1
	mkdir -p "$dir"
	printf 'FROM scratch\n' >"$dir/Dockerfile"
	for n in 1 2 3 4; do
		head -c $((mb * 1000000 / 4)) /dev/urandom >"$dir/layer$n"
		printf 'COPY layer%s /layer%s\n' "$n" "$n" >>"$dir/Dockerfile"
	done
	wait_engine
	{ DOCKER_BUILDKIT=0 docker build -t "$ref" "$dir" &&
	  DOCKER_CONFIG=$promote_cfg docker push "$ref"; } \
		>"$work/promote-seed-$mb.log" 2>&1 ||
		die "[promote] cannot build and push $ref: see $work/promote-seed-$mb.log"
	rm -rf "$dir"
	docker rmi -f "$ref" >/dev/null
}

# promote_purge REF...: removes REF from the engine, and checks that the
# source's image is not there.
promote_purge() {
	wait_engine
	docker rmi -f "$@" >/dev/null 2>&1 || true
	if docker image ls --format '{{.Repository}}' | grep -qF "promote-src-200-$run_id"; then
		die "[promote] the image is still in the engine"
	fi
}

# promote_blobs LOG: "present mounted copied bytes" from builder's
# "promoted to ...: blobs P present, M mounted, C copied (B bytes)" line.
promote_blobs() {
	sed -n 's/.*promoted to .*blobs \([0-9]*\) present, \([0-9]*\) mounted, \([0-9]*\) copied (\([0-9]*\) bytes).*/\1 \2 \3 \4/p' \
		"$1" | tail -1
}

# promote_tag_digest ADDR REPO TAG [USER:PASS]: the tag's digest, or "".
promote_tag_digest() {
	curl -sfI ${4:+-u "$4"} \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$1/v2/$2/manifests/$3" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p'
}

case_promote() {
	local i side order line size kind log p m c b src target dst_repo
	local local_runs=${BENCH_PROMOTE_LOCAL_RUNS:-$((pairs * 2))}
	local auth=$REGISTRY_USER_T:$REGISTRY_PASS_T
	# The second registry goes with the run, however it ends.
	trap 'promote_reg_stop; cleanup' EXIT
	promote_cfg=$work/promote-config
	mkdir -p "$promote_cfg"
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$registry" \
		"$(printf '%s' "$auth" | base64 -w0)" >"$promote_cfg/config.json"
	say "[promote] seeding: 10 MB and 200 MB images (FROM scratch, 4 layers of random bytes) pushed to $registry"
	for size in 10 200; do
		promote_seed "$size"
	done
	src=$registry/bench/promote-src-200-$run_id:1
	# the image's size in the registry: its config and layers
	record promote_src 200 bytes "$(curl -sf -u "$auth" \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$registry/v2/bench/promote-src-200-$run_id/manifests/1" |
		jq '[.config.size, .layers[].size] | add')"

	say "[promote] $pairs pairs: $src to an empty second registry; builder promote against docker pull, tag, push (image removed from the engine first)"
	for i in $(seq "$pairs"); do
		order="builder cli"
		[ $((i % 2)) = 1 ] || order="cli builder"
		line="pair $i/$pairs:"
		for side in $order; do
			promote_reg_start
			dst_repo=bench/promote-$side-$i-$run_id
			target=$promote_reg/$dst_repo:rel
			log=$work/promote-across-$i-$side.log
			if [ "$side" = builder ]; then
				run_builder "$log" DOCKER_CONFIG="$promote_cfg" \
					"$builder" promote "$src" "$target"
				p="" m="" c="" b=""
				read -r p m c b < <(promote_blobs "$log") || true
				[ "${c:-0}" = 5 ] ||
					die "[promote] builder copied ${c:-no} blobs, not 5: see $log"
				record promote_across builder bytes "$b"
			else
				promote_purge "$src" "$target"
				# shellcheck disable=SC2016 # expanded by that bash
				run_baseline "$log" DOCKER_CONFIG="$promote_cfg" \
					bash -c 'docker pull "$1" && docker tag "$1" "$2" && docker push "$2"' \
					promote "$src" "$target"
				promote_purge "$src" "$target"
			fi
			[ -n "$(promote_tag_digest "$promote_reg" "$dst_repo" rel)" ] ||
				die "[promote] $side: $target is not on the second registry: see $log"
			record promote_across "$side" wall "$wall"
			record promote_across "$side" cpu "$cpu"
			record promote_across "$side" rss "$rss"
			line="$line $side $(fmt_s "$wall") (cpu $(fmt_s "$cpu"), rss $((rss / 1024)) MiB)"
			promote_reg_stop
		done
		say "[promote] $line"
	done

	say "[promote] within $registry: $local_runs runs each, 10 MB and 200 MB alternating: a new repository (mount) and a new tag (retag)"
	for i in $(seq "$local_runs"); do
		order="10 200"
		[ $((i % 2)) = 1 ] || order="200 10"
		line="run $i/$local_runs:"
		for size in $order; do
			src=$registry/bench/promote-src-$size-$run_id:1
			for kind in mount retag; do
				log=$work/promote-$kind-$size-$i.log
				if [ "$kind" = mount ]; then
					target=$registry/bench/promote-mnt-$size-$i-$run_id:rel
				else
					target=$registry/bench/promote-src-$size-$run_id:rel-$i
				fi
				run_builder "$log" DOCKER_CONFIG="$promote_cfg" \
					"$builder" promote "$src" "$target"
				p="" m="" c="" b=""
				read -r p m c b < <(promote_blobs "$log") || true
				[ -n "${b:-}" ] ||
					die "[promote] no 'promoted' line in $log"
				record "promote_$kind" "s$size" wall "$wall"
				record "promote_$kind" "s$size" bytes "$b"
				record "promote_$kind" "s$size" mounted "$m"
				record "promote_$kind" "s$size" present "$p"
				line="$line $kind/${size}MB $(fmt_s "$wall") ($m mounted, $p present, $b bytes copied)"
			done
		done
		say "[promote] $line"
	done
	rm -rf "$promote_cfg"
	trap cleanup EXIT
}

# The figures, for the document and the summary.
promote_figures() {
	pm_across=$(ratio "$(median promote_across builder wall)" "$(median promote_across cli wall)")
	pm_mount=$(ratio "$(median promote_mount s200 wall)" "$(median promote_mount s10 wall)")
	pm_retag=$(ratio "$(median promote_retag s200 wall)" "$(median promote_retag s10 wall)")
	# the most any within-registry run copied
	pm_local_bytes=$( { values promote_mount s10 bytes; values promote_mount s200 bytes
		values promote_retag s10 bytes; values promote_retag s200 bytes; } |
		sort -g | tail -1)
	[ -n "$pm_local_bytes" ] || pm_local_bytes=nan
}

# promote_report: the case's numbers as text (the log of a run).
promote_report() {
	promote_figures
	printf 'between registries (200 MB): wall builder %s, cli %s, ratio %s (pairs %s); client cpu builder %s, cli %s; peak rss builder %s; builder copied %s bytes\n' \
		"$(sec promote_across builder wall)" "$(sec promote_across cli wall)" \
		"$pm_across" "$(pair_ratios promote_across builder cli wall)" \
		"$(sec promote_across builder cpu)" "$(sec promote_across cli cpu)" \
		"$(mib_stat promote_across builder rss)" "$(median promote_across builder bytes)"
	printf 'within one registry, new repository (mount): 10 MB %s, 200 MB %s, ratio %s\n' \
		"$(sec promote_mount s10 wall)" "$(sec promote_mount s200 wall)" "$pm_mount"
	printf 'within one registry, new tag (retag): 10 MB %s, 200 MB %s, ratio %s\n' \
		"$(sec promote_retag s10 wall)" "$(sec promote_retag s200 wall)" "$pm_retag"
	printf 'within one registry: at most %s bytes copied in any run\n' "$pm_local_bytes"
}

# promote_goal_rows: its rows of the document's goals table.
promote_goal_rows() {
	cat <<EOF
| promotion between registries, 200 MB | wall time, builder / docker pull, tag, push | $pm_across | <= 0.3 | $(goal "$pm_across" "<=" 0.3) |
| promotion within one registry | wall time, 200 MB / 10 MB (new repository: mounts) | $pm_mount | <= 1.5 | $(goal "$pm_mount" "<=" 1.5) |
| promotion within one registry | wall time, 200 MB / 10 MB (new tag) | $pm_retag | <= 1.5 | $(goal "$pm_retag" "<=" 1.5) |
| promotion within one registry | bytes copied, most of any run | $pm_local_bytes | 0 | $(goal "$pm_local_bytes" "<=" 0) |
EOF
}

# promote_summary_rows: its lines of the summary printed at the end.
promote_summary_rows() {
	printf '%-34s %-22s %-10s %s\n' \
		"promote across (builder/docker)" "$pm_across" "<= 0.3" "$(goal "$pm_across" "<=" 0.3 | tr -d '*')" \
		"promote within, 200/10 MB mount" "$pm_mount" "<= 1.5" "$(goal "$pm_mount" "<=" 1.5 | tr -d '*')" \
		"promote within, 200/10 MB retag" "$pm_retag" "<= 1.5" "$(goal "$pm_retag" "<=" 1.5 | tr -d '*')" \
		"promote within, bytes copied" "$pm_local_bytes" "0" "$(goal "$pm_local_bytes" "<=" 0 | tr -d '*')"
}

# promote_doc: the document's section.
promote_doc() {
	cat <<EOF

## Promotion

\`builder promote SOURCE TARGET\` copies an image registry to registry,
without an engine. The images are made here: \`FROM scratch\` and four
\`COPY\` layers of random bytes, 4 x 50 MB (200 MB) and 4 x 2.5 MB (10 MB),
built by the engine and pushed to the bench's registry once per run
([bench/cases/promote.sh](../bench/cases/promote.sh)).

**Between two registries.** The 200 MB image, from the bench's registry
to a second local registry (\`docker-registry\`, no authentication), by
\`builder promote\` (a streamed copy of each blob, its sha256 checked as it
streams) and by the docker CLI as a CI script does it: \`docker pull\`,
\`docker tag\`, \`docker push\`, with the image removed from the engine before
each of its runs, as on a fresh CI runner (the engine unpacks the layers on
pull and compresses them again on push). Every run gets a second registry
of its own, started empty and removed after the run, so that nothing of an
earlier run is there to skip or mount. Both sides read the same
\`DOCKER_CONFIG\`, with the bench registry's credentials: no login is timed.
Client CPU and peak RSS are the client processes' (GNU time), not the
engine's or the registries': the docker CLI's CPU is small because the
engine pulls, unpacks, compresses and pushes, while builder itself hashes
every byte it streams.

| | builder | docker CLI | ratio | per-pair ratios |
| --- | --- | --- | --- | --- |
| wall time | $(sec promote_across builder wall) | $(sec promote_across cli wall) | $pm_across | $(pair_ratios promote_across builder cli wall) |
| client CPU (user + sys) | $(sec promote_across builder cpu) | $(sec promote_across cli cpu) | | |
| peak RSS | $(mib_stat promote_across builder rss) | $(mib_stat promote_across cli rss) | | |

The image in the registry (its config and compressed layers): $(mb "$(median promote_src 200 bytes)").
builder copied $(mb "$(median promote_across builder bytes)") (5 blobs: the config and the four layers), by its own log.

**Within one registry.** builder promotes the 10 MB and the 200 MB image
to a new repository of the same registry (each blob a cross-repository
mount) and to a new tag of the same repository (every blob already there:
the manifest alone), the sizes alternating, $(values promote_mount s10 wall | wc -l) runs of each. The time
should not depend on the size, and no blob byte should move: the bytes
are builder's count of what it copied.

| | 10 MB | 200 MB | 200 MB / 10 MB | bytes copied (10 MB, 200 MB) |
| --- | --- | --- | --- | --- |
| new repository (mount) | $(sec promote_mount s10 wall) | $(sec promote_mount s200 wall) | $pm_mount | $(median promote_mount s10 bytes), $(median promote_mount s200 bytes) |
| new tag (retag) | $(sec promote_retag s10 wall) | $(sec promote_retag s200 wall) | $pm_retag | $(median promote_retag s10 bytes), $(median promote_retag s200 bytes) |
EOF
}
