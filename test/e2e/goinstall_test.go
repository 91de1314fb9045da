package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// plainUno builds uno as `go install` would, without the Makefile's linker flags: its runtime
// preempts goroutines with SIGURG. UNO_PLAIN_BIN names such a binary built elsewhere.
func plainUno(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("UNO_PLAIN_BIN"); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), "uno")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/uno")
	cmd.Dir = testbin.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	info, err := exec.Command("go", "version", "-m", out).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, info)
	}
	if strings.Contains(string(info), "asyncpreemptoff") {
		t.Fatalf("a plain build has asyncpreemptoff set:\n%s", info)
	}
	return out
}

// TestPlainBuildForwardsNoRuntimeSIGURG: a uno built by a plain `go build` (as `go install`
// builds it) never passes the Go runtime's own SIGURGs on to its program. A flood of signals
// makes uno allocate (it logs each one it forwards at -v) and so collect garbage (GOGC=1), during
// which the runtime preempts uno's running goroutines with SIGURG. A plain build of the code before
// this test existed forwarded some of those, and the outside SIGURG sent last: its program got
// 2 and 6 SIGURGs in two runs.
func TestPlainBuildForwardsNoRuntimeSIGURG(t *testing.T) {
	if testing.Short() {
		t.Skip("builds uno")
	}
	uno := plainUno(t)
	// GODEBUG as the runtime reads it (issue 19's review): "true" is no number, so the runtime
	// keeps preemption on, and uno must not catch SIGURG either (it did, and forwarded the outside
	// one); asyncpreemptoff=1 turns preemption off, and the outside SIGURG is forwarded, once.
	for _, c := range []struct {
		godebug string
		wantURG int
	}{{"", 0}, {"asyncpreemptoff=true", 0}, {"asyncpreemptoff=1", 1}} {
		t.Run("GODEBUG="+c.godebug, func(t *testing.T) { plainBuildSIGURG(t, uno, c.godebug, c.wantURG) })
	}
}

func plainBuildSIGURG(t *testing.T, uno, godebug string, wantURG int) {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(uno, "-v", "--no-socket", "--", testbin.TestProg(t), "signals")
	// GOGC=1: uno collects garbage after every few kilobytes it allocates, and preempts its
	// running goroutines for each collection.
	cmd.Env = append(env, "GOGC=1")
	if godebug != "" {
		cmd.Env = append(cmd.Env, "GODEBUG="+godebug)
	}
	p := startCmd(t, cmd)
	p.expect(`^\d+ ready$`)
	// Ten floods, each answered before the next: the binary before this test existed leaked a
	// runtime SIGURG in 3 runs of 4 of five floods.
	const floods, flood = 10, 50_000
	for round := range floods {
		for i := range flood {
			if err := syscall.Kill(cmd.Process.Pid, syscall.SIGUSR1); err != nil {
				t.Fatalf("flood %d, after %d signals: %v", round, i, err)
			}
		}
		p.expect(` got 10$`)
	}
	// An outside SIGURG: such a build leaves SIGURG to the runtime, which ignores it (the
	// documented price of a build without the linker flag). A SIGWINCH after it comes out after it
	// at every step (pending signals are delivered lowest first, and os/signal hands them on in
	// that order), so once the program reports the SIGWINCH, a forwarded SIGURG would have been
	// reported before it. The binary before this test existed forwarded it every time.
	p.signal(syscall.SIGURG)
	p.signal(syscall.SIGWINCH)
	p.expect(` got 28$`)
	p.signal(syscall.SIGTERM)
	var usr1, urg int
	p.rest()
	for _, line := range p.seen { // every line, those expect read included
		switch {
		case strings.HasSuffix(line, " got 10"):
			usr1++
		case strings.HasSuffix(line, " got 23"):
			urg++
		}
	}
	p.expectExit(0)
	t.Logf("the program got %d of %d SIGUSR1 (the kernel coalesces them)", usr1, floods*flood)
	if urg != wantURG {
		t.Errorf("the program got %d SIGURG, want %d: the runtime's own preemption signals were forwarded, or the outside one wrongly forwarded or not", urg, wantURG)
	}
	if wantURG == 0 && strings.Contains(p.stderr.String(), "forwarded signal signal=SIGURG") {
		t.Errorf("uno forwarded a SIGURG:\n%s", p.stderr.String())
	}
}
