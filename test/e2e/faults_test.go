package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testbin"
)

// Fault injection: uno as PID 1 of a PID namespace inside a cgroup with limits, as a container
// runtime would set them (runc writes the same files), and programs that abuse it.

// pidsCgroup creates a cgroup whose pids.max is limit, on cgroup v1 or v2, and removes it when
// the test ends (once the processes in it are gone).
func pidsCgroup(t *testing.T, limit int) string {
	t.Helper()
	name := fmt.Sprintf("uno-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	dir := filepath.Join("/sys/fs/cgroup/pids", name) // cgroup v1
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err != nil {
		dir = filepath.Join("/sys/fs/cgroup", name) // cgroup v2
		_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+pids"), 0o644)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a cgroup here (%v): the fault tests need a writable cgroup hierarchy with the pids controller", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte(strconv.Itoa(limit)), 0o644); err != nil {
		os.Remove(dir)
		t.Skipf("cannot set pids.max (%v)", err)
	}
	t.Cleanup(func() {
		poll(t, "the cgroup to empty", func() bool { return readInt(t, filepath.Join(dir, "pids.current")) == 0 })
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

func readInt(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// TestForkStorm: a service forks until pids.max (64) refuses. uno keeps answering, keeps
// reaping, turns its own failures to start a process into backoff, and stops everything on
// SIGTERM.
func TestForkStorm(t *testing.T) {
	needRoot(t)
	if _, err := lookPath("python3"); err != nil {
		t.Skip("python3 not installed: make test-deps installs it")
	}
	cg := pidsCgroup(t, 64)
	cfgPath, _ := servicesSetup(t, `
[uno]
grace = "5s"

[services.bomb]
command = ["python3", "-c", "import os, time\nwhile True:\n    try:\n        if os.fork() == 0:\n            time.sleep(1000)\n    except OSError:\n        pass\n"]
essential = false

[services.steady]
command = ["sleep", "1000"]

[services.flapper]
command = ["sh", "-c", "sleep 0.2; exit 1"]
restart = "always"
restart_delay = "50ms"
restart_delay_max = "200ms"
restart_limit = 0
essential = false
`)
	socket := filepath.Join(socketDir(t), "uno.sock")
	// The shell puts itself in the cgroup, then becomes uno: everything below inherits it.
	cmd := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" --socket "$3" -c "$4"`,
		"sh", cg, testbin.Uno(t), socket, cfgPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	p := startCmd(t, cmd)
	poll(t, "the pids limit reached", func() bool { return readInt(t, filepath.Join(cg, "pids.current")) >= 64 })

	// uno answers, and its own attempts to start a process meet the limit and back off.
	poll(t, "a start refused by the limit", func() bool {
		return strings.Contains(p.stderr.String(), "no process could be created")
	})
	for range 20 {
		if r := runCtl(t, socket, "status", "--json"); r.code != 0 {
			t.Fatalf("status during the storm: %d %s", r.code, r.stderr)
		}
	}
	st := statusOf(t, socket)
	if st["steady"].State != "running" || st["bomb"].State != "running" {
		t.Errorf("during the storm: steady %s, bomb %s", st["steady"].State, st["bomb"].State)
	}
	if strings.Contains(p.stderr.String(), "status=126") {
		t.Errorf("a failed fork was reported as not executable:\n%s", p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	if got := readInt(t, filepath.Join(cg, "pids.current")); got != 0 {
		t.Errorf("%d processes left in the cgroup after uno exited", got)
	}
}

// TestSignalFlood: 100,000 signals of mixed kinds at uno while a service restarts over and over:
// uno neither crashes nor gets stuck, still answers, and the last SIGTERM stops everything.
func TestSignalFlood(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[uno]
grace = "5s"

[services.calm]
command = ["sh", "-c", 'trap "" USR1 USR2 WINCH ALRM URG; echo calm-up >> "$MARKS"; while :; do sleep 0.05; done']

[services.flapper]
command = ["sh", "-c", 'trap "" USR1 USR2 WINCH ALRM URG; sleep 0.02']
restart = "always"
restart_delay = "10ms"
restart_delay_max = "20ms"
restart_limit = 0
essential = false
`)
	waitMark(t, marks, "calm-up")
	flood := []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGALRM, syscall.SIGURG, syscall.SIGCONT, syscall.SIGHUP}
	pid := p.cmd.Process.Pid
	start := time.Now()
	for i := range 100_000 {
		if err := syscall.Kill(pid, flood[i%len(flood)]); err != nil {
			t.Fatalf("after %d signals: %v\nstderr: %s", i, err, p.stderr.String())
		}
	}
	t.Logf("100000 signals sent in %v", time.Since(start).Round(time.Millisecond))
	if r := runCtl(t, socket, "status"); r.code != 0 {
		t.Fatalf("status after the flood: %d %s", r.code, r.stderr)
	}
	if st := statusOf(t, socket); st["calm"].State != "running" {
		t.Errorf("calm is %s after the flood", st["calm"].State)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestMisbehavingServices: programs that make stopping hard or checking odd.
func TestMisbehavingServices(t *testing.T) {
	needRoot(t)
	t.Run("stopped itself", func(t *testing.T) {
		// A service that sent itself SIGSTOP cannot act on SIGTERM until continued: uno sends
		// SIGCONT with the stop signal, so the stop is prompt, not a stop_timeout away.
		p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.frozen]
command = ["sh", "-c", 'trap "echo frozen-term >> \"$$MARKS\"; exit 0" TERM; echo frozen-up >> "$MARKS"; kill -STOP $$$$; while :; do sleep 0.05; done']
stop_timeout = "1h"
`)
		waitMark(t, marks, "frozen-up")
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
		if got := readMarks(t, marks); !slices.Contains(got, "frozen-term") {
			t.Errorf("the stopped service never ran its TERM trap: %q", got)
		}
	})
	t.Run("exits before its readiness check passes", func(t *testing.T) {
		p, _ := startServices(t, startOpts{mode: asPID1}, `
[services.quitter]
command = ["sh", "-c", "exit 3"]
ready = { file = "/nonexistent", timeout = "1h" }
`)
		p.expectExit(3)
		if strings.Contains(p.stderr.String(), "did not become ready") {
			t.Errorf("reported as a readiness timeout:\n%s", p.stderr.String())
		}
	})
	t.Run("closes its own stdout and stderr", func(t *testing.T) {
		p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.mute]
command = ["sh", "-c", 'exec >&- 2>&-; echo mute-up >> "$MARKS"; exec sleep 1000']

[services.talker]
command = ["sh", "-c", 'echo still-talking; exec sleep 1000']
`)
		waitMark(t, marks, "mute-up")
		p.expect(`^talker +\| still-talking$`)
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
	})
}

// memoryCgroup creates a cgroup whose memory limit is limit bytes (cgroup v1 or v2).
func memoryCgroup(t *testing.T, limit int64) string {
	t.Helper()
	name := fmt.Sprintf("uno-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	dir, file := filepath.Join("/sys/fs/cgroup/memory", name), "memory.limit_in_bytes"
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil {
		dir, file = filepath.Join("/sys/fs/cgroup", name), "memory.max"
		_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+memory"), 0o644)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a memory cgroup here (%v)", err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		os.Remove(dir)
		t.Skipf("cannot set the memory limit (%v)", err)
	}
	t.Cleanup(func() {
		poll(t, "the memory cgroup to empty", func() bool {
			data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			return strings.TrimSpace(string(data)) == ""
		})
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// TestOOMKilledService: a service the kernel's OOM killer ends (the container's memory limit is
// 64 MiB, it wants 200) is reported as killed by SIGKILL and goes through its restart policy;
// uno, small, is not the victim.
func TestOOMKilledService(t *testing.T) {
	needRoot(t)
	if _, err := lookPath("python3"); err != nil {
		t.Skip("python3 not installed: make test-deps installs it")
	}
	cg := memoryCgroup(t, 64<<20)
	cfgPath, _ := servicesSetup(t, `
[services.hog]
command = ["python3", "-c", "x = bytearray(200 * 1024 * 1024); import time; time.sleep(100)"]
restart = "on-failure"
restart_delay = "50ms"
restart_limit = 2
`)
	cmd := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" --no-socket -c "$3"`, "sh", cg, testbin.Uno(t), cfgPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	p := startCmd(t, cmd)
	p.expectExit(137)
	log := p.stderr.String()
	if n := strings.Count(log, `service exited service=hog`); n != 3 || strings.Count(log, `status="killed by SIGKILL"`) != 3 {
		t.Errorf("want 3 runs killed by SIGKILL (1 + restart_limit 2):\n%s", log)
	}
	if !strings.Contains(log, "restarting too often; giving up service=hog") {
		t.Errorf("no give-up:\n%s", log)
	}
}

// TestMemoryUnderLogFlood: ten services writing as fast as they can do not make uno's own
// memory grow with them: the output goes through fixed buffers and bounded rings.
func TestMemoryUnderLogFlood(t *testing.T) {
	needRoot(t)
	var conf strings.Builder
	for i := range 10 {
		fmt.Fprintf(&conf, "[services.flood%d]\ncommand = [\"@TESTPROG@\", \"flood\", \"300000\", \"f%d\"]\nessential = false\n\n", i, i)
	}
	p, _ := startServices(t, startOpts{mode: asPID1}, conf.String())
	// uno's peak resident memory (VmHWM), read while the lines flow, until uno exits.
	type sample struct{ peak, n int }
	sampled := make(chan sample, 1)
	go func() {
		var s sample
		for {
			select {
			case <-p.exited:
				sampled <- s
				return
			case <-time.After(20 * time.Millisecond):
				if kb, ok := peakRSS(p.cmd.Process.Pid); ok {
					s.peak, s.n = kb, s.n+1
				}
			}
		}
	}()
	lines := len(p.rest())
	p.wait()
	got := <-sampled
	peak, samples := got.peak, got.n
	if samples == 0 {
		t.Fatal("uno's memory was never sampled")
	}
	t.Logf("uno's peak resident memory through %d lines: %d KiB (%d samples)", lines, peak, samples)
	if peak > 64<<10 {
		t.Errorf("uno's peak resident memory was %d KiB, over 64 MiB", peak)
	}
	p.expectExit(0)
	if lines < 3_000_000 {
		t.Errorf("%d lines, want 3,000,000", lines)
	}
}

// peakRSS is a process's VmHWM in KiB.
func peakRSS(pid int) (int, bool) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				kb, err := strconv.Atoi(f[0])
				return kb, err == nil
			}
		}
	}
	return 0, false
}

// TestBrokenStdout: uno's stdout (where services' output goes) has no reader from the start:
// services writing there get EPIPE themselves, uno does not die, and stops cleanly.
func TestBrokenStdout(t *testing.T) {
	needRoot(t)
	cfgPath, marks := servicesSetup(t, `
[services.writer]
command = ["sh", "-c", 'trap "" PIPE; while :; do echo line; echo wrote >> "$MARKS"; sleep 0.01; done']

[services.marker]
command = ["sh", "-c", 'echo marker-up >> "$MARKS"; exec sleep 1000']
`)
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR.Close()
	cmd := exec.Command(testbin.Uno(t), "-c", cfgPath)
	cmd.Env = append(os.Environ(), "MARKS="+marks)
	cmd.Stdout = outW
	exited := startWithOutputs(t, cmd)
	outW.Close()
	waitMark(t, marks, "marker-up")
	// Twenty lines through uno into the closed stdout: uno must still be there.
	poll(t, "twenty writes into the closed stdout", func() bool {
		select {
		case <-exited:
			t.Fatalf("uno exited (status %v) when its stdout had no reader", cmd.ProcessState)
		default:
		}
		n := 0
		for _, m := range readMarks(t, marks) {
			if m == "wrote" {
				n++
			}
		}
		return n >= 20
	})
	stopWithin(t, cmd, exited)
}

// TestServicesEnvironmentExactly: a service's environment is uno's, plus env_file and env, plus
// what user and notify add, and nothing else: no variable of uno's own leaks in.
func TestServicesEnvironmentExactly(t *testing.T) {
	needRoot(t)
	out := socketDir(t) // reachable by nobody, unlike the test's private temp dirs
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	cfgPath, _ := servicesSetup(t, strings.ReplaceAll(`
[services.plain]
command = ["sh", "-c", 'env | sort > "$$0"', "@OUT@/plain.env"]
env = { B = "2" }
essential = false

[services.asuser]
command = ["sh", "-c", 'env | sort > "$$0"', "@OUT@/asuser.env"]
user = "nobody"
essential = false

[services.notified]
command = ["sh", "-c", 'env | sort > "$$0"; exec sleep 1000', "@OUT@/notified.env"]
ready = { notify = true, timeout = "1h" }
essential = false
`, "@OUT@", out))
	dir := out
	cmd := exec.Command(testbin.Uno(t), "--no-socket", "-c", cfgPath)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "A=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	p := startCmd(t, cmd)
	read := func(name string) []string {
		var lines []string
		poll(t, name+"'s environment", func() bool {
			data, err := os.ReadFile(filepath.Join(dir, name+".env"))
			lines = strings.Fields(string(data))
			return err == nil && len(lines) > 0
		})
		return lines
	}
	// sh adds PWD (and dash nothing else); everything else must come from uno's rules.
	without := func(env []string, names ...string) []string {
		return slices.DeleteFunc(env, func(kv string) bool {
			k, _, _ := strings.Cut(kv, "=")
			return slices.Contains(names, k)
		})
	}
	if got, want := without(read("plain"), "PWD"), []string{"A=1", "B=2", "PATH=/usr/bin:/bin"}; !slices.Equal(got, want) {
		t.Errorf("plain: %q, want %q", got, want)
	}
	if got, want := without(read("asuser"), "PWD"), []string{"A=1", "HOME=/nonexistent", "LOGNAME=nobody", "PATH=/usr/bin:/bin", "USER=nobody"}; !slices.Equal(got, want) {
		t.Errorf("asuser: %q, want %q", got, want)
	}
	got := without(read("notified"), "PWD")
	if len(got) != 3 || got[0] != "A=1" || !strings.HasPrefix(got[1], "NOTIFY_SOCKET=/") || got[2] != "PATH=/usr/bin:/bin" {
		t.Errorf("notified: %q, want A, NOTIFY_SOCKET and PATH", got)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// startWithOutputs starts uno's command as PID 1 of a new PID namespace when the test wires its
// outputs itself (the harness's startCmd reads both), and returns a channel closed at its exit.
func startWithOutputs(t *testing.T, cmd *exec.Cmd) <-chan struct{} {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	return exited
}

// stopWithin sends SIGTERM and expects uno to exit 0 within the deadline.
func stopWithin(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(deadline):
		t.Fatal("uno did not stop after SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

// TestServicesBrokenStderr: whoever reads uno's stderr goes away. uno's own writes then fail
// with EPIPE and raise SIGPIPE in uno: that signal is uno's business, not to be passed on to
// every service, and uno goes on supervising and stops cleanly.
func TestServicesBrokenStderr(t *testing.T) {
	needRoot(t)
	cfgPath, marks := servicesSetup(t, `
[services.calm]
command = ["sh", "-c", 'trap "echo calm-got-pipe >> \"$$MARKS\"" PIPE; echo calm-up >> "$MARKS"; while :; do sleep 0.05; done']

[services.chatty]
command = ["sh", "-c", 'echo chatty-run >> "$MARKS"; echo "to stderr" >&2; exit 1']
restart = "always"
restart_delay = "20ms"
restart_delay_max = "40ms"
restart_limit = 0
essential = false
`)
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR.Close() // nobody will ever read uno's stderr
	cmd := exec.Command(testbin.Uno(t), "-c", cfgPath)
	cmd.Env = append(os.Environ(), "MARKS="+marks)
	cmd.Stderr = errW
	exited := startWithOutputs(t, cmd)
	errW.Close()

	// Every run of chatty makes uno log (and the service write) to the broken stderr.
	poll(t, "ten runs of chatty", func() bool {
		n := 0
		for _, m := range readMarks(t, marks) {
			if m == "chatty-run" {
				n++
			}
		}
		return n >= 10
	})
	if got := readMarks(t, marks); slices.Contains(got, "calm-got-pipe") {
		t.Errorf("uno passed its own SIGPIPE on to a service: %q", got)
	}
	stopWithin(t, cmd, exited)
}
