package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/privs"
	"github.com/uno-init/uno/internal/testbin"
)

// Fresh-eyes review fe20 of the privilege shim's signal handling (2298689): a signal sent to a
// service while it is still the shim must do what it would do to the program: kill it, stop it,
// or nothing. Each signal 1-64 is sent at random instants from the shim's fork on, and the
// outcome compared with the same signal sent to the program started directly.

// outcome is what a signal did to a process: "killed by N", "stopped by N", "exited N" or
// "running" (the program runs with nothing pending: the signal was ignored).
type outcome string

// startAsShim starts uno as the privilege shim for `sleep 30`, as internal/spawn does: forked
// from a thread with every signal blocked. stderr is the shim's standard error.
func startAsShim(t *testing.T, uno string, stderr *os.File) int {
	t.Helper()
	args := privs.ShimArgs(&privs.Settings{UmaskSet: true, Umask: 0o022}, nil, 0, -1, "/bin/sleep", []string{"sleep", "30"})
	var p *os.Process
	err := forkBlocked(func() (err error) {
		p, err = os.StartProcess(uno, args, &os.ProcAttr{Files: []*os.File{nil, nil, stderr}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid
	p.Release()
	return pid
}

// await waits for what sig did to pid: an end, a stop, or sleep running with nothing pending.
func await(t *testing.T, pid int) outcome {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG|syscall.WUNTRACED, nil)
		if err != nil {
			t.Fatalf("wait4 %d: %v", pid, err)
		}
		if got == pid {
			switch {
			case ws.Signaled():
				return outcome("killed by " + strconv.Itoa(int(ws.Signal())))
			case ws.Stopped():
				return outcome("stopped by " + strconv.Itoa(int(ws.StopSignal())))
			case ws.Exited():
				return outcome("exited " + strconv.Itoa(ws.ExitStatus()))
			}
		}
		if st := pidStatus(pid); st["Name"] == "sleep" && st["State"] == "S (sleeping)" &&
			isZero(st["SigPnd"]) && isZero(st["ShdPnd"]) {
			return "running"
		}
		time.Sleep(200 * time.Microsecond)
	}
	t.Fatalf("pid %d: neither ended, stopped nor settled in %v: %v", pid, deadline, pidStatus(pid))
	return ""
}

func isZero(hex string) bool { return hex != "" && strings.Trim(hex, "0") == "" }

func pidStatus(pid int) map[string]string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// finish kills pid (continuing it first if stopped) and reaps it.
func finish(pid int) {
	syscall.Kill(pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGCONT)
	var ws syscall.WaitStatus
	for {
		got, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != nil || (got == pid && (ws.Exited() || ws.Signaled())) {
			return
		}
	}
}

// directOutcome is what sig does to `sleep 30` started directly.
func directOutcome(t *testing.T, sig syscall.Signal) outcome {
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "30"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid
	p.Release()
	defer finish(pid)
	for pidStatus(pid)["State"] != "S (sleeping)" {
		time.Sleep(100 * time.Microsecond)
	}
	syscall.Kill(pid, sig)
	return await(t, pid)
}

// afterRestore polls pid until it is the shim past signals.RestoreDefaults (URG alone caught: it
// resets 1 to 64 in turn, so TERM alone done is not the end) and reports true, or false once it
// is the program already.
func afterRestore(pid int) bool {
	for {
		st := pidStatus(pid)
		if st["Name"] == "sleep" || st["Name"] == "" {
			return false
		}
		cgt, err := strconv.ParseUint(st["SigCgt"], 16, 64)
		if err == nil && cgt == 1<<(syscall.SIGURG-1) {
			return true
		}
	}
}

// allSignals are 1-64 but KILL, less those given.
func allSignals(except ...syscall.Signal) []syscall.Signal {
	var sigs []syscall.Signal
	for sig := syscall.Signal(1); sig <= 64; sig++ {
		if sig != syscall.SIGKILL && !slices.Contains(except, sig) {
			sigs = append(sigs, sig)
		}
	}
	return sigs
}

// openFindings skips a test of an open finding, which fails at random, unless asked for.
func openFindings(t *testing.T) {
	if os.Getenv("UNO_FE20_OPEN_FINDINGS") == "" {
		t.Skip("an open finding (/work/notes/fe20-review.md) that fails at random: set UNO_FE20_OPEN_FINDINGS=1")
	}
}

// shimSignalMatrix sends each signal of sigs to the shim, tries times, at an instant
// when(pid) chooses (false: the try missed the shim), and compares what it did with what it does
// to the program started directly; a stopped shim, continued, must go on to run the program.
func shimSignalMatrix(t *testing.T, sigs []syscall.Signal, tries int, when func(pid int) bool) {
	uno := testbin.Uno(t)
	if s := os.Getenv("UNO_FE20_TRIES"); s != "" {
		tries, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("UNO_FE20_SIGNALS"); s != "" {
		// Only these (numbers, comma-separated): to measure one signal's rate.
		sigs = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("UNO_FE20_SIGNALS: %v", err)
			}
			sigs = append(sigs, syscall.Signal(n))
		}
	}
	// No core files from the signals that dump one.
	var noCore, oldCore syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_CORE, &oldCore)
	syscall.Setrlimit(syscall.RLIMIT_CORE, &noCore)
	defer syscall.Setrlimit(syscall.RLIMIT_CORE, &oldCore)
	cpuHogs(t)
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	var report []string
	for _, sig := range sigs {
		want := directOutcome(t, sig)
		counts := map[outcome]int{}
		var firstBad string
		hits := 0
		for i := 0; i < 50*tries && hits < tries; i++ {
			stderr.Truncate(0)
			stderr.Seek(0, 0)
			pid := startAsShim(t, uno, stderr)
			if !when(pid) {
				finish(pid)
				continue
			}
			hits++
			syscall.Kill(pid, sig)
			got := await(t, pid)
			if strings.HasPrefix(string(got), "stopped") {
				syscall.Kill(pid, syscall.SIGCONT)
				if after := await(t, pid); after != "running" {
					got += outcome(", then continued: " + after)
				}
			}
			finish(pid)
			counts[got]++
			if got != want && firstBad == "" {
				b, _ := os.ReadFile(stderr.Name())
				firstBad = fmt.Sprintf("try %d: %s; stderr: %.200q", i, got, b)
			}
		}
		report = append(report, fmt.Sprintf("%2d %-10s direct: %-14s shim (%d hits): %v", int(sig), unix.SignalName(sig), want, hits, counts))
		if hits == 0 {
			t.Errorf("signal %d: no try found the shim at the instant wanted", int(sig))
		}
		if firstBad != "" {
			t.Errorf("signal %d (%s): the program started directly is %s; through the shim %d of %d differ, first %s", int(sig), unix.SignalName(sig), want, hits-counts[want], hits, firstBad)
		}
	}
	t.Logf("signal outcomes:\n%s", strings.Join(report, "\n"))
}

