package spawn

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/privs"
	"github.com/uno-init/uno/internal/reaper"
)

const shimStopEnv = "UNO_SPAWN_TEST_SHIM_STOP"

// TestStoppedShimDoesNotHoldUpStart (review fe20): Start returns while the shim is stopped
// before its exec, as the supervisor's loop needs (it starts services); continued, the shim runs
// the program, or, if a setting fails, exits with the shim's status and says why on the
// program's stderr. Before: Start waited in the report pipe's read until the shim was continued.
func TestStoppedShimDoesNotHoldUpStart(t *testing.T) {
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	impossible := &privs.Settings{Rlimits: []privs.Rlimit{{Resource: syscall.RLIMIT_NOFILE, Name: "nofile", Soft: 1 << 62}}}
	for _, c := range []struct {
		p    *privs.Settings
		code int
		says string
	}{
		{&privs.Settings{NoNewPrivs: true}, 3, ""},
		{impossible, 1, "uno: cannot start /bin/sh: rlimits.nofile: soft limit 4611686018427387904 is above the hard limit"},
	} {
		stderr.Truncate(0)
		type started struct {
			pid    int
			exited <-chan reaper.Exit
			err    error
		}
		done := make(chan started, 1)
		go func() {
			pid, exited, err := Start(testReaper, Spec{Argv: []string{"/bin/sh", "-c", "exit 3"}, Privileges: c.p,
				Env: []string{shimStopEnv + "=1"}, Stdio: [3]*os.File{nil, nil, stderr}})
			done <- started{pid, exited, err}
		}()
		var s started
		select {
		case s = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%v: Start has not returned 20 s after the shim stopped itself", c.p)
		}
		if s.err != nil {
			t.Fatalf("%v: %v", c.p, s.err)
		}
		if !isStopped(s.pid) {
			t.Errorf("%v: the shim (%d) is not stopped", c.p, s.pid)
		}
		syscall.Kill(s.pid, syscall.SIGCONT)
		select {
		case e := <-s.exited:
			if e.Code() != c.code {
				t.Errorf("%v: continued, ended with %v, want status %d", c.p, e, c.code)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%v: continued, not ended in 20 s", c.p)
		}
		if c.says != "" {
			// The message is written by a goroutine after the shim's report: poll for it.
			end := time.Now().Add(20 * time.Second)
			var b []byte
			for time.Now().Before(end) {
				if b, _ = os.ReadFile(stderr.Name()); strings.Contains(string(b), c.says) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if !strings.Contains(string(b), c.says) {
				t.Errorf("%v: stderr %q, want %q", c.p, b, c.says)
			}
		}
	}
}
