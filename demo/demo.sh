#!/bin/sh
# make demo: uno as PID 1 of a new PID namespace (through a user namespace when not root), running
# demo/program.sh, a shell script that misbehaves the way container entrypoints do.
set -eu
uno=${1:?usage: demo.sh path/to/uno}
here=$(cd "$(dirname "$0")" && pwd)

ns="--pid --fork --mount-proc"
if [ "$(id -u)" != 0 ]; then
	ns="--user --map-root-user $ns"
fi

echo "== uno $("$uno" --version | cut -d' ' -f2) as PID 1: unshare $ns uno -v -w --grace 3s -- sh demo/program.sh"
echo "   (uno's own lines start with 'uno:' and go to stderr; the program's go to stdout)"
echo
status=0
# shellcheck disable=SC2086 # $ns is a list of flags
unshare $ns "$uno" -v -w --grace 3s -- sh "$here/program.sh" 2>&1 || status=$?
echo
echo "== uno exited with status $status: the program's own (it exited 0 after SIGTERM)"
[ "$status" = 0 ] || exit "$status"

echo
echo "== several services: uno -c demo/services.toml -- sh -c '...'  (a main program that works 2s)"
echo "   migrate (oneshot) -> api (ready when its file exists) -> web; flaky restarts with backoff and"
echo "   gives up alone (not essential); when main ends, services stop in reverse order: web, then api"
echo
rm -f /tmp/uno-demo-api-ready
status=0
# shellcheck disable=SC2086
unshare $ns "$uno" -c "$here/services.toml" -- sh -c 'echo main: working; sleep 2; echo main: done' 2>&1 || status=$?
rm -f /tmp/uno-demo-api-ready
echo
echo "== uno exited with status $status: the main program's"
exit "$status"
