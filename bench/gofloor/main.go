// Command gofloor is the smallest Go init that keeps uno's rules: every signal caught before the
// program starts and forwarded to it, orphans reaped (as PID 1 or as subreaper), the program's
// exit status returned. It does nothing else: no configuration, no sweep, no log, no socket.
// `make bench` measures it beside uno and the C inits, so that each of uno's figures can be read
// against what Go itself costs: the distance from gofloor to tini is the runtime's, the distance
// from uno to gofloor is uno's.
package main

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 3 || os.Args[1] != "--" {
		os.Stderr.WriteString("usage: gofloor -- PROGRAM [ARG...]\n")
		os.Exit(2)
	}
	// Every signal, before the program exists: the same registrations as uno's (one round trip
	// to the runtime's signal thread each), on a buffer as large as uno's queue.
	sigs := make(chan os.Signal, 1024)
	signal.Notify(sigs)
	if os.Getpid() != 1 {
		if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, 36 /* PR_SET_CHILD_SUBREAPER */, 1, 0); e != 0 {
			os.Exit(1)
		}
	}
	path, err := exec.LookPath(os.Args[2])
	if err != nil {
		os.Stderr.WriteString("gofloor: " + err.Error() + "\n")
		os.Exit(127)
	}
	pid, err := syscall.ForkExec(path, os.Args[2:], &syscall.ProcAttr{
		Env: os.Environ(), Files: []uintptr{0, 1, 2},
		Sys: &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		os.Stderr.WriteString("gofloor: " + err.Error() + "\n")
		os.Exit(126)
	}
	for sig := range sigs {
		s := sig.(syscall.Signal)
		if s != syscall.SIGCHLD {
			syscall.Kill(pid, s)
			continue
		}
		for {
			var ws syscall.WaitStatus
			got, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if got <= 0 || err != nil {
				break
			}
			if got == pid {
				if ws.Signaled() {
					os.Exit(128 + int(ws.Signal()))
				}
				os.Exit(ws.ExitStatus())
			}
		}
	}
}
