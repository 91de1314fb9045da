#!/bin/sh
# A typical entrypoint: it starts a helper in the background and runs the main work without
# `exec`, so the shell stays in between, with no SIGTERM handler. As PID 1 it would ignore
# docker stop for 10 seconds; under uno it stops at once.
echo "worker: starting"
(while :; do sleep 5; echo "helper: still here"; done) &
sleep 100000
