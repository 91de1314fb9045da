package e2e

import (
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testbin"
)

// Services tests run uno with a configuration file and real programs (sh, python3, testprog).
// Ordering is checked through a marks file that every service appends to with O_APPEND: the
// order of its lines is the order in which things happened, which the prefixed output (read
// by one goroutine per pipe) does not promise across services.

// servicesSetup writes the configuration and returns its path and the marks file.
func servicesSetup(t *testing.T, conf string) (cfgPath, marks string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "uno.toml")
	marks = filepath.Join(dir, "marks")
	conf = strings.ReplaceAll(conf, "@TESTPROG@", testbin.TestProg(t))
	conf = strings.ReplaceAll(conf, "@DIR@", dir)
	if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgPath, marks
}

// startServices runs uno -c on conf, with MARKS in the services' environment.
func startServices(t *testing.T, o startOpts, conf string, args ...string) (p *proc, marks string) {
	t.Helper()
	cfgPath, marks := servicesSetup(t, conf)
	o.env = append(o.env, "MARKS="+marks)
	return startUno(t, o, append([]string{"-c", cfgPath}, args...)...), marks
}

// readMarks returns the marks file's lines.
func readMarks(t *testing.T, marks string) []string {
	t.Helper()
	data, err := os.ReadFile(marks)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(data), " ", "_"))
}

// waitMark polls until the marks file holds mark.
func waitMark(t *testing.T, marks, mark string) {
	t.Helper()
	poll(t, "mark "+mark, func() bool { return slices.Contains(readMarks(t, marks), mark) })
}

// before checks that a comes before b in the marks.
func before(t *testing.T, got []string, a, b string) {
	t.Helper()
	ia, ib := slices.Index(got, a), slices.Index(got, b)
	if ia < 0 || ib < 0 || ia > ib {
		t.Errorf("want %q before %q in marks %q", a, b, got)
	}
}

func TestServicesStartAndStopOrder(t *testing.T) {
	needRoot(t)
	if _, err := lookPath("python3"); err != nil {
		t.Skip("python3 not installed: make test-deps installs it")
	}
	both(t, func(t *testing.T, m mode) {
		p, marks := startServices(t, startOpts{mode: m}, strings.ReplaceAll(`
[uno]
grace = "20s"

[services.migrate]
type = "oneshot"
command = ["sh", "-c", 'echo migrate-start >> "$MARKS"; sleep 0.3; echo migrate-done >> "$MARKS"']

[services.api]
command = ["sh", "-c", 'echo api-start >> "$MARKS"; exec python3 -u -m http.server @PORT@ --bind 127.0.0.1']
depends_on = { migrate = "completed" }
ready = { http = "http://127.0.0.1:@PORT@/", interval = "50ms", timeout = "30s" }

[services.web]
command = ["sh", "-c", 'echo web-start >> "$MARKS"; trap "echo web-stop >> \"$MARKS\"; exit 0" TERM; while :; do sleep 0.05; done']
depends_on = ["api"]

[services.worker]
command = ["sh", "-c", 'echo worker-start >> "$MARKS"; trap "echo worker-stop >> \"$MARKS\"; exit 0" TERM; while :; do sleep 0.05; done']
depends_on = { web = "started" }
`, "@PORT@", strconv.Itoa(freePort(t))))
		// worker needs web only "started": its shell may write its mark before web's does.
		waitMark(t, marks, "worker-start")
		waitMark(t, marks, "web-start")
		got := readMarks(t, marks)
		before(t, got, "migrate-done", "api-start")
		before(t, got, "api-start", "web-start")
		// "started" only means the process exists: compare uno's own lines (which may reach
		// stderr a little after the service's mark).
		poll(t, "uno's line about worker", func() bool {
			return strings.Contains(p.stderr.String(), "service started service=worker")
		})
		log := p.stderr.String()
		if iw, ik := strings.Index(log, "service started service=web"), strings.Index(log, "service started service=worker"); iw < 0 || ik < iw {
			t.Errorf("web must start before worker:\n%s", log)
		}
		p.expect(`^api +\| Serving HTTP on 127\.0\.0\.1`)

		p.signal(syscall.SIGTERM)
		p.expectExit(0)
		got = readMarks(t, marks)
		before(t, got, "worker-stop", "web-stop")
		if !strings.Contains(p.stderr.String(), "service stopped service=api") {
			t.Errorf("api not reported stopped:\n%s", p.stderr.String())
		}
	})
}

