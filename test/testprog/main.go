// Command testprog plays "the program" under uno in black-box tests: it reports the signals it
// receives, exits or dies as asked, leaves orphans and leftovers behind, and shows the signal
// mask, ignored set, process group and session it was started with.
//
// Every line it writes to stdout starts with its pid, so tests can tell several instances apart:
// "PID ready", "PID got N", "PID status ...".
//
// It must be linked like uno, with async preemption off (internal/testbin does), or the runtime's
// own SIGURG would show up as received.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const usage = `usage: testprog COMMAND [args]
  signals [EXITSIG]   print "PID got N" for every catchable signal; exit 0 on EXITSIG (default 15)
  exit CODE           exit with CODE
  orphans N           start N short-lived children, printing "PID forked K" every 100, then
                      "PID orphaned N", and exit without waiting for them
  leftovers DIR       leave a child that finishes DIR/finished after SIGTERM, and one that
                      ignores SIGTERM; print their pids, then exit 7
  trap-term FILE      (leftovers) on SIGTERM write FILE after 300ms, then exit 0
  ignore-term         (leftovers) ignore SIGTERM and sleep
  status              print signal mask, ignored signals, pgid, sid and foreground group
  flood N TAG         write N lines "TAG SEQ payload" to stdout as fast as it can, and the
                      same count of lines "TAG SEQ err" to stderr every 100th line
  serve-health ADDR MARKS HANG
                      answer HTTP on ADDR with 200, or, while the file HANG exists, never;
                      append "serving" to MARKS once listening
  watchdog MARKS      send WATCHDOG=1 to $NOTIFY_SOCKET every $WATCHDOG_USEC/4 until MARKS.stop
                      exists, WATCHDOG=trigger once MARKS.trigger does ($FLOOD: a flood first,
                      of $FLOOD_MSG if set)
  notify MARKS        append "notify ready" to MARKS, send READY=1 to $NOTIFY_SOCKET, sleep
  family LOG          catch every signal and append "prog got N" to LOG for each; start a
                      member of its process group that does the same as "member got N"
  launch [OPTS] -- PATH ARGV0 [ARGS]
                      exec PATH (named ARGV0) the way a caller would start an init; OPTS:
                      -block HEX, -ignore HEX (signal sets, bit N-1 for signal N), -fds N
                      (N extra open fds from 3), -listen-pid (LISTEN_PID=own pid), -proc
                      (private mounts and a fresh /proc, for a new PID namespace)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "signals":
		exitOn := 15
		if len(args) > 0 {
			exitOn = atoi(args[0])
		}
		reportSignals(syscall.Signal(exitOn))
	case "exit":
		os.Exit(atoi(args[0]))
	case "orphans":
		makeOrphans(atoi(args[0]))
	case "leftovers":
		leaveLeftovers(args[0])
	case "trap-term":
		trapTerm(args[0])
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		say("ready")
		for {
			time.Sleep(time.Hour)
		}
	case "status":
		printStatus()
	case "flood":
		flood(atoi(args[0]), args[1])
	case "notify":
		notifyReady(args[0])
	case "watchdog":
		watchdog(args[0])
	case "serve-health":
		serveHealth(args[0], args[1], args[2])
	case "family":
		family(args[0], "prog")
	case "member":
		family(args[0], "member")
	case "launch":
		launch(args)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testprog: not a number: %q\n", s)
		os.Exit(2)
	}
	return n
}

// say writes one line to stdout, prefixed with the pid. Unbuffered: the test reads it at once.
func say(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "%d %s\n", os.Getpid(), fmt.Sprintf(format, args...))
}

// reportSignals catches every signal Go lets a program catch (SIGPROF aside, which the runtime
// keeps) and prints each one.
func reportSignals(exitOn syscall.Signal) {
	c := make(chan os.Signal, 128)
	for sig := syscall.Signal(1); sig <= 64; sig++ {
		switch sig {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGPROF, 32, 33, 34:
			continue
		}
		signal.Notify(c, sig)
	}
	say("ready")
	for s := range c {
		sig := s.(syscall.Signal)
		say("got %d", int(sig))
		if sig == exitOn {
			os.Exit(0)
		}
	}
}

