#!/usr/bin/env bash
# Builds the local container images the tests use. There is no registry on the build machines
# (`docker pull` fails), so every image is made here from files already on the host.
#
#   scripts/build-test-images.sh            build what is missing (fast when the images exist)
#   scripts/build-test-images.sh --force    rebuild even if the images exist
#
# Environment:
#   OPENSANDBOX_TEST_BUSYBOX_IMAGE  image name (default opensandbox-test/busybox:latest)
#   OPENSANDBOX_TEST_BASH_IMAGE     the same plus /bin/bash (default opensandbox-test/busybox-bash:latest):
#                                   most real images have bash, and the built-in execd prefers it
#   BUSYBOX                         static busybox binary to package (default /bin/busybox,
#                                   from Debian's busybox-static)
#   BASH_STATIC                     static bash to add (default /bin/bash-static, from bash-static)
set -euo pipefail

IMAGE="${OPENSANDBOX_TEST_BUSYBOX_IMAGE:-opensandbox-test/busybox:latest}"
BASH_IMAGE="${OPENSANDBOX_TEST_BASH_IMAGE:-opensandbox-test/busybox-bash:latest}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
BASH_STATIC="${BASH_STATIC:-/bin/bash-static}"
# Bump when the recipe below changes: images built by an older recipe are rebuilt.
RECIPE=2

force=false
for arg in "$@"; do
  case "$arg" in
    --force|-f) force=true ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-test-images: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[build-test-images] $*"; }
die() { echo "[build-test-images] ERROR: $*" >&2; exit 1; }

command -v docker >/dev/null || die "docker CLI not found (apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "Docker engine not reachable (is dockerd running? 'bash .ci/run' starts it)"

verify() { # verify IMAGE SHELL EXPECTED COMMAND
  local out
  out="$(docker run --rm --network none "$1" "$2" -c "$4" </dev/null)" \
    || die "$1 was built but cannot run a container"
  [ "$out" = "$3" ] || die "$1: expected '$3' from the container, got '$out'"
  log "$1 verified ($2 -c '$4' -> $out)"
}

up_to_date() { # up_to_date IMAGE: true when it exists with the current recipe and no --force
  local existing
  existing="$(docker image inspect --format '{{ index .Config.Labels "opensandbox-test.recipe" }}' "$1" 2>/dev/null || true)"
  if [ "$force" = false ] && [ "$existing" = "$RECIPE" ]; then
    log "$1 already present (recipe $RECIPE); use --force to rebuild"
    return 0
  fi
  if [ -n "$existing" ] && [ "$existing" != "$RECIPE" ]; then
    log "$1 has recipe '$existing', current is $RECIPE: rebuilding"
  fi
  return 1
}

if up_to_date "$IMAGE" && up_to_date "$BASH_IMAGE"; then
  exit 0
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

import_root() { # import_root IMAGE
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . \
    | docker import \
        -c 'ENV PATH=/bin:/usr/bin:/sbin:/usr/sbin' \
        -c 'CMD ["/bin/sh"]' \
        -c 'LABEL opensandbox-test=true' \
        -c "LABEL opensandbox-test.recipe=$RECIPE" \
        - "$1" >/dev/null
  log "built $1 in $((SECONDS - start)) s ($(docker image inspect --format '{{.Size}}' "$1") bytes)"
}

log "importing $IMAGE ($n applets from $BUSYBOX)"
import_root "$IMAGE"
verify "$IMAGE" sh ok 'echo ok'

[ -x "$BASH_STATIC" ] || die "$BASH_STATIC not found (apt-get install bash-static)"
cp "$BASH_STATIC" "$root/bin/bash"
chmod 0755 "$root/bin/bash"
log "importing $BASH_IMAGE (the same plus $BASH_STATIC as /bin/bash)"
import_root "$BASH_IMAGE"
verify "$BASH_IMAGE" bash 5 'echo ${BASH_VERSINFO[0]}'