func TestServicesHTTPReadiness(t *testing.T) {
	needRoot(t)
	if _, err := lookPath("python3"); err != nil {
		t.Skip("python3 not installed: make test-deps installs it")
	}
	port := freePort(t)
	p, marks := startServices(t, startOpts{mode: asPID1}, fmt.Sprintf(`
[services.api]
command = "python3 -u -m http.server ${PORT} --bind 127.0.0.1"
env = { PORT = "%d" }
ready = { http = "http://127.0.0.1:${PORT}/", interval = "100ms", timeout = "30s" }
stop_signal = "SIGINT"

[services.client]
command = ["sh", "-c", 'echo client-start >> "$MARKS"; sleep 1000']
depends_on = { api = "ready" }
`, port))
	waitMark(t, marks, "client-start")
	// The check's own request is in the server's log (its stderr, prefixed on uno's).
	poll(t, "the check's request in the server log", func() bool {
		return regexp.MustCompile(`(?m)^api +\| 127\.0\.0\.1 .*"GET / HTTP/1\.1" 200`).MatchString(p.stderr.String())
	})
	if !strings.Contains(p.stderr.String(), "service ready service=api after=") {
		t.Errorf("no readiness line:\n%s", p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	if !strings.Contains(p.stderr.String(), "signal=SIGINT") {
		t.Errorf("api not stopped with its stop_signal:\n%s", p.stderr.String())
	}
}

func TestServicesNotifyTCPExecReadiness(t *testing.T) {
	needRoot(t)
	port := freePort(t)
	p, marks := startServices(t, startOpts{mode: asPID1}, fmt.Sprintf(`
[services.notifier]
command = ["@TESTPROG@", "notify", "${MARKS}"]
ready = { notify = true, timeout = "30s" }

[services.after-notify]
command = ["sh", "-c", 'echo after-notify >> "$MARKS"; exec sleep 1000']
depends_on = ["notifier"]

[services.listener]
command = ["python3", "-c", "import socket,time,os; time.sleep(0.3); s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', %d)); s.listen(); open(os.environ['MARKS'],'a').write('listening\\n'); time.sleep(1000)"]
ready = { tcp = "127.0.0.1:%d", interval = "50ms" }

[services.after-tcp]
command = ["sh", "-c", 'echo after-tcp >> "$MARKS"; exec sleep 1000']
depends_on = ["listener"]

[services.flag]
command = ["sh", "-c", 'sleep 0.3; echo flag-set >> "$MARKS"; touch @DIR@/flag; exec sleep 1000']
ready = { exec = "test -e @DIR@/flag", interval = "50ms" }

[services.after-exec]
command = ["sh", "-c", 'echo after-exec >> "$MARKS"; exec sleep 1000']
depends_on = ["flag"]
`, port, port))
	for _, m := range []string{"after-notify", "after-tcp", "after-exec"} {
		waitMark(t, marks, m)
	}
	got := readMarks(t, marks)
	before(t, got, "notify_ready", "after-notify")
	before(t, got, "listening", "after-tcp")
	before(t, got, "flag-set", "after-exec")
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func TestServicesNotReadyInTime(t *testing.T) {
	needRoot(t)
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.slow]
command = ["sh", "-c", 'trap "echo slow-stopped >> \"$MARKS\"; exit 0" TERM; while :; do sleep 0.05; done']
ready = { file = "/nonexistent/never", interval = "50ms", timeout = "300ms" }

[services.dependent]
command = ["sh", "-c", 'echo dependent-start >> "$MARKS"; sleep 1000']
depends_on = ["slow"]
`)
	p.expectExit(1)
	if got := readMarks(t, marks); slices.Contains(got, "dependent-start") || !slices.Contains(got, "slow-stopped") {
		t.Errorf("marks %q: want slow stopped and dependent never started", got)
	}
	for _, want := range []string{"did not become ready in time service=slow", "essential service ended"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
		}
	}
}

// TestServicesFailurePolicy checks the table in docs/services.md: what ends the container and
// with which status.
func TestServicesFailurePolicy(t *testing.T) {
	needRoot(t)
	// other runs until stopped and marks that it was.
	const other = `
[services.other]
command = ["sh", "-c", 'trap "echo other-stopped >> \"$MARKS\"; exit 0" TERM; echo other-start >> "$MARKS"; touch "$MARKS.other"; while :; do sleep 0.05; done']
ready = { file = "${MARKS}.other", interval = "20ms" }
`
	cases := []struct {
		name   string
		conf   string
		args   []string
		signal bool // send SIGTERM once other runs
		want   int
		// waitFor is a mark to wait for before the signal, besides other's start.
		waitFor string
	}{
		{name: "essential service exits 3", want: 3, conf: other + `
[services.failing]
command = ["sh", "-c", "sleep 0.2; exit 3"]
depends_on = ["other"]
`},
		{name: "essential service exits 0", want: 0, conf: other + `
[services.done]
command = ["sh", "-c", "sleep 0.2; exit 0"]
depends_on = ["other"]
`},
		{name: "essential service killed by a signal", want: 128 + 9, conf: other + `
[services.killed]
command = ["sh", "-c", "sleep 0.2; kill -KILL $$$$"]
depends_on = ["other"]
`},
		{name: "command not found", want: 127, conf: other + `
[services.missing]
command = ["/nonexistent/program"]
depends_on = ["other"]
`},
		{name: "oneshot fails, dependent never starts", want: 4, conf: other + `
[services.setup]
type = "oneshot"
command = ["sh", "-c", "exit 4"]
depends_on = ["other"]

[services.app]
command = ["sh", "-c", 'echo app-start >> "$MARKS"']
depends_on = ["setup"]
`},
		{name: "main program exits 5", want: 5, args: []string{"--", "sh", "-c", `sleep 0.2; exit 5`}, conf: other},
		{name: "main program ends by SIGTERM", want: 128 + 15, signal: true, waitFor: "main-start",
			args: []string{"--", "sh", "-c", `echo main-start >> "$MARKS"; sleep 1000`}, conf: other},
		{name: "SIGTERM without a main program", want: 0, signal: true, conf: other},
		{name: "non-essential failure does not stop the others", want: 0, signal: true, waitFor: "flaky-failed", conf: other + `
[services.flaky]
command = ["sh", "-c", 'echo flaky-failed >> "$MARKS"; exit 9']
essential = false
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, marks := startServices(t, startOpts{mode: asPID1}, c.conf, c.args...)
			if c.signal {
				waitMark(t, marks, "other-start")
				if c.waitFor != "" {
					waitMark(t, marks, c.waitFor)
				}
				if c.waitFor == "flaky-failed" {
					poll(t, "flaky reported failed", func() bool {
						return strings.Contains(p.stderr.String(), "non-essential service failed")
					})
				}
				p.signal(syscall.SIGTERM)
			}
			p.expectExit(c.want)
			got := readMarks(t, marks)
			if !slices.Contains(got, "other-stopped") {
				t.Errorf("other was not stopped by uno: marks %q\nstderr: %s", got, p.stderr.String())
			}
			if slices.Contains(got, "app-start") {
				t.Errorf("a dependent of a failed oneshot started: %q", got)
			}
		})
	}
}

