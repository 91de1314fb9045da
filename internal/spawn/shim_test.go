package spawn

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/privs"
	"github.com/uno-init/uno/internal/reaper"
)

// The shim is uno's own binary, /proc/self/exe: in these tests, the test binary, which becomes
// the shim when started under its name as uno's main would.
func TestMain(m *testing.M) {
	if len(os.Args) > 0 && os.Args[0] == privs.ShimName {
		if os.Getenv(shimMaskEnv) != "" {
			// TestShimStartsWithEverySignalBlocked: report the mask the shim started with.
			b, _ := os.ReadFile("/proc/self/status")
			os.Stdout.Write(b)
			os.Exit(0)
		}
		if os.Getenv(shimStopEnv) != "" {
			// TestStoppedShimDoesNotHoldUpStart: stopped before anything, as a SIGSTOP can.
			syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		}
		os.Exit(privs.Shim(os.Args[1:]))
	}
	os.Exit(m.Run())
}

var testReaper = reaper.New(nil)

const shimMaskEnv = "UNO_SPAWN_TEST_SHIM_MASK"

// TestShimStartsWithEverySignalBlocked: the shim is forked with every signal blocked, so that a
// signal the Go runtime would drop during the shim's start-up (USR1, ALRM, the real-time ones)
// waits pending for the program's mask instead (signals.RestoreDefaults has the rest). The
// shim here reports the mask of its main thread, whose runtime unblocked only what it needs.
func TestShimStartsWithEverySignalBlocked(t *testing.T) {
	out, err := os.CreateTemp(t.TempDir(), "status")
	if err != nil {
		t.Fatal(err)
	}
	e, err := run(t, Spec{Argv: []string{"/bin/true"}, Privileges: &privs.Settings{NoNewPrivs: true},
		Env: []string{shimMaskEnv + "=1"}, Stdio: [3]*os.File{nil, out, nil}})
	if err != nil || e.Code() != 0 {
		t.Fatalf("shim: %v, %v", e, err)
	}
	b, _ := os.ReadFile(out.Name())
	var blocked uint64
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigBlk:\t"); ok {
			blocked, err = strconv.ParseUint(v, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGWINCH, 40, 64} {
		if blocked&(1<<(sig-1)) == 0 {
			t.Errorf("%v is not blocked in the shim (SigBlk %016x)", sig, blocked)
		}
	}
	// The program itself starts with the mask it was given: TestShimLeavesNoSignalState (e2e).
}

func run(t testing.TB, spec Spec) (reaper.Exit, error) {
	t.Helper()
	_, exited, err := Start(testReaper, spec)
	if err != nil {
		return reaper.Exit{}, err
	}
	select {
	case e := <-exited:
		return e, nil
	case <-time.After(20 * time.Second):
		t.Fatal("the program did not exit")
	}
	return reaper.Exit{}, nil
}

// TestShimExecErrors: an exec that fails in the shim is the same ExecError, with the same exit
// code and the program's name, as one that fails in ForkExec; a setting that cannot be applied is
// a StartError naming the setting, and nothing of the program runs.
func TestShimExecErrors(t *testing.T) {
	if _, err := reaper.TakeOrphans(); err != nil {
		t.Log(err)
	}
	dir := t.TempDir()
	// Executable and found, but its interpreter is not there: only the exec itself fails.
	noInterp := filepath.Join(dir, "no-interp")
	if err := os.WriteFile(noInterp, []byte("#!/nonexistent/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Not a program at all: exec fails with ENOEXEC, and /bin/sh runs it, as execvp does.
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("exit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	nnp := &privs.Settings{NoNewPrivs: true}
	for _, p := range []*privs.Settings{nil, nnp} {
		_, err := run(t, Spec{Argv: []string{noInterp}, Privileges: p})
		var ee *ExecError
		if !errors.As(err, &ee) || ee.Code != CodeNotFound || ee.Path != noInterp || !errors.Is(err, syscall.ENOENT) {
			t.Errorf("privileges %v: %v, want ExecError 127 for %s", p, err, noInterp)
		}
		e, err := run(t, Spec{Argv: []string{script}, Privileges: p})
		if err != nil || e.Code() != 7 {
			t.Errorf("privileges %v: a script without #!: %v, %v", p, e, err)
		}
	}
	marker := filepath.Join(dir, "ran")
	_, err := run(t, Spec{Argv: []string{"/bin/sh", "-c", "touch " + marker},
		Privileges: &privs.Settings{Rlimits: []privs.Rlimit{{Resource: syscall.RLIMIT_NOFILE, Name: "nofile", Soft: 1 << 62}}}})
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "cannot start /bin/sh: rlimits.nofile: soft limit 4611686018427387904 is above the hard limit") {
		t.Errorf("an impossible limit: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the program ran")
	}
}

// BenchmarkStart is the cost of a start and exit of /bin/true directly and through the shim:
// the uno binary $UNO_BIN if set (make build's), else the test binary.
func BenchmarkStart(b *testing.B) {
	if uno := os.Getenv("UNO_BIN"); uno != "" {
		defer func(old string) { shimBinary = old }(shimBinary)
		shimBinary = uno
	}
	for _, c := range []struct {
		name string
		p    *privs.Settings
	}{{"direct", nil}, {"shim", &privs.Settings{NoNewPrivs: true}}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if e, err := run(b, Spec{Argv: []string{"/bin/true"}, Privileges: c.p}); err != nil || e.Code() != 0 {
					b.Fatal(e, err)
				}
			}
		})
	}
}
