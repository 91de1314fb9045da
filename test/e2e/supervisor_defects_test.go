package e2e

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Regression tests for the supervisor's defects of issue 13, each failing on the code before it.

// TestServicesStopOrderIsTransitive: db <- migrate (oneshot, completed) <- app <- web. On SIGTERM
// db stops only once app has exited, though the service between them ended long ago: the app's
// last write on its way out reaches the database. uno used to stop db together with web, as only
// direct running dependents held a service back.
func TestServicesStopOrderIsTransitive(t *testing.T) {
	needRoot(t)
	both(t, func(t *testing.T, m mode) {
		p, marks := startServices(t, startOpts{mode: m}, `
[services.db]
command = ["sh", "-c", 'trap "echo db-stop >> \"$MARKS\"; exit 0" TERM; echo db-up >> "$MARKS"; while :; do sleep 0.02; done']
[services.migrate]
type = "oneshot"
command = ["sh", "-c", 'echo migrated >> "$MARKS"']
depends_on = ["db"]
[services.app]
command = ["sh", "-c", 'trap "echo app-stopping >> \"$MARKS\"; sleep 0.3; echo app-last-write >> \"$MARKS\"; exit 0" TERM; echo app-up >> "$MARKS"; while :; do sleep 0.02; done']
depends_on = { migrate = "completed" }
[services.web]
command = ["sh", "-c", 'trap "echo web-stop >> \"$MARKS\"; exit 0" TERM; echo web-up >> "$MARKS"; while :; do sleep 0.02; done']
depends_on = ["app"]
`)
		waitMark(t, marks, "web-up")
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
		got := readMarks(t, marks)
		order := func(mark string) int { return slices.Index(got, mark) }
		for _, pair := range [][2]string{{"web-stop", "app-stopping"}, {"app-last-write", "db-stop"}} {
			if order(pair[0]) < 0 || order(pair[1]) < 0 || order(pair[0]) > order(pair[1]) {
				t.Fatalf("want %s before %s: %v", pair[0], pair[1], got)
			}
		}
	})
}