// TestShimSignalLikeProgram: once the shim's init has given the signals their default action
// (signals.RestoreDefaults), every signal 1-64 does to it what it does to the program started
// directly: kill (by that signal), stop, or nothing; a stopped shim continued runs the program.
//
// Found: SEGV, BUS, FPE, ILL and TRAP sent with kill() (uno ctl signal, anyone's kill) kept Go's
// handler, which prints a goroutine dump on the service's stderr and exits 2 (or drops it: a BUS
// once), where the program would be killed by the signal: 13 of 40 tries with two CPU hogs; and
// signal 33 kept Go's per-thread-syscall handler, which drops it: 2 of 10.
//
// SIGSTOP is left to TestShimStopAtExec.
func TestShimSignalLikeProgram(t *testing.T) {
	shimSignalMatrix(t, allSignals(syscall.SIGSTOP), 10, afterRestore)
}

// TestShimStopAtExec: a SIGSTOP sent as the shim execs must stop the program, as it stops one
// started directly. An open finding: another of the shim's threads can take the SIGSTOP and
// begin the group stop, and the exec, which ends every other thread, cancels it (the kernel's
// zap_other_threads clears their pending job control): the program runs, never stopped.
func TestShimStopAtExec(t *testing.T) {
	openFindings(t)
	shimSignalMatrix(t, []syscall.Signal{syscall.SIGSTOP}, 200, afterRestore)
}

// TestShimSignalInInitWindow: the same, at a random instant of the first 4 ms from the fork,
// which includes the Go runtime's start-up before the shim's first init. An open finding (see
// /work/notes/fe20-review.md): until RestoreDefaults, the runtime's own handlers act: QUIT, ABRT,
// SYS, STKFLT and the faults print a goroutine dump and exit 2 instead of killing by the signal,
// and PROF is dropped. It fails at random, so it runs only with UNO_FE20_OPEN_FINDINGS=1.
func TestShimSignalInInitWindow(t *testing.T) {
	openFindings(t)
	shimSignalMatrix(t, allSignals(syscall.SIGSTOP), 20, func(int) bool {
		time.Sleep(time.Duration(rand.IntN(4000)) * time.Microsecond)
		return true
	})
}
