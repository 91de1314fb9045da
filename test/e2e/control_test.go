package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/testbin"
	"github.com/uno-init/uno/internal/testkit"
)

// socketDir returns a directory for a control socket that other uids can traverse (the test's
// temp dirs are private to root), so that permission tests reach uno's own checks.
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "uno-ctl-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ctlResult is one run of `uno ctl`.
type ctlResult struct {
	code           int
	stdout, stderr string
}

func runCtl(t *testing.T, socket string, args ...string) ctlResult {
	t.Helper()
	return runCtlAs(t, nil, socket, args...)
}

func runCtlAs(t *testing.T, cred *syscall.Credential, socket string, args ...string) ctlResult {
	t.Helper()
	uno := testbin.Uno(t)
	if cred != nil {
		uno = reachableUno(t)
	}
	cmd := exec.Command(uno, append([]string{"ctl", "--socket", socket}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("uno ctl %v: %v", args, err)
	}
	return ctlResult{cmd.ProcessState.ExitCode(), out.String(), errOut.String()}
}

// reachableUno is a copy of the uno under test that another uid can run: the binary may sit
// in a directory private to root (a go test build, a checkout in /root).
func reachableUno(t *testing.T) string {
	t.Helper()
	reachableOnce.Do(func() {
		dir, err := os.MkdirTemp("", "uno-ctl-bin-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		var data []byte
		if err == nil {
			data, err = os.ReadFile(testbin.Uno(t))
		}
		if err == nil {
			reachablePath = filepath.Join(dir, "uno")
			err = os.WriteFile(reachablePath, data, 0o755)
		}
		reachableErr = err
	})
	if reachableErr != nil {
		t.Fatal(reachableErr)
	}
	return reachablePath
}

var (
	reachableOnce sync.Once
	reachablePath string
	reachableErr  error
)

// statusOf returns the services as `uno ctl status --json` shows them, by name.
func statusOf(t *testing.T, socket string) map[string]control.ServiceStatus {
	t.Helper()
	r := runCtl(t, socket, "status", "--json")
	if r.code != 0 {
		t.Fatalf("status: %d %s", r.code, r.stderr)
	}
	var doc struct {
		Version  int
		Services []control.ServiceStatus
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	if doc.Version != control.Version {
		t.Errorf("version %d in status --json", doc.Version)
	}
	out := map[string]control.ServiceStatus{}
	for _, s := range doc.Services {
		out[s.Name] = s
	}
	return out
}

// startControlled runs uno -c conf with its control socket in a fresh directory.
func startControlled(t *testing.T, conf string, args ...string) (p *proc, marks, socket, cfgPath string) {
	t.Helper()
	cfgPath, marks = servicesSetup(t, conf)
	socket = filepath.Join(socketDir(t), "run", "uno.sock")
	p = startUno(t, startOpts{mode: asPID1, env: []string{"MARKS=" + marks}},
		append([]string{"-c", cfgPath, "--socket", socket}, args...)...)
	poll(t, "the control socket", func() bool { _, err := os.Stat(socket); return err == nil })
	return p, marks, socket, cfgPath
}

// waitState polls until service name is in state.
func waitState(t *testing.T, socket, name, state string) control.ServiceStatus {
	t.Helper()
	var last control.ServiceStatus
	poll(t, name+" "+state, func() bool {
		last = statusOf(t, socket)[name]
		return last.State == state
	})
	return last
}

func TestControlStatusOfAMixedSet(t *testing.T) {
	needRoot(t)
	p, _, socket, _ := startControlled(t, `
[services.setup]
type = "oneshot"
command = ["true"]

[services.web]
command = ["sh", "-c", 'touch "$MARKS.web"; exec sleep 1000']
ready = { file = "${MARKS}.web", interval = "20ms" }

[services.crashy]
command = ["sh", "-c", "exit 3"]
restart = "on-failure"
restart_delay = "1h"
essential = false

[services.broken]
command = ["sh", "-c", "exit 4"]
essential = false
`)
	waitState(t, socket, "web", "running")
	waitState(t, socket, "crashy", "backoff")
	waitState(t, socket, "broken", "failed")
	st := statusOf(t, socket)
	want := map[string]struct {
		state    string
		ready    bool
		restarts int
		last     string
	}{
		"setup":  {"completed", true, 0, "exit 0"},
		"web":    {"running", true, 0, ""},
		"crashy": {"backoff", false, 1, "exit 3"},
		"broken": {"failed", false, 0, "exit 4"},
	}
	for name, w := range want {
		s := st[name]
		last := ""
		if s.LastExit != nil {
			last = s.LastExit.Description
		}
		if s.State != w.state || s.Ready != w.ready || s.Restarts != w.restarts || last != w.last {
			t.Errorf("%s: %+v, want %+v", name, s, w)
		}
	}
	if st["web"].Pid == 0 || st["web"].UptimeSeconds <= 0 {
		t.Errorf("web: no pid or uptime: %+v", st["web"])
	}
	// The table for people.
	r := runCtl(t, socket, "status")
	if r.code != 0 || !strings.Contains(r.stdout, "NAME") || !strings.Contains(r.stdout, "crashy") {
		t.Errorf("status table: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Non-essential trouble does not make the container unready or unhealthy.
	if r := runCtl(t, socket, "health"); r.code != 0 {
		t.Errorf("health: %d %s", r.code, r.stdout)
	}
	if r := runCtl(t, socket, "status", "nosuch"); r.code != 1 || !strings.Contains(r.stderr, `unknown service "nosuch"`) {
		t.Errorf("unknown name: %d %q", r.code, r.stderr)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func TestControlStartStopRestartSignal(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.db]
command = ["sh", "-c", 'trap "echo db-stop >> \"$$MARKS\"; exit 0" TERM; echo db-start >> "$MARKS"; while :; do sleep 0.05; done']

[services.api]
command = ["sh", "-c", 'trap "echo api-stop >> \"$$MARKS\"; exit 0" TERM; trap "echo api-usr1 >> \"$$MARKS\"" USR1; echo api-start >> "$MARKS"; while :; do sleep 0.05; done']
depends_on = ["db"]

[services.side]
command = ["sleep", "1000"]
`)
	waitMark(t, marks, "api-start")
	before := statusOf(t, socket)

	// restart: a new pid for api; db and side keep theirs.
	if r := runCtl(t, socket, "restart", "api"); r.code != 0 || r.stdout != "restarted api\n" {
		t.Fatalf("restart: %d %q %q", r.code, r.stdout, r.stderr)
	}
	after := statusOf(t, socket)
	if after["api"].Pid == before["api"].Pid || after["api"].State != "running" {
		t.Errorf("api not restarted: %+v -> %+v", before["api"], after["api"])
	}
	for _, name := range []string{"db", "side"} {
		if after[name].Pid != before[name].Pid {
			t.Errorf("%s changed pid on api's restart: %d -> %d", name, before[name].Pid, after[name].Pid)
		}
	}

	// signal: USR1 reaches api's trap.
	if r := runCtl(t, socket, "signal", "USR1", "api"); r.code != 0 {
		t.Fatalf("signal: %d %s", r.code, r.stderr)
	}
	waitMark(t, marks, "api-usr1")

	// stop db: api, which depends on it, stops first; the container goes on.
	if r := runCtl(t, socket, "stop", "db"); r.code != 0 || r.stdout != "stopped db, api\n" {
		t.Fatalf("stop: %d %q %q", r.code, r.stdout, r.stderr)
	}
	got := readMarks(t, marks)
	if i, j := slices.Index(got, "api-stop"), slices.Index(got, "db-stop"); i < 0 || j < i {
		t.Errorf("want api stopped before db: %q", got)
	}
	st := statusOf(t, socket)
	if st["db"].State != "stopped" || st["api"].State != "stopped" || st["side"].State != "running" {
		t.Errorf("after stop: db %s, api %s, side %s", st["db"].State, st["api"].State, st["side"].State)
	}
	if r := runCtl(t, socket, "ready"); r.code != 1 || !strings.Contains(r.stdout, "not ready: db is stopped") {
		t.Errorf("ready after stop: %d %q", r.code, r.stdout)
	}

	// start api: db, which it needs, starts first.
	if r := runCtl(t, socket, "start", "api"); r.code != 0 || r.stdout != "started api\n" {
		t.Fatalf("start: %d %q %q", r.code, r.stdout, r.stderr)
	}
	st = statusOf(t, socket)
	if st["db"].State != "running" || st["api"].State != "running" {
		t.Errorf("after start: db %s, api %s", st["db"].State, st["api"].State)
	}

	// Mistakes get a clear line and status 1.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"stop", "nosuch"}, `unknown service "nosuch"`},
		{[]string{"signal", "NOPE", "api"}, "NOPE"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		r := runCtl(t, socket, c.args...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %d %q, want an error with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func TestControlLogs(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.talker]
command = ["sh", "-c", 'echo "to stderr" >&2; while [ ! -e "$MARKS.go" ]; do sleep 0.02; done; for i in 1 2 3 4 5; do echo "line $$i"; done; while [ ! -e "$MARKS.more" ]; do sleep 0.02; done; echo "after follow"; exec sleep 1000']
`)
	// Both streams go to the ring; the stdout lines are only written once the stderr one is
	// there, so that the order of the last lines is known.
	poll(t, "talker's stderr line in the ring", func() bool {
		return strings.Contains(runCtl(t, socket, "logs", "talker").stdout, "to stderr")
	})
	if err := os.WriteFile(marks+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	poll(t, "talker's stdout lines in the ring", func() bool {
		return strings.Contains(runCtl(t, socket, "logs", "talker").stdout, "line 5")
	})
	if r := runCtl(t, socket, "logs", "-n", "3", "talker"); r.stdout != "line 3\nline 4\nline 5\n" {
		t.Errorf("logs -n 3: %q", r.stdout)
	}
	// Follow: the new line arrives on a running `uno ctl logs -f`.
	cmd := exec.Command(testbin.Uno(t), "ctl", "--socket", socket, "logs", "-f", "-n", "1", "talker")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "line 5" {
		t.Fatalf("follow began with %q", lines.Text())
	}
	if err := os.WriteFile(marks+".more", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !lines.Scan() || lines.Text() != "after follow" {
		t.Fatalf("follow got %q", lines.Text())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	// uno's end ends the stream.
	done := make(chan error, 1)
	go func() { _, _ = io.Copy(io.Discard, out); done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(deadline):
		t.Error("logs -f still running after uno exited")
	}
}

func TestControlReload(t *testing.T) {
	needRoot(t)
	const base = `
[services.keep]
command = ["sleep", "1000"]

[services.change]
command = ["sh", "-c", 'echo "change v1"; exec sleep 1000']

[services.drop]
command = ["sleep", "1001"]
`
	p, _, socket, cfgPath := startControlled(t, base)
	waitState(t, socket, "drop", "running")
	before := statusOf(t, socket)

	// An invalid file changes nothing.
	if err := os.WriteFile(cfgPath, []byte(base+"\n[services.bad]\ncommand = [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCtl(t, socket, "reload")
	if r.code != 1 || !strings.Contains(r.stderr, "configuration not reloaded, the running services are unchanged") || !strings.Contains(r.stderr, "uno.toml:12: invalid TOML") {
		t.Errorf("invalid reload: %d %q", r.code, r.stderr)
	}
	if st := statusOf(t, socket); st["drop"].Pid != before["drop"].Pid || st["change"].Pid != before["change"].Pid {
		t.Errorf("an invalid reload touched services")
	}

	next := strings.Replace(base, "change v1", "change v2", 1)
	next = next[:strings.Index(next, "[services.drop]")] + `
[services.added]
command = ["sleep", "1002"]
`
	if err := os.WriteFile(cfgPath, []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCtl(t, socket, "reload")
	if r.code != 0 || r.stdout != "configuration reloaded: 1 changed, 1 added, 1 removed; changed: change; added: added; removed: drop\n" {
		t.Fatalf("reload: %d %q %q", r.code, r.stdout, r.stderr)
	}
	p.expect(`^change +\| change v2$`)
	waitState(t, socket, "added", "running")
	poll(t, "drop gone", func() bool { _, ok := statusOf(t, socket)["drop"]; return !ok })
	poll(t, "drop stopped", func() bool { return strings.Contains(p.stderr.String(), "service stopped service=drop") })
	st := statusOf(t, socket)
	if st["keep"].Pid != before["keep"].Pid {
		t.Errorf("unchanged service restarted: %d -> %d", before["keep"].Pid, st["keep"].Pid)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func TestControlProbesFlip(t *testing.T) {
	needRoot(t)
	p, marks, socket, _ := startControlled(t, `
[services.app]
command = ["sh", "-c", 'while [ ! -e "$MARKS.fail" ]; do sleep 0.02; done; exit 1']
ready = { file = "${MARKS}.ready", interval = "20ms" }
restart = "on-failure"
restart_delay = "1h"
`)
	if r := runCtl(t, socket, "ready"); r.code != 1 || !strings.HasPrefix(r.stdout, "not ready: app is starting") {
		t.Errorf("ready before the file: %d %q", r.code, r.stdout)
	}
	if r := runCtl(t, socket, "health"); r.code != 0 {
		t.Errorf("health while starting: %d %q", r.code, r.stdout)
	}
	waiter := exec.Command(testbin.Uno(t), "ctl", "--socket", socket, "wait-ready", "--timeout", "20s")
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(marks+".ready", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := waiter.Wait(); err != nil {
		t.Errorf("wait-ready: %v", err)
	}
	if r := runCtl(t, socket, "ready"); r.code != 0 || r.stdout != "ready: 1 services\n" {
		t.Errorf("ready: %d %q", r.code, r.stdout)
	}
	// It fails and waits an hour to restart: unhealthy, and not ready.
	if err := os.WriteFile(marks+".fail", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	poll(t, "health to fail", func() bool { return runCtl(t, socket, "health").code == 1 })
	if r := runCtl(t, socket, "health"); !strings.Contains(r.stdout, "unhealthy: app is restarting (1 restarts, last exit 1)") {
		t.Errorf("health: %q", r.stdout)
	}
	if r := runCtl(t, socket, "ready"); r.code != 1 {
		t.Errorf("ready while restarting: %d", r.code)
	}
	if r := runCtl(t, socket, "wait-ready", "--timeout", "200ms"); r.code != 1 || !strings.Contains(r.stdout, "still not ready after 200ms") {
		t.Errorf("wait-ready timeout: %d %q", r.code, r.stdout)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func TestControlHTTPProbes(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, marks, _, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
ready = { file = "${MARKS}.ready", interval = "20ms" }
`, "--http", addr)
	get := func(path string) (int, string) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, err.Error()
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		data, _ := io.ReadAll(conn)
		var code int
		fmt.Sscanf(string(data), "HTTP/1.1 %d", &code)
		_, body, _ := strings.Cut(string(data), "\r\n\r\n")
		return code, body
	}
	poll(t, "the probe endpoint", func() bool { code, _ := get("/healthz"); return code == 200 })
	// The endpoint can answer before uno has even started app (on a loaded machine).
	if code, body := get("/readyz"); code != 503 || !regexp.MustCompile(`"reason":"not ready: app is (waiting|starting)"`).MatchString(body) {
		t.Errorf("/readyz before ready: %d %s", code, body)
	}
	if err := os.WriteFile(marks+".ready", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	poll(t, "/readyz 200", func() bool { code, _ := get("/readyz"); return code == 200 })
	if code, body := get("/status"); code != 200 || !strings.Contains(body, `"name":"app"`) {
		t.Errorf("/status: %d %s", code, body)
	}
	if code, _ := get("/nope"); code != 404 {
		t.Errorf("/nope: %d", code)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)

	// Not on the network unless asked twice.
	out, err := exec.Command(testbin.Uno(t), "--http", "0.0.0.0:9000", "--", "true").CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "not a loopback address; add --http-public") {
		t.Errorf("--http 0.0.0.0: %d %s", code, out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestControlPermissions(t *testing.T) {
	needRoot(t)
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	p, _, socket, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
`)
	waitState(t, socket, "app", "running")
	if st, err := os.Stat(socket); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if st, err := os.Stat(filepath.Dir(socket)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("socket dir mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	r := runCtlAs(t, nobody, socket, "status")
	if r.code != 1 || !strings.Contains(r.stderr, "permission denied on "+socket) {
		t.Errorf("nobody: %d %q", r.code, r.stderr)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)

	// With --socket-group, the group may read status and probes, and nothing more: uno's own
	// SO_PEERCRED check, past the file permissions.
	p, _, socket, _ = startControlled(t, `
[services.app]
command = ["sleep", "1000"]
`, "--socket-group", "nogroup")
	waitState(t, socket, "app", "running")
	if r := runCtlAs(t, nobody, socket, "status", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"name": "app"`) {
		t.Errorf("group member status: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCtlAs(t, nobody, socket, "health"); r.code != 0 {
		t.Errorf("group member health: %d %q", r.code, r.stderr)
	}
	if r := runCtlAs(t, nobody, socket, "stop", "app"); r.code != 1 || !strings.Contains(r.stderr, "permission denied: uid 65534 may only ask for status, ready and health") {
		t.Errorf("group member stop: %d %q", r.code, r.stderr)
	}
	if st := statusOf(t, socket)["app"]; st.State != "running" {
		t.Errorf("app %s after a refused stop", st.State)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func TestControlProtocolErrors(t *testing.T) {
	needRoot(t)
	p, _, socket, _ := startControlled(t, `
[services.app]
command = ["sleep", "1000"]
`)
	send := func(payload string) control.Reply {
		conn, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		go func() { _, _ = io.WriteString(conn, payload) }()
		var reply control.Reply
		line, _ := bufio.NewReader(conn).ReadBytes('\n')
		if err := json.Unmarshal(line, &reply); err != nil {
			t.Fatalf("reply to %.30q: %q: %v", payload, line, err)
		}
		return reply
	}
	if r := send(`{"v":2,"cmd":"status"}` + "\n"); !strings.Contains(r.Error, "protocol version mismatch: the client speaks version 2, this uno speaks 1") {
		t.Errorf("version 2: %+v", r)
	}
	if r := send("not json\n"); !strings.Contains(r.Error, "bad request: malformed message") {
		t.Errorf("garbage: %+v", r)
	}
	if r := send(strings.Repeat("x", control.MaxMessage+10)); !strings.Contains(r.Error, "message longer than") {
		t.Errorf("oversized: %+v", r)
	}
	// uno is unharmed.
	if r := runCtl(t, socket, "health"); r.code != 0 {
		t.Errorf("health after bad clients: %d %s", r.code, r.stderr)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestControlConcurrentStatus: 1000 status calls at once while services write as fast as they
// can: every one is answered.
func TestControlConcurrentStatus(t *testing.T) {
	needRoot(t)
	p, _, socket, _ := startControlled(t, `
[services.flood1]
command = ["@TESTPROG@", "flood", "100000000", "a"]

[services.flood2]
command = ["@TESTPROG@", "flood", "100000000", "b"]

[services.quiet]
command = ["sleep", "1000"]
`)
	go func() {
		for range p.lines { // keep reading uno's stdout: the floods must flow
		}
	}()
	waitState(t, socket, "quiet", "running")
	client := control.Client{Path: socket, Timeout: time.Minute}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	start := time.Now()
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := client.Do(control.Request{Command: control.CmdStatus})
			if err == nil && (r.Error != "" || len(r.Services) != 3) {
				err = fmt.Errorf("reply %+v", r)
			}
			if err != nil {
				mu.Lock()
				failures = append(failures, err.Error())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of 1000 status calls failed; first: %s", len(failures), failures[0])
	}
	t.Logf("1000 concurrent status calls answered in %v", time.Since(start))
	p.signal(syscall.SIGTERM)
	if got := p.wait(); got != 0 {
		t.Errorf("exit %d", got)
	}
}

func TestControlSingleProgram(t *testing.T) {
	needRoot(t)
	socket := filepath.Join(socketDir(t), "uno.sock")
	p := startUno(t, startOpts{mode: asPID1}, "--socket", socket, "--", "sh", "-c", `trap 'echo got-usr1' USR1; echo up; while :; do sleep 0.05; done`)
	p.expect(`^up$`)
	poll(t, "the control socket", func() bool { _, err := os.Stat(socket); return err == nil })
	st := statusOf(t, socket)["sh"]
	if st.State != "running" || !st.Ready || st.Pid == 0 || st.Type != "program" {
		t.Errorf("status: %+v", st)
	}
	// Once uno answers, every signal is registered: this one goes straight to uno, without the
	// harness's wait for the registration (proc.signal).
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	p.expect(`^got-usr1$`)
	if r := runCtl(t, socket, "ready"); r.code != 0 {
		t.Errorf("ready: %d %s", r.code, r.stdout)
	}
	if r := runCtl(t, socket, "signal", "USR1", "sh"); r.code != 0 {
		t.Errorf("signal: %d %s", r.code, r.stderr)
	}
	p.expect(`^got-usr1$`)
	if r := runCtl(t, socket, "restart", "sh"); r.code != 1 || !strings.Contains(r.stderr, "uno runs a single program: restart needs services") {
		t.Errorf("restart: %d %q", r.code, r.stderr)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(143)
	poll(t, "the socket removed", func() bool { _, err := os.Stat(socket); return os.IsNotExist(err) })
	// The socket went into a directory that existed: its mode is the owner's business.
	if st, err := os.Stat(filepath.Dir(socket)); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("the existing socket directory's mode changed to %v (%v)", st.Mode().Perm(), err)
	}
}

// TestControlClientsThatHangUp: clients that send a request and hang up before the answer (a
// HEALTHCHECK or kubelet probe that timed out) cost uno and its program nothing. uno catches
// SIGPIPE, so a plain write of its answer into the closed socket would raise one that uno would
// take as sent to it and forward to the program, killing it (it did, before MSG_NOSIGNAL).
func TestControlClientsThatHangUp(t *testing.T) {
	needRoot(t)
	socket := filepath.Join(socketDir(t), "uno.sock")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startUno(t, startOpts{mode: asPID1}, "--socket", socket, "--http", addr, "--", "sh", "-c", "echo up; while :; do sleep 0.05; done")
	p.expect(`^up$`)
	poll(t, "the control socket", func() bool { _, err := os.Stat(socket); return err == nil })
	poll(t, "the probe endpoint", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	request := bytes.Repeat([]byte(`{"v":1,"cmd":"status"}`+"\n"), 10)
	for i := range 200 {
		conn, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatalf("uno stopped answering after %d hang-ups: %v\nstderr: %s", i, err, p.stderr.String())
		}
		_, _ = conn.Write(request)
		conn.Close()
		web, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("uno stopped answering after %d hang-ups: %v\nstderr: %s", i, err, p.stderr.String())
		}
		_, _ = web.Write([]byte("GET /status HTTP/1.1\r\nHost: uno\r\n\r\n"))
		_ = web.(*net.TCPConn).SetLinger(0) // a reset, not a polite close
		web.Close()
	}
	if r := runCtl(t, socket, "health"); r.code != 0 {
		t.Errorf("health after the hang-ups: %d %s %s", r.code, r.stdout, r.stderr)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(143) // the program's own death by SIGTERM, not 141 (SIGPIPE) earlier
}

// TestMain removes what tests shared across the package (reachableUno's copy) once all ran.
func TestMain(m *testing.M) {
	testkit.DefaultSignals()
	code := m.Run()
	if reachablePath != "" {
		os.RemoveAll(filepath.Dir(reachablePath))
	}
	os.Exit(code)
}

// TestServicesDescriptors: services see only fds 0, 1 and 2; a descriptor uno was started with
// (a socket-activated listener) goes to the main program alone, under its number.
func TestServicesDescriptors(t *testing.T) {
	needRoot(t)
	cfgPath, _ := servicesSetup(t, `
[services.notified]
command = ["@TESTPROG@", "notify", "/dev/null"]
ready = { notify = true }

[services.plain]
command = ["sleep", "1000"]
`)
	socket := filepath.Join(socketDir(t), "uno.sock")
	inherited, err := os.Open(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer inherited.Close()
	cmd := exec.Command(testbin.Uno(t), "-c", cfgPath, "--socket", socket, "--", "sleep", "1001")
	cmd.ExtraFiles = []*os.File{inherited} // fd 3, not close-on-exec
	p := startCmd(t, cmd)
	poll(t, "the control socket", func() bool { _, err := os.Stat(socket); return err == nil })
	waitState(t, socket, "main", "running")
	fds := func(pid int) []string {
		entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	st := statusOf(t, socket)
	// plain started after uno opened its control socket and notified's notify socket and pipes.
	if got := fds(st["plain"].Pid); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Errorf("a service has fds %v, want only 0, 1 and 2", got)
	}
	// The main program may also get what the test process itself leaks; fd 3 it must get.
	if got := fds(st["main"].Pid); !slices.Contains(got, "3") {
		t.Errorf("the main program has fds %v, without the inherited 3", got)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(143)
}

// TestControlStartFailing: starting a service whose dependency fails again answers at once with
// the failure, rather than waiting for a start that will not come.
func TestControlStartFailing(t *testing.T) {
	needRoot(t)
	p, _, socket, _ := startControlled(t, `
[services.keep]
command = ["sleep", "1000"]

[services.dep]
type = "oneshot"
command = ["sh", "-c", "exit 5"]
essential = false

[services.app]
command = ["sleep", "1000"]
depends_on = ["dep"]
essential = false
`)
	waitState(t, socket, "app", "failed")
	start := time.Now()
	r := runCtl(t, socket, "start", "app")
	if r.code != 1 || !strings.Contains(r.stderr, "app did not start: failed") {
		t.Errorf("start of app: %d %q", r.code, r.stderr)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the answer took %v", took)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}