// TestServicesReloadRemovingMainsDependency: main waits for db, which waits for x that never
// becomes ready; a reload removes db. uno used to crash (nil dereference) because the main
// program kept its old dependencies: PID 1 gone, no graceful stop.
func TestServicesReloadRemovingMainsDependency(t *testing.T) {
	needRoot(t)
	conf := `
[services.db]
command = "sleep 1000"
depends_on = ["x"]
[services.x]
command = "sleep 1000"
ready = { file = "/nonexistent/never", timeout = "1h" }
`
	p, _, socket, cfgPath := startControlled(t, conf, "--", "sh", "-c", "echo main-started; sleep 1000")
	poll(t, "x to be starting", func() bool { return statusOf(t, socket)["x"].State == "starting" })
	removed := strings.Replace(conf, "[services.db]\ncommand = \"sleep 1000\"\ndepends_on = [\"x\"]\n", "", 1)
	if err := os.WriteFile(cfgPath, []byte(removed), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCtl(t, socket, "reload"); r.code != 0 {
		t.Fatalf("reload: %+v\nstderr: %s", r, p.stderr.String())
	}
	st := statusOf(t, socket)
	if _, ok := st["db"]; ok || st["main"].State != "waiting" {
		t.Fatalf("after the reload: %+v", st)
	}
	// A dry run says what putting db back would do, and does nothing.
	if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCtl(t, socket, "reload", "--dry-run"); r.code != 0 || !strings.Contains(r.stdout, "would do: 0 changed, 1 added, 0 removed; added: db") {
		t.Fatalf("reload --dry-run: %+v", r)
	}
	if _, ok := statusOf(t, socket)["db"]; ok {
		t.Fatal("a dry run added db")
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestServicesReloadRestartsDependents: a reload that changes db restarts app, which runs
// depending on it, in dependency order: app stops before db, and starts again after it.
func TestServicesReloadRestartsDependents(t *testing.T) {
	needRoot(t)
	conf := `
[services.db]
command = ["sh", "-c", 'trap "echo db-stop-VERSION >> \"$MARKS\"; exit 0" TERM; echo db-up-VERSION >> "$MARKS"; while :; do sleep 0.02; done']
[services.app]
command = ["sh", "-c", 'trap "echo app-stop >> \"$MARKS\"; exit 0" TERM; echo app-up >> "$MARKS"; while :; do sleep 0.02; done']
depends_on = ["db"]
`
	p, marks, socket, cfgPath := startControlled(t, strings.ReplaceAll(conf, "VERSION", "1"))
	waitMark(t, marks, "app-up")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(conf, "VERSION", "2")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCtl(t, socket, "reload")
	if r.code != 0 || !strings.Contains(r.stdout, "changed: db; restarted with what they depend on: app") {
		t.Fatalf("reload: %+v", r)
	}
	poll(t, "db and app to start again", func() bool {
		got := readMarks(t, marks)
		return slices.Contains(got, "db-up-2") && strings.Count(strings.Join(got, " "), "app-up") == 2
	})
	// db's new run may write its mark after app has started again (app needs db only started).
	got := readMarks(t, marks)
	again := -1
	for i, m := range got {
		if m == "app-up" {
			again = i
		}
	}
	stop, dbStop := slices.Index(got, "app-stop"), slices.Index(got, "db-stop-1")
	if stop < 0 || dbStop < stop || again < dbStop {
		t.Fatalf("want app-stop, db-stop-1, then app-up again: %v", got)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestServicesLeaderLeftItsGroup: a service whose process moved to another process group
// (setpgid) is still stopped: the stop signal reaches it as well as its old group. uno used to
// send it only to the empty group (ESRCH, discarded) and wait past its grace for ever.
func TestServicesLeaderLeftItsGroup(t *testing.T) {
	needRoot(t)
	both(t, func(t *testing.T, m mode) {
		p, marks := startServices(t, startOpts{mode: m}, `
[uno]
grace = "3s"
[services.mover]
command = ["python3", "-c", 'import os, time; os.setpgid(0, os.getpgid(os.getppid())); open(os.environ["MARKS"], "a").write("moved\n"); time.sleep(1000)']
`)
		waitMark(t, marks, "moved")
		start := time.Now()
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
		if !strings.Contains(p.stderr.String(), "service stopped service=mover") || !strings.Contains(p.stderr.String(), "killed by SIGTERM") {
			t.Fatalf("mover not stopped by its stop signal (%v):\n%s", time.Since(start), p.stderr.String())
		}
	})
}

// TestServicesKillModeMixed: with kill_mode = "mixed" only the service's own process gets the stop
// signal, and stops its worker itself; with the default "group" the worker gets it directly.
func TestServicesKillModeMixed(t *testing.T) {
	needRoot(t)
	for _, mode := range []string{"mixed", "group"} {
		t.Run(mode, func(t *testing.T) {
			p, marks := startServices(t, startOpts{mode: asSubreaper}, `
[services.master]
kill_mode = "`+mode+`"
command = ["sh", "-c", '''
sh -c 'trap "echo worker-got-term >> \"$MARKS\"; exit 0" TERM; trap "echo worker-told >> \"$MARKS\"; exit 0" USR1; echo worker-up >> "$MARKS"; while :; do sleep 0.02; done' &
worker=$!
trap 'echo master-got-term >> "$MARKS"; sleep 0.2; kill -USR1 $worker; wait $worker; exit 0' TERM
while :; do sleep 0.02; done
''']
`)
			waitMark(t, marks, "worker-up")
			p.signal(syscall.SIGTERM)
			p.expectExit(0)
			got := strings.Join(readMarks(t, marks), " ")
			direct := strings.Contains(got, "worker-got-term")
			if !strings.Contains(got, "master-got-term") || direct != (mode == "group") {
				t.Fatalf("kill_mode %s: marks %q", mode, got)
			}
		})
	}
}
