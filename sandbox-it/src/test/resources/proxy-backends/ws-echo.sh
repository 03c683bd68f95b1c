#!/bin/sh
# A minimal RFC 6455 echo server for one connection on stdin/stdout (run by `nc -ll -p PORT -e`).
# Text and binary frames up to 65535 bytes are echoed unmasked, pings answered with pongs, and a
# close frame is answered with a close carrying the same status code, written to $WS_CLOSE_LOG.
set -f # word splitting of byte lists must never glob
GUID=258EAFA5-E914-47DA-95CA-C5AB0DC85B11
CR=$(printf '\r')
key=
while IFS= read -r line; do
    line=${line%"$CR"}
    [ -z "$line" ] && break
    case "$line" in
        [Ss][Ee][Cc]-[Ww][Ee][Bb][Ss][Oo][Cc][Kk][Ee][Tt]-[Kk][Ee][Yy]:*)
            key=${line#*:}; key=${key# }; key=${key% } ;;
    esac
done
if [ -z "$key" ]; then
    printf 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
    exit 0
fi
hex=$(printf '%s' "$key$GUID" | sha1sum | cut -d' ' -f1)
accept=$(printf "$(printf '%s' "$hex" | sed 's/../\\x&/g')" | base64)
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' "$accept"

# od -v: without it, repeated 16-byte lines collapse into a single '*'.
bytes() { dd bs=1 count="$1" 2>/dev/null | od -v -An -tu1; }

frame() { # opcode, payload length, payload as octal escapes
    if [ "$2" -lt 126 ]; then
        printf "\\$(printf %03o $((128 | $1)))\\$(printf %03o "$2")$3"
    else
        printf "\\$(printf %03o $((128 | $1)))\\176\\$(printf %03o $(($2 >> 8)))\\$(printf %03o $(($2 & 255)))$3"
    fi
}

while :; do
    set -- $(bytes 2)
    [ $# -eq 2 ] || exit 0
    op=$(($1 & 15)); len=$(($2 & 127)); masked=$(($2 & 128))
    if [ "$len" -eq 126 ]; then
        set -- $(bytes 2); len=$(($1 * 256 + $2))
    elif [ "$len" -eq 127 ]; then
        exit 1
    fi
    m0=0; m1=0; m2=0; m3=0
    if [ "$masked" -ne 0 ]; then
        set -- $(bytes 4); m0=$1; m1=$2; m2=$3; m3=$4
    fi
    payload=
    [ "$len" -gt 0 ] && payload=$(bytes "$len")
    i=0; out=; first=; second=
    for b in $payload; do
        case $((i % 4)) in 0) m=$m0 ;; 1) m=$m1 ;; 2) m=$m2 ;; *) m=$m3 ;; esac
        x=$((b ^ m))
        [ $i -eq 0 ] && first=$x
        [ $i -eq 1 ] && second=$x
        out="$out\\$(printf %03o $x)"
        i=$((i + 1))
    done
    case $op in
        1|2) frame "$op" "$len" "$out" ;;
        9) frame 10 "$len" "$out" ;;
        8)
            code=1005
            [ -n "$second" ] && code=$((first * 256 + second))
            [ -n "$WS_CLOSE_LOG" ] && echo "$code" >> "$WS_CLOSE_LOG"
            if [ "$code" = 1005 ]; then frame 8 0 ""; else frame 8 2 "\\$(printf %03o $first)\\$(printf %03o $second)"; fi
            exit 0 ;;
        *) ;;
    esac
done