func TestServicesMainProgram(t *testing.T) {
	needRoot(t)
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.setup]
type = "oneshot"
command = ["sh", "-c", 'echo setup-done >> "$MARKS"']

[services.sidecar]
command = ["sh", "-c", 'echo sidecar >> "$MARKS"; echo sidecar output; exec sleep 1000']
`, "--", "sh", "-c", `echo main-start >> "$MARKS"; echo "main output, unprefixed"; exit 0`)
	p.expect(`^main output, unprefixed$`)
	p.expectExit(0)
	got := readMarks(t, marks)
	before(t, got, "setup-done", "main-start")
	// The sidecar only has to be started (its process exists): compare uno's own lines.
	log := p.stderr.String()
	if is, im := strings.Index(log, "service started service=sidecar"), strings.Index(log, "service started service=main"); is < 0 || im < is {
		t.Errorf("the sidecar must start before the main program:\n%s", log)
	}
}

func TestServicesRestartBackoff(t *testing.T) {
	needRoot(t)
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.crasher]
command = ["sh", "-c", 'echo "$(date +%s%N)" >> "$MARKS"; exit 2']
restart = "on-failure"
restart_delay = "100ms"
restart_delay_max = "10s"
restart_limit = 4
restart_window = "1m"
`)
	p.expectExit(2)
	got := readMarks(t, marks)
	if len(got) != 5 {
		t.Fatalf("want 5 runs (1 + restart_limit), got %d: %q\nstderr: %s", len(got), got, p.stderr.String())
	}
	// The delays double from restart_delay: each gap is at least its delay. (Only lower bounds:
	// this machine may be slow, never fast.)
	delay := 100 * time.Millisecond
	var gaps []time.Duration
	for i := 1; i < len(got); i++ {
		a, _ := strconv.ParseInt(got[i-1], 10, 64)
		b, _ := strconv.ParseInt(got[i], 10, 64)
		gap := time.Duration(b - a)
		gaps = append(gaps, gap)
		if gap < delay {
			t.Errorf("restart %d came after %v, want at least %v (gaps %v)", i, gap, delay, gaps)
		}
		delay *= 2
	}
	if !strings.Contains(p.stderr.String(), "restarting too often; giving up") {
		t.Errorf("no give-up line:\n%s", p.stderr.String())
	}
	t.Logf("restart gaps: %v", gaps)
}

