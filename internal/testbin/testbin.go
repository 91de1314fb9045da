// Package testbin builds the binaries that black-box tests run: uno itself, exactly as it ships
// (static, CGO_ENABLED=0), and the test program that plays "the program" under it.
//
// It is imported only by tests. Set UNO_BIN to test a binary built elsewhere (make test does,
// so every package tests the same file).
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// LDFlags are the linker flags uno and testprog are built with, as the Makefile builds uno: async
// preemption off, and the mark that tells uno so (see signals.PreemptOff).
const LDFlags = "-X=runtime.godebugDefault=asyncpreemptoff=1 -X=github.com/uno-init/uno/internal/signals.preemptOffLinked=1"

var (
	mu     sync.Mutex
	built  = map[string]string{}
	tmpDir string
)

// Uno returns the path of the uno binary under test.
func Uno(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("UNO_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			tb.Fatalf("UNO_BIN: %v", err)
		}
		return abs
	}
	return build(tb, "cmd/uno", "uno")
}

// TestProg returns the path of test/testprog, the scriptable program tests run under uno.
func TestProg(tb testing.TB) string {
	tb.Helper()
	return build(tb, "test/testprog", "testprog")
}

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func build(tb testing.TB, pkg, name string) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	if tmpDir == "" {
		// Not tb.TempDir: the binary outlives the first test that asked for it.
		d, err := os.MkdirTemp("", "uno-testbin-")
		if err != nil {
			tb.Fatal(err)
		}
		tmpDir = d
	}
	out := filepath.Join(tmpDir, name)
	// Linked as the Makefile links uno: see cmd/uno/main.go on async preemption.
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", LDFlags, "-o", out, "./"+pkg)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	built[pkg] = out
	return out
}
