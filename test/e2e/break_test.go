package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/testbin"
)

// Hostile-user, slow-machine and crashing-program tests: each one tries to make uno crash, hang
// past grace + 500 ms, lose what it promised, leak without bound or kill what it does not own.
// Each guards behaviour that holds; those named "finding N" broke uno before it was fixed.

// exitBudgetSlack is what a test allows past uno's promised exit (grace + 500 ms) for the
// signal's delivery and the test's own wake-up on a loaded 2-core machine. It is not a wait.
const exitBudgetSlack = 500 * time.Millisecond

// awaitExitWithin waits for exited and fails if it comes later than budget after since (or not
// within the deadline at all).
func awaitExitWithin(t *testing.T, exited <-chan struct{}, since time.Time, budget time.Duration, stderr func() string) time.Duration {
	t.Helper()
	select {
	case <-exited:
	case <-time.After(budget + deadline):
		t.Fatalf("uno still running %v after SIGTERM (budget %v)\nstderr: %s", time.Since(since), budget, stderr())
	}
	took := time.Since(since)
	if took > budget+exitBudgetSlack {
		t.Errorf("uno exited %v after SIGTERM: its budget is %v (grace + 500 ms)\nstderr: %s", took.Round(time.Millisecond), budget, stderr())
	}
	return took
}

