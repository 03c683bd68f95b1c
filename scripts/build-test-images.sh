#!/usr/bin/env bash
# Builds the local container images the tests use. There is no registry on the build machines
# (`docker pull` fails), so every image is made here from files already on the host.
#
#   scripts/build-test-images.sh            build what is missing (fast when the images exist)
#   scripts/build-test-images.sh --force    rebuild even if the images exist
#
# Environment:
#   OPENSANDBOX_TEST_BUSYBOX_IMAGE  image name (default opensandbox-test/busybox:latest)
#   BUSYBOX                         static busybox binary to package (default /bin/busybox,
#                                   from Debian's busybox-static)
set -euo pipefail

IMAGE="${OPENSANDBOX_TEST_BUSYBOX_IMAGE:-opensandbox-test/busybox:latest}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
# Bump when the recipe below changes: images built by an older recipe are rebuilt.
RECIPE=1

force=false
for arg in "$@"; do
  case "$arg" in
    --force|-f) force=true ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "build-test-images: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[build-test-images] $*"; }
die() { echo "[build-test-images] ERROR: $*" >&2; exit 1; }

command -v docker >/dev/null || die "docker CLI not found (apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "Docker engine not reachable (is dockerd running? 'bash .ci/run' starts it)"

verify() {
  local out
  out="$(docker run --rm --network none "$IMAGE" sh -c 'echo ok' </dev/null)" \
    || die "$IMAGE was built but cannot run a container"
  [ "$out" = ok ] || die "$IMAGE: expected 'ok' from the container, got '$out'"
  log "$IMAGE verified (sh -c 'echo ok' -> $out)"
}

existing_recipe="$(docker image inspect --format '{{ index .Config.Labels "opensandbox-test.recipe" }}' "$IMAGE" 2>/dev/null || true)"
if [ "$force" = false ] && [ "$existing_recipe" = "$RECIPE" ]; then
  log "$IMAGE already present (recipe $RECIPE); use --force to rebuild"
  exit 0
fi
if [ -n "$existing_recipe" ] && [ "$existing_recipe" != "$RECIPE" ]; then
  log "$IMAGE has recipe '$existing_recipe', current is $RECIPE: rebuilding"
fi

[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install busybox-static)"
# A dynamically linked busybox (Debian's 'busybox' package) would not run in an empty root fs.
if LC_ALL=C grep -qa -e '/lib64/ld-linux' -e '/lib/ld-linux' "$BUSYBOX"; then
  die "$BUSYBOX looks dynamically linked; install busybox-static"
fi

start=$SECONDS
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp" "$root/var" "$root/usr" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"

cp "$BUSYBOX" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
n=0
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$root/bin/$applet"
  n=$((n + 1))
done
# One directory for every command: /usr/bin, /sbin and /usr/sbin point at /bin, so
# '#!/usr/bin/env sh' and absolute applet paths work too.
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
GROUP
chmod 0644 "$root/etc/passwd" "$root/etc/group"

log "importing $IMAGE ($n applets from $BUSYBOX)"
tar --numeric-owner --owner=0 --group=0 -C "$root" -c . \
  | docker import \
      -c 'ENV PATH=/bin:/usr/bin:/sbin:/usr/sbin' \
      -c 'CMD ["/bin/sh"]' \
      -c 'LABEL opensandbox-test=true' \
      -c "LABEL opensandbox-test.recipe=$RECIPE" \
      - "$IMAGE" >/dev/null
log "built $IMAGE in $((SECONDS - start)) s ($(docker image inspect --format '{{.Size}}' "$IMAGE") bytes)"
verify