func TestServicesRestartAlwaysAndSecondTerm(t *testing.T) {
	needRoot(t)
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[uno]
grace = "1h"

[services.short]
command = ["sh", "-c", 'echo short-run >> "$MARKS"; sleep 0.05']
restart = "always"
restart_delay = "10ms"
restart_limit = 0

[services.stubborn]
command = ["sh", "-c", 'trap "" TERM; echo stubborn >> "$MARKS"; while :; do sleep 0.05; done']
stop_timeout = "1h"
`)
	poll(t, "three runs of short", func() bool {
		n := 0
		for _, m := range readMarks(t, marks) {
			if m == "short-run" {
				n++
			}
		}
		return n >= 3
	})
	waitMark(t, marks, "stubborn")
	p.signal(syscall.SIGTERM)
	poll(t, "stubborn being stopped", func() bool {
		return strings.Contains(p.stderr.String(), "stopping service service=stubborn")
	})
	// It ignores SIGTERM and has an hour: only the second SIGTERM ends it.
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	if !strings.Contains(p.stderr.String(), "second stop signal") {
		t.Errorf("stderr: %s", p.stderr.String())
	}
}

func TestServicesStopTimeout(t *testing.T) {
	needRoot(t)
	both(t, func(t *testing.T, m mode) {
		p, marks := startServices(t, startOpts{mode: m}, `
[services.stubborn]
command = ["sh", "-c", 'trap "" TERM; echo stubborn >> "$MARKS"; while :; do sleep 0.05; done']
stop_timeout = "300ms"
`)
		waitMark(t, marks, "stubborn")
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
		if !strings.Contains(p.stderr.String(), "did not stop in time; killing it service=stubborn") {
			t.Errorf("stderr: %s", p.stderr.String())
		}
	})
}

// TestServicesRunLeftovers: what a run leaves in its process group is sent SIGTERM as the run
// ends and, if it ignores that, killed after the service's stop_timeout, while uno goes on: a
// restart never meets its predecessor's children, and they do not wait for the container's stop.
// As subreaper only: this harness's PID 1 mode has no /proc of its own, where uno rightly holds
// nothing; test/oci runs the same as PID 1 of a real container.
func TestServicesRunLeftovers(t *testing.T) {
	needRoot(t)
	p, marks := startServices(t, startOpts{mode: asSubreaper}, `
[services.leaky]
command = ["sh", "-c", 'sh -c "trap \"\" TERM; touch @DIR@/stubborn.ready; exec sleep 1000" & echo "$!" > "@DIR@/stubborn"; sleep 1000 & echo "$!" > "@DIR@/polite"; while [ ! -e "@DIR@/stubborn.ready" ]; do sleep 0.01; done; echo leaky-up >> "$MARKS"; exit 3']
essential = false
stop_timeout = "500ms"
# (leaky waits until its stubborn child ignores SIGTERM: a SIGTERM before that would end it.)

[services.keeper]
command = ["sleep", "1000"]
`)
	waitMark(t, marks, "leaky-up")
	dir := filepath.Dir(marks)
	pidIn := func(name string) int {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	stubborn, polite := pidIn("stubborn"), pidIn("polite")
	poll(t, "the polite leftover to end on SIGTERM", func() bool { return !alive(polite) })
	poll(t, "the stubborn leftover to be killed", func() bool { return !alive(stubborn) })
	if !strings.Contains(p.stderr.String(), "killed what a service's run left behind; it outlived stop_timeout after SIGTERM service=leaky processes=1") {
		t.Errorf("no line about the killed leftover:\n%s", p.stderr.String())
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func TestServicesUserAndEnvironment(t *testing.T) {
	needRoot(t)
	cfgDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(cfgDir, "app.env"), []byte("# settings\nFROM_FILE=file\nexport QUOTED=\"two words\"\nOVERRIDDEN=file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ := startServices(t, startOpts{mode: asPID1, env: []string{"FROM_CONTAINER=container", "CFGDIR=" + cfgDir}}, `
[services.ident]
command = ["sh", "-c", 'grep -E "^(Uid|Gid|Groups|CapEff|CapPrm|CapAmb):" /proc/self/status; echo "home=$HOME user=$USER"; exec sleep 1000']
user = "nobody"

[services.env]
command = ["sh", "-c", 'echo "args=$0|$1"; echo "file=$FROM_FILE quoted=$QUOTED over=$OVERRIDDEN cont=$FROM_CONTAINER port=$PORT pwd=$(pwd)"; exec sleep 1000', "${GREETING:-hello}", "$${NOT_EXPANDED}"]
env_file = "${CFGDIR}/app.env"
env = { OVERRIDDEN = "env", PORT = "${BASE:-80}80", WORKDIR = "/usr" }
working_dir = "${WORKDIR}"
`)
	// In the order /proc/PID/status lists them.
	want := [][2]string{
		{"Uid", "65534\t65534\t65534\t65534"},
		{"Gid", "65534\t65534\t65534\t65534"},
		{"CapPrm", "0000000000000000"},
		{"CapEff", "0000000000000000"},
		{"CapAmb", "0000000000000000"},
	}
	var patterns []string
	for _, kv := range want {
		patterns = append(patterns, `^ident +\| `+kv[0]+`:\t`+regexp.QuoteMeta(kv[1])+`$`)
	}
	patterns = append(patterns,
		`^ident +\| home=/nonexistent user=nobody$`,
		`^env +\| args=hello\|\$\{NOT_EXPANDED\}$`,
		`^env +\| file=file quoted=two words over=env cont=container port=8080 pwd=/usr$`)
	p.expectAll(patterns...)
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// expectAll waits until each pattern has matched a stdout line, in any order: lines of
// different services reach uno's stdout in no fixed order.
func (p *proc) expectAll(patterns ...string) {
	p.t.Helper()
	pending := map[string]*regexp.Regexp{}
	for _, pat := range patterns {
		pending[pat] = regexp.MustCompile(pat)
	}
	timeout := time.After(deadline)
	for len(pending) > 0 {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("stdout closed; still waiting for %q\nstdout: %q\nstderr: %s", slices.Collect(maps.Keys(pending)), p.seen, p.stderr.String())
			}
			p.seen = append(p.seen, line)
			for pat, re := range pending {
				if re.MatchString(line) {
					delete(pending, pat)
					break
				}
			}
		case <-timeout:
			p.t.Fatalf("no lines matching %q within %v\nstdout: %q\nstderr: %s", slices.Collect(maps.Keys(pending)), deadline, p.seen, p.stderr.String())
		}
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
