package supervisor

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/logmux"
	"github.com/uno-init/uno/internal/testkit"
	"github.com/uno-init/uno/internal/ulog/ulogtest"
)

// TestMetricsWhileTheStateChanges: the metrics and the status are read from other goroutines
// while health checks, output and restarts change the state (run it with -race): readers see
// whole snapshots, and the counts only grow.
func TestMetricsWhileTheStateChanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "uno.toml")
	if err := os.WriteFile(path, []byte(`
[services.a]
command = ["sh", "-c", "echo out; echo err >&2; exec sleep 1000"]
health = { exec = ["true"], interval = "10ms" }

[services.b]
command = ["sh", "-c", "echo bye; exit 1"]
restart = "always"
restart_delay = "5ms"
restart_limit = 0
essential = false
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 4)
	var out testkit.Buffer
	mux := logmux.New(io.Discard, io.Discard, logmux.Options{Names: Names(cfg)})
	sv := newSupervisor(Options{Config: cfg, Log: ulogtest.FromSlog(&recorder{}), Stdout: &out, Stderr: &out, RuntimeDir: dir,
		Reaper: sharedReaper(), Signals: sigs, Mux: mux, Version: "test"})
	done := make(chan int, 1)
	go func() { done <- sv.run() }()
	awaitCond(t, "the first snapshot", func() bool { return sv.snapshot.Load() != nil })
	b := backend{sv}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				text := string(b.Metrics())
				if !strings.HasPrefix(text, "# HELP uno_build_info") || !strings.Contains(text, `uno_build_info{version="test",`) {
					t.Errorf("metrics: %q", text)
					return
				}
				_, _ = b.Status(nil)
			}
		}()
	}
	var last string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		last = string(b.Metrics())
		if sampleValue(last, `uno_service_restarts_total{service="b"}`) >= 5 && sampleValue(last, `uno_health_check_duration_seconds_count{service="a"}`) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 5 restarts of b and 20 checks of a within 30s:\n%s", last)
		}
	}
	close(stop)
	wg.Wait()
	text := string(b.Metrics())
	for _, want := range []string{`uno_log_lines_total{service="a",stream="stdout"} 1`, `uno_log_lines_total{service="a",stream="stderr"} 1`, `uno_service_healthy{service="a"} 1`} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no %s in:\n%s", want, text)
		}
	}
	sigs <- syscall.SIGTERM
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("supervisor still running 30s after SIGTERM")
	}
}

// sampleValue is series' value in an exposition, -1 if it is not there.
func sampleValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// TestEveryStateIsASeries: uno_service_state is one-hot over stateNames, so every state of the
// transition table must be among them. Issue 18's "scheduled" was not (fresh-eyes review): a
// cron job between its runs had every uno_service_state series at 0.
func TestEveryStateIsASeries(t *testing.T) {
	for _, tr := range Transitions {
		for _, st := range []State{tr.From, tr.To} {
			if !slices.Contains(stateNames, string(st)) {
				t.Errorf("state %q is not among uno_service_state's labels %v", st, stateNames)
			}
		}
	}
}