// TestBreakReloadReAddsServiceStillStopping (finding 1): a reload removes slow, which takes its
// time to stop; a second reload puts slow back, unchanged, before it has exited. uno says "0
// changed, 0 added, 0 removed", but the service keeps its "removed" mark from the first reload
// and is forgotten as soon as its old run ends: the configuration names it, yet it never runs
// again and `uno ctl start slow` says it does not exist. An operator who reverts a bad edit
// quickly (the usual thing to do) loses the service until yet another reload.
func TestBreakReloadReAddsServiceStillStopping(t *testing.T) {
	needRoot(t)
	keep := `
[services.keep]
command = ["sleep", "1000"]
`
	slow := `
[services.slow]
command = ["sh", "-c", 'trap "while [ ! -e @DIR@/go ]; do sleep 0.02; done; exit 0" TERM; echo slow-up >> "$MARKS"; while :; do sleep 0.05; done']
`
	p, marks, socket, cfgPath := startControlled(t, keep+slow)
	dir := filepath.Dir(cfgPath)
	waitMark(t, marks, "slow-up")
	write := func(conf string) {
		t.Helper()
		conf = strings.ReplaceAll(conf, "@DIR@", dir)
		if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(keep)
	if r := runCtl(t, socket, "reload"); r.code != 0 || !strings.Contains(r.stdout, "removed: slow") {
		t.Fatalf("reload without slow: %+v", r)
	}
	if st := statusOf(t, socket)["slow"].State; st != "stopping" {
		t.Fatalf("slow is %q, want stopping (it waits for @DIR@/go)", st)
	}
	write(keep + slow)
	if r := runCtl(t, socket, "reload"); r.code != 0 {
		t.Fatalf("reload with slow back: %+v", r)
	}
	// Let the old run end: slow must then run again, as the configuration says.
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	poll(t, "slow to run again", func() bool {
		st, ok := statusOf(t, socket)["slow"]
		if !ok {
			t.Fatalf("slow is in the configuration but uno forgot it once its old run ended\nstderr: %s", p.stderr.String())
		}
		return st.State == "running"
	})
	if r := runCtl(t, socket, "start", "slow"); r.code != 0 {
		t.Errorf("uno ctl start slow: %+v", r)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestBreakOperatorStopOfMainsDependency (finding 2): the main program depends on every
// essential service, so `uno ctl stop db` takes the main program down with it ("stopped db,
// main"), although `uno ctl stop main` is refused ("it is the container's own life") and an
// operator's stop is documented never to stop the container. The container then runs on with no
// main program, for ever: its exit status was lost and `uno ctl start main` is refused too.
func TestBreakOperatorStopOfMainsDependency(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.db]
command = ["sleep", "1000"]
`, "--", "sh", "-c", `echo main-up >> "$MARKS"; exec sleep 1000`)
	waitMark(t, marks, "main-up")
	main := waitState(t, socket, "main", "running")
	r := runCtl(t, socket, "stop", "db")
	select {
	case <-p.exited:
		return // the container ended with its main program: acceptable
	default:
	}
	// (main.Pid is the namespace's number: the status is what tells.)
	if st := statusOf(t, socket)["main"]; st.State != "running" || st.Pid != main.Pid {
		t.Fatalf("after `uno ctl stop db` (%+v) the main program is %s (pid %d, was %d) while uno runs on\nstderr: %s",
			r, st.State, st.Pid, main.Pid, p.stderr.String())
	}
	if r.code == 0 || !strings.Contains(r.stderr, "the main program depends on db") {
		t.Errorf("uno ctl stop db: %+v, want a refusal naming the main program", r)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}

// TestBreakGraceBudgetWithUnreadStderr (finding 3): whoever reads uno's stderr has stopped (a
// wedged log shipper). The services are stopped at once, then uno waits for their last lines
// until grace + 500 ms, as documented, and then waits one more second for its own queued log
// lines (ulog.Async.Close(time.Second) in internal/cli): it exits at grace + 1.5 s. With
// `grace = "9s"` under Docker's 10 s that is a SIGKILL from the engine instead of a clean exit.
func TestBreakGraceBudgetWithUnreadStderr(t *testing.T) {
	needRoot(t)
	cfgPath, _ := servicesSetup(t, `
[uno]
grace = "1s"

[services.errflood]
command = ["sh", "-c", "exec yes 'a line to stderr' >&2"]
`)
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer errR.Close() // open, never read: writes block, they do not fail
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	cmd := exec.Command(testbin.Uno(t), "-c", cfgPath, "--no-socket")
	cmd.Stdout, cmd.Stderr = devnull, errW
	exited := startWithOutputs(t, cmd)
	errW.Close()
	// Full is when a thread of uno's sleeps in a write to it. (How many bytes a full pipe holds
	// depends on the sizes of the writes: each may take a page of its own.)
	poll(t, "uno to block writing to its full stderr", func() bool { return blockedInPipeWrite(cmd.Process.Pid) })
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	awaitExitWithin(t, exited, start, time.Second+500*time.Millisecond, func() string { return "(unread)" })
}

// TestBreakProbeEndpointHeldConnections (finding 4): anyone who can reach the --http probe
// endpoint (every uid in the container on loopback; the network with --http-public) can open
// connections and send nothing. uno accepts without limit and keeps each for 5 s, one fd each,
// so it runs out of descriptors: it can no longer make a service's output pipes ("cannot set up
// the service's output ... too many open files"), restarts fail, and with the default
// restart_limit an essential service fails for good and the container stops. Here the limit is
// 64 so that 200 connections do it; a container's is higher, the connections needed are not
// bounded by anything uno does.
func TestBreakProbeEndpointHeldConnections(t *testing.T) {
	needRoot(t)
	cfgPath, marks := servicesSetup(t, `
[services.flappy]
command = ["sh", "-c", 'echo run >> "$MARKS"; sleep 0.1']
restart = "always"
restart_delay = "20ms"
restart_delay_max = "20ms"
restart_limit = 0
`)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command("prlimit", "--nofile=64:64", testbin.Uno(t), "-c", cfgPath, "--no-socket", "--http", addr)
	cmd.Env = append(os.Environ(), "MARKS="+marks)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	p := startCmd(t, cmd)
	poll(t, "the probe endpoint", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	runs := func() int { return strings.Count(strings.Join(readMarks(t, marks), " "), "run") }
	waitMark(t, marks, "run")

	// Hold 200 idle connections, dialling again each one uno closes, until the test ends.
	var dialled atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				conn, err := net.DialTimeout("tcp", addr, time.Second)
				dialled.Add(1)
				if err == nil {
					go func() { <-stop; conn.Close() }()
					buf := make([]byte, 1)
					_, _ = conn.Read(buf) // until uno closes it (or the test ends)
				}
				select {
				case <-stop:
					return
				default:
				}
				if err != nil {
					time.Sleep(10 * time.Millisecond) // a refused dial: do not spin
				}
			}
		}()
	}
	// Every holder has dialled at least once (uno answers those past its limit 503 and closes
	// them, and they dial again) before the runs are counted.
	poll(t, "every connection to be dialled", func() bool { return dialled.Load() >= 200 })
	from := runs()
	poll(t, "three more runs of flappy while the connections are held", func() bool {
		if s := p.stderr.String(); strings.Contains(s, "cannot set up the service's output") {
			t.Fatalf("idle probe connections starved uno of descriptors:\n%s", lastLines(s, 10))
		}
		return runs() >= from+3
	})
	p.signal(syscall.SIGTERM)
	p.wait()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// freezerCgroup makes a cgroup v1 freezer (skipping without one) and thaws and removes it at the
// end of the test.
// freezeService freezes, in the freezer cgroup cg, the service whose pid is in the file "pid"
// beside marks, and returns that pid once the cgroup says it is frozen.
func freezeService(t *testing.T, cg, marks string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(filepath.Dir(marks), "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid := atoiT(t, strings.TrimSpace(string(data)))
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cg, "freezer.state"), []byte("FROZEN"), 0o644); err != nil {
		t.Fatal(err)
	}
	poll(t, "the service to be frozen", func() bool {
		state, _ := os.ReadFile(filepath.Join(cg, "freezer.state"))
		return strings.TrimSpace(string(state)) == "FROZEN"
	})
	return pid
}

func freezerCgroup(t *testing.T) string {
	t.Helper()
	root := "/sys/fs/cgroup/freezer"
	if _, err := os.Stat(filepath.Join(root, "freezer.state")); err != nil {
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
			t.Skip("no cgroup v1 freezer at " + root)
		}
	}
	dir := filepath.Join(root, fmt.Sprintf("uno-break-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a freezer cgroup: %v", err)
	}
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0o644)
		data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		end := time.Now().Add(deadline)
		for os.Remove(dir) != nil && time.Now().Before(end) {
			time.Sleep(10 * time.Millisecond)
		}
	})
	return dir
}

// TestBreakFrozenServiceWithinGrace (held): a service frozen by a cgroup freezer sleeps in the
// kernel (state D) and survives SIGKILL until it is thawed: the process a stop can never end. uno
// must still exit within grace + 500 ms, giving it up to the final sweep, and not wait for it.
// As subreaper: a PID 1 that exits cannot finish (the kernel waits for its namespace's frozen
// process), which is the kernel's business, not uno's budget.
func TestBreakFrozenServiceWithinGrace(t *testing.T) {
	needRoot(t)
	cg := freezerCgroup(t)
	p, marks := startServices(t, startOpts{mode: asSubreaper}, `
[uno]
grace = "1s"

[services.frozen]
command = ["sh", "-c", 'echo $$$$ > @DIR@/pid; echo frozen-up >> "$MARKS"; exec sleep 1000']

[services.polite]
command = ["sleep", "1000"]
`)
	waitMark(t, marks, "frozen-up")
	freezeService(t, cg, marks)
	start := time.Now()
	p.signal(syscall.SIGTERM)
	awaitExitWithin(t, p.exited, start, 1500*time.Millisecond, p.stderr.String)
	if !strings.Contains(p.stderr.String(), "survived SIGKILL") {
		t.Errorf("no word about the frozen process:\n%s", p.stderr.String())
	}
}

// TestBreakEscapedStubbornWithinGrace (held): a service starts a child in a session of its own
// (setsid) that ignores SIGTERM, and itself ignores SIGTERM. uno must still exit within grace +
// 500 ms and leave neither behind (as subreaper it owns the escaped one too).
func TestBreakEscapedStubbornWithinGrace(t *testing.T) {
	needRoot(t)
	p, marks := startServices(t, startOpts{mode: asSubreaper}, `
[uno]
grace = "1s"

[services.esc]
command = ["sh", "-c", 'setsid sh -c "trap \"\" TERM; echo \$$$$ > @DIR@/escaped; while :; do sleep 0.05; done" & trap "" TERM; echo $$$$ > @DIR@/leader; echo esc-up >> "$MARKS"; while :; do sleep 0.05; done']
`)
	waitMark(t, marks, "esc-up")
	dir := filepath.Dir(marks)
	var escaped int
	poll(t, "the escaped child's pid", func() bool {
		data, err := os.ReadFile(filepath.Join(dir, "escaped"))
		if err != nil || !strings.HasSuffix(string(data), "\n") {
			return false
		}
		escaped = atoiT(t, strings.TrimSpace(string(data)))
		return true
	})
	if sid, _ := unix.Getsid(escaped); sid != escaped {
		t.Fatalf("child %d is not in a session of its own (sid %d)", escaped, sid)
	}
	start := time.Now()
	p.signal(syscall.SIGTERM)
	awaitExitWithin(t, p.exited, start, 1500*time.Millisecond, p.stderr.String)
	if alive(escaped) {
		_ = syscall.Kill(escaped, syscall.SIGKILL)
		t.Errorf("the escaped child %d outlived uno\nstderr: %s", escaped, p.stderr.String())
	}
}

// TestBreakIdleClientsDoNotDelayExit (held): a control client that connects and never sends, one
// that sends half a request, `uno ctl logs -f` that never reads while the service floods, and a
// probe client that never sends: none may keep uno past grace + 500 ms once it is told to stop.
func TestBreakIdleClientsDoNotDelayExit(t *testing.T) {
	needRoot(t)
	socket := filepath.Join(socketDir(t), "uno.sock")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[uno]
grace = "1s"

[services.flood]
command = ["sh", "-c", 'echo flood-up >> "$MARKS"; exec yes "a line for a follower that never reads"']
`, "--socket", socket, "--http", addr)
	go func() {
		for range p.lines { // the flood's output is read, so that uno never waits on it
		}
	}()
	waitMark(t, marks, "flood-up")
	poll(t, "the control socket", func() bool { _, err := os.Stat(socket); return err == nil })
	poll(t, "the probe endpoint", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func(network, address string, send string) {
		t.Helper()
		c, err := net.Dial(network, address)
		if err != nil {
			t.Fatal(err)
		}
		if send != "" {
			if _, err := c.Write([]byte(send)); err != nil {
				t.Fatal(err)
			}
		}
		conns = append(conns, c)
	}
	dial("unix", socket, "")
	dial("unix", socket, `{"v":1,"cmd":"sta`)
	dial("unix", socket, `{"v":1,"cmd":"logs","names":["flood"],"lines":1000,"follow":true}`+"\n")
	dial("tcp", addr, "")
	dial("tcp", addr, "GET /status HTTP/1.1\r\n")
	// The follower's socket buffers fill: uno is blocked writing to it.
	follower := conns[2].(*net.UnixConn)
	poll(t, "the follower's stream to back up", func() bool {
		// Not read by us: what uno has queued shows in our receive queue.
		n, err := unix.IoctlGetInt(fdOf(t, follower), unix.TIOCINQ)
		return err == nil && n > 8<<10 // small writes: the queue is full at a few KiB of data
	})
	start := time.Now()
	p.signal(syscall.SIGTERM)
	// The flood's output goes to the test's stdout reader, which reads: no wait on output.
	awaitExitWithin(t, p.exited, start, 1500*time.Millisecond, p.stderr.String)
}

func fdOf(t *testing.T, c *net.UnixConn) int {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	_ = raw.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// TestBreakReloadEnvFileFIFO (finding 5): a configuration whose env_file (or a services.d file,
// or the file itself) is a FIFO, a device or any file without an end. Loading reads it with
// os.ReadFile, without a bound and on the supervisor's own goroutine during a reload: a FIFO
// nobody writes blocks that goroutine for ever, so uno no longer acts on SIGTERM (or anything
// else) and the engine has to SIGKILL it; /dev/zero grows uno's memory until the OOM killer
// comes (250 MB in 3 s for `uno check`). A reload of a bad file must change nothing, promptly.
func TestBreakReloadEnvFileFIFO(t *testing.T) {
	needRoot(t)
	conf := `
[uno]
grace = "1s"

[services.app]
command = ["sh", "-c", 'echo app-up >> "$MARKS"; exec sleep 1000']
`
	p, marks, socket, cfgPath := startControlled(t, conf)
	waitMark(t, marks, "app-up")
	fifo := filepath.Join(filepath.Dir(cfgPath), "app.env")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, the FIFO gets a writer at the end, so that nothing stays blocked on it.
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(conf, "exec sleep 1000']", "exec sleep 1000']\nenv_file = \"app.env\"", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	reload := exec.Command(testbin.Uno(t), "ctl", "--socket", socket, "reload")
	if err := reload.Start(); err != nil {
		t.Fatal(err)
	}
	reloaded := make(chan struct{})
	go func() { _ = reload.Wait(); close(reloaded) }()
	t.Cleanup(func() { _ = reload.Process.Kill(); <-reloaded })
	// Wait until the reload is answered, or a thread of uno sits in open(2) on the FIFO.
	unoPid := p.cmd.Process.Pid
	poll(t, "the reload to be answered or to block in open", func() bool {
		select {
		case <-reloaded:
			return true
		default:
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", unoPid))
		for _, task := range tasks {
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/syscall", unoPid, task.Name()))
			if strings.HasPrefix(string(data), strconv.Itoa(unix.SYS_OPENAT)+" ") {
				return true
			}
		}
		return false
	})
	start := time.Now()
	p.signal(syscall.SIGTERM)
	awaitExitWithin(t, p.exited, start, 1500*time.Millisecond, p.stderr.String)
}

// TestBreakReloadAddsFirstNotifyService (finding 6): the notify sockets' private directory is
// made at start only when some service uses `ready = { notify = true }`. A reload that adds the
// first such service gets a socket path relative to nothing: NOTIFY_SOCKET=NAME.sock, made in
// uno's own directory (/ once it runs) and looked up by the service in its working_dir. The
// service cannot report ready, fails, and being essential (the default) takes the whole
// container down, all because of a reload that was accepted.
func TestBreakReloadAddsFirstNotifyService(t *testing.T) {
	needRoot(t)
	conf := `
[services.app]
command = ["sh", "-c", 'echo app-up >> "$MARKS"; exec sleep 1000']
`
	p, marks, socket, cfgPath := startControlled(t, conf)
	waitMark(t, marks, "app-up")
	added := conf + `
[services.n]
command = ["sh", "-c", 'echo "notify-socket $$NOTIFY_SOCKET" >> "$MARKS"; exec @TESTPROG@ notify "$MARKS"']
ready = { notify = true, timeout = "20s" }
`
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(added, "@TESTPROG@", testbin.TestProg(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCtl(t, socket, "reload"); r.code != 0 {
		t.Fatalf("reload: %+v", r)
	}
	poll(t, "n to be ready", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("uno exited after the reload added n\nmarks: %q\nstderr: %s", readMarks(t, marks), p.stderr.String())
		default:
		}
		st, ok := statusOf(t, socket)["n"]
		if ok && (st.State == "failed" || st.State == "backoff") {
			t.Fatalf("n is %s after the reload\nmarks: %q\nstderr: %s", st.State, readMarks(t, marks), p.stderr.String())
		}
		return ok && st.State == "running"
	})
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// blockedInPipeWrite reports whether a thread of pid sleeps in the kernel's pipe_write
// (anon_pipe_write on newer kernels).
func blockedInPipeWrite(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	for _, task := range tasks {
		if data, err := os.ReadFile(task); err == nil && strings.HasSuffix(string(data), "pipe_write") {
			return true
		}
	}
	return false
}
