package peers

// What the program inherited, as the report script sees it, turned into fields that do not
// depend on pids, inode numbers or temporary paths.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// reportScript runs as the program (sh -c SCRIPT report DIR). It is a shell script, not Go: the
// Go runtime changes its own signal mask and dispositions before main runs, so a Go program
// cannot see what it was given. dash changes none of them when not interactive. It reads its own
// /proc entries (a fresh /proc in a new PID namespace, see testprog launch) and lists its fds
// from a subshell (so that none of its own pipes shows), writes DIR/report, writes one marked
// line to stdout and one to stderr, then waits for the test to write to DIR/fifo how it should
// end: "exit N" or "kill SIG" (a kill that does not kill ends with 0).
const reportScript = `d=$1
me=$$
read -r x x x ppid pgrp sid tty tpgid x < /proc/$me/stat
read -r x x x x ipgrp isid itty x < /proc/$ppid/stat
sigs=$(grep -E '^Sig(Blk|Ign|Cgt):' /proc/$me/status)
(exec ls -l /proc/$me/fd/ > "$d/fds")
cwd=$(readlink /proc/$me/cwd)
( sleep 1000 & echo $! > "$d/orphan" )
read -r o < "$d/orphan"
read -r x x x oppid x < /proc/$o/stat
kill -9 $o
{
	echo "me $me"; echo "ppid $ppid"; echo "pgrp $pgrp"; echo "sid $sid"; echo "tty $tty"
	echo "tpgid $tpgid"; echo "ipgrp $ipgrp"; echo "isid $isid"; echo "itty $itty"
	echo "oppid $oppid"; echo "cwd $cwd"
	echo "$sigs"
	sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)$/fd \1 \2/p' "$d/fds"
	env | sed 's/^/env /'
} > "$d/report.tmp"
echo "P|stdout line"
echo "P|stderr line" >&2
mv "$d/report.tmp" "$d/report"
read -r cmd < "$d/fifo"
case $cmd in
exit*) exit ${cmd#exit } ;;
kill*) kill -s ${cmd#kill } $me; exit 0 ;;
esac
`

// parseReport turns the report into fields.
func parseReport(o obs, data, dir string) {
	raw := map[string]string{}
	var fds, env []string
	for _, line := range strings.Split(data, "\n") {
		key, val, _ := strings.Cut(strings.Replace(line, "\t", " ", 1), " ")
		switch key {
		case "fd":
			n, target, _ := strings.Cut(val, " ")
			fds = append(fds, n+":"+normFD(target, dir))
		case "env":
			env = append(env, val)
		case "SigBlk:", "SigIgn:", "SigCgt:":
			o["program "+strings.TrimSuffix(key, ":")] = sigset(strings.TrimSpace(val))
		default:
			raw[key] = val
		}
	}
	rel := func(v string) string {
		switch v {
		case raw["me"]:
			return "program"
		case raw["ppid"]:
			return "init"
		case raw["ipgrp"]:
			return "init's group"
		case raw["isid"]:
			return "init's session"
		case "0":
			return "0 (outside the namespace)"
		case "-1":
			return "none"
		}
		return "other"
	}
	o["program parent"] = rel(raw["ppid"])
	o["program pgrp"] = rel(raw["pgrp"])
	o["program sid"] = rel(raw["sid"])
	o["program foreground"] = rel(raw["tpgid"])
	switch raw["tty"] {
	case "0":
		o["program tty"] = "none"
	case raw["itty"]:
		o["program tty"] = "init's"
	default:
		o["program tty"] = "other"
	}
	o["orphan's parent"] = rel(raw["oppid"])
	o["program cwd"] = normPath(raw["cwd"], dir)
	sort.Slice(fds, func(i, j int) bool { return fdNum(fds[i]) < fdNum(fds[j]) })
	o["program fds"] = strings.Join(fds, " ")
	// LISTEN_PID on its own: catatonit rewrites it, and the rest of the environment is long.
	var rest []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "LISTEN_PID="); ok {
			o["program LISTEN_PID"] = rel(v)
			continue
		}
		rest = append(rest, normPath(kv, dir))
	}
	sort.Strings(rest)
	o["program env"] = strings.Join(rest, "\n")
}

func fdNum(s string) int {
	n, _, _ := strings.Cut(s, ":")
	v, _ := strconv.Atoi(n)
	return v
}

// normFD names an fd's target without inode numbers or pids.
func normFD(target, dir string) string {
	switch {
	case strings.HasPrefix(target, "pipe:"):
		return "pipe"
	case strings.HasPrefix(target, "socket:"):
		return "socket"
	case strings.HasPrefix(target, "/dev/pts/"):
		return "pty"
	case strings.HasPrefix(target, "/proc/"):
		return "/proc/..."
	}
	return normPath(target, dir)
}

// normPath replaces the run's temporary directory, which differs between runs.
func normPath(s, dir string) string { return strings.ReplaceAll(s, dir, "$DIR") }

// sigset writes a /proc signal set as the names in it, "-" for none.
func sigset(hex string) string {
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return hex
	}
	var names []string
	for sig := 1; sig <= 64; sig++ {
		if sig == 32 || sig == 33 {
			// glibc's own (thread cancellation, setxid): no init touches them, so their state is
			// whatever started the test (some CI shells ignore 32), the same for uno and the peer.
			continue
		}
		if v&(1<<(sig-1)) != 0 {
			names = append(names, sigName(syscall.Signal(sig)))
		}
	}
	if names == nil {
		return "-"
	}
	return strings.Join(names, ",")
}

// sigName is a signal's short name: USR1, RTMIN+1 (glibc's numbering: 34 is SIGRTMIN).
func sigName(sig syscall.Signal) string {
	if sig >= 34 {
		return fmt.Sprintf("RTMIN+%d", int(sig)-34)
	}
	return strings.TrimPrefix(unix.SignalName(sig), "SIG")
}

// sigs builds a signal set from signals.
func sigs(list ...syscall.Signal) uint64 {
	var v uint64
	for _, s := range list {
		v |= 1 << (s - 1)
	}
	return v
}
