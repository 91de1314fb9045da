package peers

// The randomized start-up test: signals sent at random moments from just after an init's exec
// until well after its program is up, on a machine whose CPUs are busy, must all reach the
// program, and none may kill the init. Real tini is the reference that shows the test is fair.

import (
	"bufio"
	"fmt"
	"math/rand/v2"
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
	"github.com/uno-init/uno/internal/testkit"
)

const (
	signalsPerInit = 1000 // half with the caller blocking them, half not
	perRound       = 20   // per round: distinct, so that none can coalesce with another
	afterReady     = 50 * time.Millisecond
)

// startupSignals are the catchable signals the test sends, real-time ones included. With the
// caller blocking them (blocked), HUP is left out: the Go runtime unblocks it at start-up, so
// uno cannot pass a caller's block on HUP to its program (a documented difference). Without,
// WINCH is left out: one forwarded before the program has its handler is discarded by its
// default action, under any init; every other one ends the program, which the test accepts.
func startupSignals(blocked bool) []syscall.Signal {
	list := []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGVTALRM,
		syscall.SIGIO, syscall.SIGPWR}
	if blocked {
		list = append(list, syscall.SIGWINCH)
	} else {
		list = append(list, syscall.SIGHUP)
	}
	for sig := rtmin1; sig <= rtmax; sig++ {
		list = append(list, sig)
	}
	return list
}

func TestRandomStartupSignals(t *testing.T) {
	recorder := buildRecorder(t)
	testprog, uno := testbin.TestProg(t), testbin.Uno(t)
	needPeer(t, "/usr/bin/tini")
	stopHogs := startHogs(t, 2)
	defer stopHogs()
	inits := []struct {
		name, path, argv0 string
		args              []string
		// unblocks: the init unblocks every signal for its program, as dumb-init does, so a
		// caller's block cannot reach the program and only "nothing blocked" applies.
		unblocks bool
	}{
		{"tini", "/usr/bin/tini", "tini", []string{"-s", "--"}, false},
		{"uno as tini", uno, "tini", []string{"-s", "--"}, false},
		{"uno", uno, "uno", []string{"--no-socket", "--grace", "0", "--"}, false},
		// The other personalities take the same early registration (issue 19's review): each
		// path through cli.Main's Wait, dumb-init's extra catch of what its caller ignored
		// included.
		{"uno as dumb-init", uno, "dumb-init", nil, true},
		{"uno as docker-init", uno, "docker-init", []string{"--"}, false},
		{"uno as catatonit", uno, "catatonit", []string{"--"}, false},
	}
	for _, in := range inits {
		for _, blocked := range []bool{true, false} {
			if blocked && in.unblocks {
				continue
			}
			name := in.name + map[bool]string{true: ", caller blocks them", false: ", nothing blocked"}[blocked]
			t.Run(name, func(t *testing.T) {
				st := &startupStats{}
				// The program's start, learnt from the last rounds: the window ends afterReady
				// after it.
				recent := []time.Duration{20 * time.Millisecond}
				for round := 0; st.sent < signalsPerInit/2 && !t.Failed(); round++ {
					est := slices.Max(recent)
					s := startupRound{t: t, testprog: testprog, recorder: recorder, path: in.path,
						argv0: in.argv0, args: in.args, blocked: blocked, window: est + afterReady}
					recent = append(recent, s.run(st))
					if len(recent) > 5 {
						recent = recent[1:]
					}
				}
				t.Logf("%s: %d signals in %d rounds, %d before the program was ready, %d ended the program "+
					"(no block)", name, st.sent, st.rounds, st.early, st.deaths)
			})
		}
	}
}

type startupStats struct{ sent, rounds, early, deaths int }

// startupRound is one start of an init with signals on the way.
type startupRound struct {
	t                        *testing.T
	testprog, recorder, path string
	argv0                    string
	args                     []string
	blocked                  bool
	window                   time.Duration
}

