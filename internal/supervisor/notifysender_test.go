package supervisor

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/testkit"
	"github.com/uno-init/uno/internal/ulog/ulogtest"
)

// The notify socket credits READY=1 only to the run its sender belongs to (issue 13, 1). Each
// test sends a READY=1 that must be ignored while the service is starting, waits for uno to say
// so, and only then lets the service send its own: the order of the log lines is the order in
// which the supervisor's goroutine took the two messages.

const forgedEvent = "READY=1 on the notify socket from a process outside the service's run; ignored svc"

// sendPy sends READY=1 to $NOTIFY_SOCKET, then stays until the file named by its argument
// exists: a sender that is still there when uno reads its message can be placed.
const sendPy = `
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
`

func python3Path(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to send notify messages with")
	}
	return p
}

// TestNotifyFromOutsideIgnored: READY=1 sent to a starting service's socket by a process outside
// its run (here the test itself, of the same uid) does not make it ready; its own does.
func TestNotifyFromOutsideIgnored(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "send.py"), sendPy)
	rec, done := startConfigLive(t, dir, `
[services.svc]
command = ["sh", "-c", 'while [ ! -e "$0/go" ]; do sleep 0.01; done; exec "$1" "$0/send.py" "$0/release"', "`+dir+`", "`+python3Path(t)+`"]
ready = { notify = true, timeout = "60s" }
`)
	awaitEvent(t, rec, "service started svc", "")
	socks, _ := filepath.Glob(filepath.Join(dir, "uno-notify-*", "svc.sock"))
	if len(socks) != 1 {
		t.Fatalf("notify sockets %v, want one", socks)
	}
	conn, err := net.Dial("unixgram", socks[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("READY=1")); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	awaitEvent(t, rec, forgedEvent, "service ready svc")

	touchFile(t, dir, "go") // the service's own READY=1, from its process
	awaitEvent(t, rec, "service ready svc", "")
	touchFile(t, dir, "release")
	if code, events := awaitRun(t, rec, done); code != 0 || count(events, forgedEvent) != 1 {
		t.Errorf("status %d, want 0, and one message ignored:\n%s", code, strings.Join(events, "\n"))
	}
}

// TestNotifyFromLeftoverIgnored: a process the previous run left behind (out of its process
// group, so that the end of the run did not stop it) sends READY=1 while the next run starts;
// that run becomes ready only by its own message, here from a descendant of its process in a
// process group of its own (setsid), placed by its ancestors.
func TestNotifyFromLeftoverIgnored(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "send.py"), sendPy)
	writeTestFile(t, filepath.Join(dir, "svc.sh"), `d=$1 py=$2
if [ ! -e "$d/run1" ]; then
	: > "$d/run1"
	setsid sh -c ': > "$0/left"; while [ ! -e "$0/run2" ]; do sleep 0.01; done; exec "$1" "$0/send.py" "$0/release"' "$d" "$py" &
	while [ ! -e "$d/left" ]; do sleep 0.01; done
	exit 1
fi
: > "$d/run2"
while [ ! -e "$d/go" ]; do sleep 0.01; done
setsid "$py" "$d/send.py" "$d/release"
`)
	rec, done := startConfigLive(t, dir, `
[services.svc]
command = ["sh", "`+filepath.Join(dir, "svc.sh")+`", "`+dir+`", "`+python3Path(t)+`"]
ready = { notify = true, timeout = "60s" }
restart = "on-failure"
restart_delay = "1ms"
`)
	awaitEvent(t, rec, forgedEvent, "service ready svc")
	touchFile(t, dir, "go")
	awaitEvent(t, rec, "service ready svc", "")
	touchFile(t, dir, "release")
	if code, events := awaitRun(t, rec, done); code != 0 || count(events, forgedEvent) != 1 || count(events, "service started svc") != 2 {
		t.Errorf("status %d, want 0, two runs and one message ignored:\n%s", code, strings.Join(events, "\n"))
	}
}

// startConfigLive runs a configuration in dir (also the runtime directory) in the background.
// Its services wait for dir/go and dir/release.
func startConfigLive(t *testing.T, dir, toml string) (*recorder, <-chan int) {
	t.Helper()
	path := filepath.Join(dir, "uno.toml")
	writeTestFile(t, path, "[uno]\ngrace = \"5s\"\n"+toml)
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	done, stopped := make(chan int, 1), make(chan struct{})
	go func() {
		var out testkit.Buffer
		done <- Run(Options{Config: cfg, Log: ulogtest.FromSlog(rec), Stdout: &out, Stderr: &out, RuntimeDir: dir, Reaper: sharedReaper()})
		close(stopped)
	}()
	// On a failure too, every process the test started ends, and the supervisor with them,
	// before dir goes: they wait for these files.
	t.Cleanup(func() {
		touchFile(t, dir, "go")
		touchFile(t, dir, "release")
		select {
		case <-stopped:
		case <-time.After(30 * time.Second):
			t.Errorf("supervisor still running 30s after the test")
		}
	})
	return rec, done
}

// awaitEvent waits for want among rec's events, and fails if bad comes first. The bound is for
// a hang only: each wait is for something that happens in well under a second.
func awaitEvent(t *testing.T, rec *recorder, want, bad string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		events := rec.list()
		if bad != "" && slices.Contains(events, bad) {
			t.Fatalf("%q before %q:\n%s", bad, want, strings.Join(events, "\n"))
		}
		if slices.Contains(events, want) {
			return
		}
	}
	t.Fatalf("no %q within 30s:\n%s", want, strings.Join(rec.list(), "\n"))
}

func awaitRun(t *testing.T, rec *recorder, done <-chan int) (int, []string) {
	t.Helper()
	select {
	case code := <-done:
		return code, rec.list()
	case <-time.After(30 * time.Second):
		t.Fatalf("supervisor still running after 30s:\n%s", strings.Join(rec.list(), "\n"))
	}
	return 0, nil
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func touchFile(t *testing.T, dir, name string) { writeTestFile(t, filepath.Join(dir, name), "") }
