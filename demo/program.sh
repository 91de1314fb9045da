# The program of `make demo`: it runs under uno, as PID 2 of its own PID namespace.
say() { echo "program: $*"; }
zombies() { grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null | wc -l; }

say "pid $$; uno is pid $(cut -d' ' -f4 /proc/$$/stat)"
echo
say "1. starting 5 children that fork a short sleep each and exit at once: the sleeps are"
say "   orphaned, re-parented to PID 1, and become zombies when they end"
for i in 1 2 3 4 5; do sh -c 'sleep 0.3 &'; done
sleep 1
say "   zombies left in the namespace: $(zombies) (uno reaped them: see its 'reaped orphan' lines)"
echo
say "2. starting a daemon that needs half a second to shut down cleanly, and not waiting for it"
sh -c 'trap "echo daemon: SIGTERM, flushing; sleep 0.5; echo daemon: flushed, bye; exit 0" TERM
	while :; do sleep 0.1; done' &
trap 'say "got SIGTERM (forwarded by uno); exiting 0 without stopping my daemon"; exit 0' TERM
say "3. sending SIGTERM to PID 1, as docker stop does"
kill -TERM 1
while :; do sleep 0.1; done