// run starts the init, sends perRound distinct signals at random moments within window, checks
// they all arrived, and returns how long the program took to become ready after the window's
// start.
func (s *startupRound) run(st *startupStats) (ready time.Duration) {
	t := s.t
	set := startupSignals(s.blocked)
	rand.Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
	plan := set[:perRound]
	// With the caller blocking them, a signal may come from 1 ms after the init's exec: it
	// waits, blocked, in whichever process has it until that one catches it. Without, the
	// signals start once the init has forked its program: before that, tini dies of one while
	// its dynamic loader runs, and uno of one before the Go runtime has its handlers (the
	// documented window that no init can close); from the fork on, the init has them all.
	from := time.Millisecond
	if !s.blocked {
		from = 0
	}
	offsets := make([]time.Duration, len(plan))
	for i := range offsets {
		offsets[i] = from + rand.N(s.window-from)
	}
	// The sends go in time order; which signal goes when is the shuffle's.
	sortDurations(offsets)

	log := filepath.Join(t.TempDir(), "log")
	args := []string{"launch"}
	if s.blocked {
		args = append(args, "-block", strconv.FormatUint(sigs(set...), 16))
	}
	args = append(args, "--", s.path, s.argv0)
	args = append(append(args, s.args...), s.recorder, log)
	cmd := exec.Command(s.testprog, args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr testkit.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	readyAt := make(chan time.Time, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				readyAt <- time.Now()
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	pid := cmd.Process.Pid
	t0 := awaitExe(pid, s.path, exited)
	if !s.blocked {
		t0 = awaitChild(pid, exited)
	}
	st.rounds++

	var sent []syscall.Signal
	for i, sig := range plan {
		time.Sleep(time.Until(t0.Add(offsets[i])))
		if syscall.Kill(pid, sig) != nil {
			break
		}
		// A kill that succeeded was sent, even if the init is gone by the next line: the
		// program may die of it at once (then the exit status says so).
		sent = append(sent, sig)
		if isDone(exited) {
			break
		}
	}
	st.sent += len(sent)
	var readyTime time.Time
	select {
	case readyTime = <-readyAt:
		ready = readyTime.Sub(t0)
		for i := range sent {
			if offsets[i] < ready {
				st.early++
			}
		}
	case <-exited:
	case <-time.After(deadline):
		t.Fatalf("%s: program never ready", s.argv0)
	}

	// Everything sent must arrive, unless the program is gone (then the exit says of what).
	received := func() map[syscall.Signal]bool {
		data, _ := os.ReadFile(log)
		got := map[syscall.Signal]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			if n, err := strconv.Atoi(strings.TrimPrefix(line, "got ")); err == nil {
				got[syscall.Signal(n)] = true
			}
		}
		return got
	}
	end := time.Now().Add(deadline)
	for !isDone(exited) && time.Now().Before(end) && len(missing(sent, received())) > 0 {
		time.Sleep(time.Millisecond)
	}
	lost := missing(sent, received())
	if !isDone(exited) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(deadline):
			t.Fatalf("%s still running %v after SIGTERM; stderr:\n%s", s.argv0, deadline, stderr.String())
		}
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	desc := fmt.Sprintf("%s %v (sent %s at %s; program ready at %v)", s.argv0, s.args, names(sent),
		offsetList(offsets[:len(sent)]), ready)
	switch {
	case ws.Signaled():
		t.Errorf("%s: the init died of %s; stderr:\n%s", desc, sigName(ws.Signal()), stderr.String())
	case ws.ExitStatus() == 0:
		if len(lost) > 0 {
			t.Errorf("%s: the program never got %s; stderr:\n%s", desc, names(lost), stderr.String())
		}
	case !s.blocked && ws.ExitStatus() > 128 && contains(names(sent), sigName(syscall.Signal(ws.ExitStatus()-128))):
		// Forwarded before the program had its handler: it died of one it was sent, as under tini.
		st.deaths++
	default:
		t.Errorf("%s: the init exited %d, the program got %v; stderr:\n%s", desc, ws.ExitStatus(),
			names(sentOnly(sent, received())), stderr.String())
	}
	return ready
}

func missing(sent []syscall.Signal, got map[syscall.Signal]bool) []syscall.Signal {
	var out []syscall.Signal
	for _, sig := range sent {
		if !got[sig] {
			out = append(out, sig)
		}
	}
	return out
}

func sentOnly(sent []syscall.Signal, got map[syscall.Signal]bool) []syscall.Signal {
	var out []syscall.Signal
	for _, sig := range sent {
		if got[sig] {
			out = append(out, sig)
		}
	}
	return out
}

func names(list []syscall.Signal) []string {
	out := make([]string, len(list))
	for i, sig := range list {
		out[i] = sigName(sig)
	}
	return out
}

func offsetList(list []time.Duration) string {
	out := make([]string, len(list))
	for i, d := range list {
		out[i] = d.Round(100 * time.Microsecond).String()
	}
	return strings.Join(out, " ")
}

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// awaitExe returns the moment pid (the launcher) became the init at path, as closely as a tight
// poll of /proc/PID/exe tells it.
func awaitExe(pid int, path string, exited chan struct{}) time.Time {
	want, _ := filepath.EvalSymlinks(path)
	link := fmt.Sprintf("/proc/%d/exe", pid)
	for end := time.Now().Add(deadline); time.Now().Before(end) && !isDone(exited); {
		if exe, _ := os.Readlink(link); exe == want {
			break
		}
	}
	return time.Now()
}

// awaitChild returns the moment pid has forked its program.
func awaitChild(pid int, exited chan struct{}) time.Time {
	for end := time.Now().Add(deadline); time.Now().Before(end) && !isDone(exited); {
		if len(children(pid)) > 0 {
			break
		}
	}
	return time.Now()
}

// buildRecorder compiles testdata/recorder.c, static so that it starts as fast as it can.
func buildRecorder(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed (make test-deps installs it): %v", err)
	}
	out := filepath.Join(t.TempDir(), "recorder")
	cmd := exec.Command("gcc", "-O2", "-static", "-Wall", "-o", out, filepath.Join("testdata", "recorder.c"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, msg)
	}
	return out
}

// startHogs starts n shell loops that keep a CPU each busy, and returns what stops them.
func startHogs(t *testing.T, n int) func() {
	var hogs []*exec.Cmd
	for i := 0; i < n; i++ {
		h := exec.Command("sh", "-c", "while :; do :; done")
		if err := h.Start(); err != nil {
			t.Fatal(err)
		}
		hogs = append(hogs, h)
	}
	stop := func() {
		for _, h := range hogs {
			if h.ProcessState == nil {
				_ = h.Process.Kill()
				_ = h.Wait()
			}
		}
	}
	t.Cleanup(stop)
	return stop
}
