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
#   OPENSANDBOX_TEST_EXECD_IMAGE    a stand-in for upstream's execd image, with /execd and /bootstrap.sh
#                                   (default opensandbox-test/execd:latest): /execd answers GET /ping on 44772
#   OPENSANDBOX_TEST_EGRESS_IMAGE   a stand-in for upstream's egress sidecar (default opensandbox-test/egress:latest):
#                                   answers GET /healthz on 18080 only with its OPENSANDBOX-EGRESS-AUTH token
#   BUSYBOX                         static busybox binary to package (default /bin/busybox,
#                                   from Debian's busybox-static)
#   BASH_STATIC                     static bash to add (default /bin/bash-static, from bash-static)
set -euo pipefail

IMAGE="${OPENSANDBOX_TEST_BUSYBOX_IMAGE:-opensandbox-test/busybox:latest}"
BASH_IMAGE="${OPENSANDBOX_TEST_BASH_IMAGE:-opensandbox-test/busybox-bash:latest}"
EXECD_IMAGE="${OPENSANDBOX_TEST_EXECD_IMAGE:-opensandbox-test/execd:latest}"
EGRESS_IMAGE="${OPENSANDBOX_TEST_EGRESS_IMAGE:-opensandbox-test/egress:latest}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
BASH_STATIC="${BASH_STATIC:-/bin/bash-static}"
# Bump when the recipe below changes: images built by an older recipe are rebuilt.
RECIPE=4

force=false
for arg in "$@"; do
  case "$arg" in
    --force|-f) force=true ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
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

if up_to_date "$IMAGE" && up_to_date "$BASH_IMAGE" && up_to_date "$EXECD_IMAGE" && up_to_date "$EGRESS_IMAGE"; then
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

import_root() { # import_root IMAGE [CMD-JSON]
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . \
    | docker import \
        -c 'ENV PATH=/bin:/usr/bin:/sbin:/usr/sbin' \
        -c "CMD ${2:-[\"/bin/sh\"]}" \
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

# The execd stand-in: what the server copies out of an execd image (/execd and /bootstrap.sh), small
# enough to read. bootstrap.sh records its arguments, starts the daemon and runs the entrypoint.
rm -f "$root/bin/bash"
cat >"$root/execd" <<'EXECD'
#!/bin/sh
# Stand-in for upstream's execd in tests: answers GET /ping (and /proxy/44772/ping) on port 44772.
www=/tmp/.opensandbox-test-execd
mkdir -p "$www/proxy/44772"
echo pong >"$www/ping"
cp "$www/ping" "$www/proxy/44772/ping"
exec httpd -f -p 44772 -h "$www"
EXECD
cat >"$root/bootstrap.sh" <<'BOOTSTRAP'
#!/bin/sh
# Stand-in for upstream's bootstrap.sh: start execd, then run the sandbox's own command.
printf '%s\n' "$@" >/tmp/.opensandbox-test-bootstrap-args
/opt/opensandbox/execd >/tmp/.opensandbox-test-execd.log 2>&1 &
exec "$@"
BOOTSTRAP
chmod 0755 "$root/execd" "$root/bootstrap.sh"
log "importing $EXECD_IMAGE (the busybox image plus a stand-in /execd and /bootstrap.sh)"
import_root "$EXECD_IMAGE"
verify "$EXECD_IMAGE" sh ok '[ -x /execd ] && [ -x /bootstrap.sh ] && echo ok'

# The egress stand-in: /healthz on 18080 answers 200 only to the sidecar's own token (and only
# after a second, so that the server's readiness wait is exercised), 401 otherwise.
cat >"$root/egress" <<'EGRESS'
#!/bin/sh
# Stand-in for upstream's egress sidecar in tests.
env | grep '^OPENSANDBOX_EGRESS_' >/tmp/.opensandbox-test-egress-env
sleep 1
exec nc -ll -p 18080 -e /egress-healthz
EGRESS
cat >"$root/egress-healthz" <<'HEALTHZ'
#!/bin/sh
# One HTTP exchange on stdin/stdout: 200 for GET /healthz with the right OPENSANDBOX-EGRESS-AUTH.
read -r method path _
auth=
while read -r line; do
  line=$(printf '%s' "$line" | tr -d '\r')
  [ -z "$line" ] && break
  case "$line" in
    [Oo][Pp][Ee][Nn][Ss][Aa][Nn][Dd][Bb][Oo][Xx]-[Ee][Gg][Rr][Ee][Ss][Ss]-[Aa][Uu][Tt][Hh]:*) auth=$(printf '%s' "${line#*:}" | tr -d ' ') ;;
  esac
done
if [ "$path" = /healthz ] && [ -n "$auth" ] && [ "$auth" = "$OPENSANDBOX_EGRESS_TOKEN" ]; then
  printf 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
else
  printf 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
fi
HEALTHZ
chmod 0755 "$root/egress" "$root/egress-healthz"
log "importing $EGRESS_IMAGE (the busybox image plus a stand-in egress sidecar)"
import_root "$EGRESS_IMAGE" '["/egress"]'
verify "$EGRESS_IMAGE" sh ok '[ -x /egress ] && [ -x /egress-healthz ] && echo ok'
