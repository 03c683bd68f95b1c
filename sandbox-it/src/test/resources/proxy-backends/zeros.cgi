#!/bin/sh
# 200 MiB of zeros produced on the fly (nothing on disk), with its length announced.
printf 'Content-Type: application/octet-stream\r\nContent-Length: 209715200\r\n\r\n'
exec dd if=/dev/zero bs=65536 count=3200 2>/dev/null