// makeOrphans starts n children that exit at once and exits without reaping them: their
// zombies (or the children themselves) are handed to the nearest subreaper or init.
func makeOrphans(n int) {
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	started := 0
	for i := 0; i < n; i++ {
		if _, err := syscall.ForkExec("/bin/true", []string{"true"}, attr); err != nil {
			fmt.Fprintf(os.Stderr, "testprog: fork %d: %v\n", i, err)
			break
		}
		started++
		// Progress for tests that wait on thousands of forks, which take as long as the
		// machine needs.
		if started%100 == 0 {
			say("forked %d", started)
		}
	}
	say("orphaned %d", started)
	os.Exit(0)
}

// leaveLeftovers starts the two kinds of leftover and exits 7 once both are ready.
func leaveLeftovers(dir string) {
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	attr := &syscall.ProcAttr{Files: []uintptr{0, w.Fd(), 2}}
	trapper, err := syscall.ForkExec(self, []string{"testprog", "trap-term", filepath.Join(dir, "finished")}, attr)
	if err != nil {
		panic(err)
	}
	ignorer, err := syscall.ForkExec(self, []string{"testprog", "ignore-term"}, attr)
	if err != nil {
		panic(err)
	}
	w.Close()
	lines := bufio.NewScanner(r)
	for ready := 0; ready < 2 && lines.Scan(); {
		if strings.HasSuffix(lines.Text(), " ready") {
			ready++
		}
	}
	say("trapper %d ignorer %d", trapper, ignorer)
	os.Exit(7)
}

func trapTerm(file string) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	say("ready")
	<-c
	// Work that takes a while after being asked to stop: a sweep that does not wait would cut it.
	time.Sleep(300 * time.Millisecond)
	if err := os.WriteFile(file, []byte("finished\n"), 0o644); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// printStatus prints what the program inherited: "PID status blocked=HEX ignored=HEX pgid=N
// sid=N fg=N" (fg is the terminal's foreground group, -1 without a terminal).
func printStatus() {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		panic(err)
	}
	var blocked, ignored string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "SigBlk:"); ok {
			blocked = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			ignored = strings.TrimSpace(v)
		}
	}
	pgid, _ := unix.Getpgid(0)
	sid, _ := unix.Getsid(0)
	fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	if err != nil {
		fg = -1
	}
	say("status blocked=%s ignored=%s pgid=%d sid=%d fg=%d", blocked, ignored, pgid, sid, fg)
}

// flood writes n numbered lines of varied length, so that a line cut, lost or interleaved by
// whoever multiplexes them shows up as a gap or a malformed line.
func flood(n int, tag string) {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	pad := strings.Repeat("x", 200)
	for i := 0; i < n; i++ {
		fmt.Fprintf(out, "%s %d %s\n", tag, i, pad[:i%len(pad)])
		if i%100 == 0 {
			fmt.Fprintf(os.Stderr, "%s %d err\n", tag, i)
		}
	}
	if err := out.Flush(); err != nil {
		os.Exit(1)
	}
}

// notifyReady speaks the systemd notify protocol the way sd_notify(3) does.
func notifyReady(marks string) {
	appendLine(marks, "notify ready")
	path := os.Getenv("NOTIFY_SOCKET")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		err = unix.Sendto(fd, []byte("STATUS=up\nREADY=1\n"), 0, &unix.SockaddrUnix{Name: path})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testprog: notify %q: %v\n", path, err)
		os.Exit(1)
	}
	for {
		time.Sleep(time.Hour)
	}
}

func appendLine(file, line string) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testprog:", err)
		os.Exit(1)
	}
	fmt.Fprintln(f, line)
	f.Close()
}
