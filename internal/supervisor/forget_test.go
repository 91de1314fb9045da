package supervisor

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/logmux"
	"github.com/uno-init/uno/internal/testkit"
	"github.com/uno-init/uno/internal/ulog/ulogtest"
)

// TestReloadForgetsOutput: a service a reload removed leaves no ring of its output behind, and
// its followers (uno ctl logs -f) are told it is over (issue 13, 3): rings of removed services
// used to stay for as long as uno ran, one per service ever removed.
func TestReloadForgetsOutput(t *testing.T) {
	dir := t.TempDir()
	load := func(name, toml string) *config.Config {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, os.Environ())
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	const a = "[services.a]\ncommand = [\"sleep\", \"1000\"]\n"
	before := load("before.toml", a+"[services.b]\ncommand = [\"sh\", \"-c\", \"echo hello from b; exec sleep 1000\"]\n")
	after := load("after.toml", a)

	mux := logmux.New(io.Discard, io.Discard, logmux.Options{Names: Names(before)})
	sigs := make(chan os.Signal, 4)
	rec := &recorder{}
	var out testkit.Buffer
	sv := newSupervisor(Options{
		Config: before, Log: ulogtest.FromSlog(rec), Stdout: &out, Stderr: &out, RuntimeDir: dir,
		Reaper: sharedReaper(), Signals: sigs, Mux: mux,
		Reload: func() (*config.Config, error) { return after, nil },
	})
	done := make(chan int, 1)
	go func() { done <- sv.run() }()
	defer func() {
		sigs <- syscall.SIGTERM
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("supervisor still running 30s after SIGTERM:\n%s", strings.Join(rec.list(), "\n"))
		}
	}()
	awaitCond(t, "b's line in its ring", func() bool {
		return slices.ContainsFunc(mux.Tail("b", 10), func(l []byte) bool { return string(l) == "hello from b" })
	})
	lines, cancel := mux.Subscribe("b")
	defer cancel()

	sigs <- syscall.SIGHUP
	awaitCond(t, "b to be forgotten", func() bool {
		return !slices.ContainsFunc(sv.snapshot.Load().services, func(s control.ServiceStatus) bool { return s.Name == "b" })
	})
	if got := mux.Tail("b", 10); got != nil {
		t.Errorf("the removed service's ring is still there: %q", got)
	}
	for open := true; open; {
		select {
		case _, open = <-lines:
		default:
			t.Fatal("a follower of the removed service is still following")
		}
	}
}

// awaitCond waits for cond; the bound is for a hang only.
func awaitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 30s", what)
		}
	}
}
