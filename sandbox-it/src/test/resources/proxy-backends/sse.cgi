#!/bin/sh
# Server-sent events over 3 s: busybox httpd relays CGI output as it is written.
printf 'Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n'
printf 'data: one\n\n'
sleep 3
printf 'data: two\n\n'
