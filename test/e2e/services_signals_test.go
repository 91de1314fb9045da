package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// trapper is a service that records each SIGUSR1 it gets in the marks file as "NAME-usr1".
const trapper = `command = ["sh", "-c", 'trap "echo $$0-usr1 >> \"$$MARKS\"" USR1; echo $$0-up >> "$$MARKS"; while :; do sleep 0.05; done', "%s"]
`

func TestServicesOtherSignals(t *testing.T) {
	needRoot(t)
	conf := "[services.a]\n" + strings.ReplaceAll(trapper, "%s", "a") + "\n[services.b]\n" + strings.ReplaceAll(trapper, "%s", "b")

	t.Run("without a main program, every running service gets them", func(t *testing.T) {
		p, marks := startServices(t, startOpts{mode: asPID1}, conf)
		waitMark(t, marks, "a-up")
		waitMark(t, marks, "b-up")
		p.signal(syscall.SIGUSR1)
		waitMark(t, marks, "a-usr1")
		waitMark(t, marks, "b-usr1")
		// SIGHUP reloads the configuration instead: unchanged, so nobody is touched.
		p.signal(syscall.SIGHUP)
		poll(t, "the reload line", func() bool {
			return strings.Contains(p.stderr.String(), "SIGHUP: configuration reloaded: 0 changed, 0 added, 0 removed")
		})
		if got := readMarks(t, marks); len(got) != 4 {
			t.Errorf("a service restarted or got SIGHUP: %q", got)
		}
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
	})

	t.Run("with a main program, only the main program gets them", func(t *testing.T) {
		p, marks := startServices(t, startOpts{mode: asPID1}, conf, "--", "sh", "-c",
			`trap 'echo main-usr1 >> "$MARKS"' USR1; trap 'echo main-hup >> "$MARKS"' HUP; echo main-up >> "$MARKS"; while :; do sleep 0.05; done`)
		waitMark(t, marks, "main-up")
		p.signal(syscall.SIGUSR1)
		waitMark(t, marks, "main-usr1")
		p.signal(syscall.SIGHUP)
		waitMark(t, marks, "main-hup")
		p.signal(syscall.SIGTERM)
		p.expectExit(143) // the main program's status: SIGTERM killed it
		if got := readMarks(t, marks); slices.Contains(got, "a-usr1") || slices.Contains(got, "b-usr1") {
			t.Errorf("services got the main program's signal: %q", got)
		}
	})
}

// TestServicesOnTerminal runs services with a main program on a pty, as docker run -it does:
// prefixes are coloured, the main program owns the foreground, and Ctrl-C stops it all.
func TestServicesOnTerminal(t *testing.T) {
	needRoot(t)
	cfgPath, _ := servicesSetup(t, `
[services.side]
command = ["sh", "-c", 'echo side-says-hello; exec sleep 1000']
`)
	s := startOnTerminal(t, "-c", cfgPath, "--", "sh", "-c", "echo main-re''ady; exec sleep 1000")
	s.expect("main-ready")
	s.expect("side-says-hello")
	if !strings.Contains(s.out.String(), "\x1b[") {
		t.Errorf("no colour on a terminal:\n%q", s.out.String())
	}
	// The shell has printed its line but may not have exec'd sleep yet.
	poll(t, "the main program (sleep) to own the terminal", func() bool { return s.foregroundCommand() == "sleep" })
	s.typeIn("\x03")
	s.expectExit(130)
}

// TestServicesDefaultConfig: uno with no program runs /etc/uno/uno.toml. The test binds a
// directory of its own over /etc in a private mount namespace, so the host is untouched.
func TestServicesDefaultConfig(t *testing.T) {
	needRoot(t)
	etc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(etc, "uno"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "uno", "uno.toml"), []byte(`
[services.hello]
command = ["sh", "-c", "echo hello from the default config; exit 3"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--pid", "--fork", "sh", "-c", `mount --bind "$1" /etc && exec "$2"`, "sh", etc, testbin.Uno(t))
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(string(out), "hello | hello from the default config") {
		t.Errorf("exit status %d, want 3; output:\n%s", code, out)
	}
}

// TestServicesSweepEscapees: a service that starts a daemon in a session of its own leaves it
// out of reach of its process group's stop signal; the core's sweep still stops it, gracefully,
// before uno exits.
func TestServicesSweepEscapees(t *testing.T) {
	needRoot(t)
	both(t, func(t *testing.T, m mode) {
		escapee := filepath.Join(t.TempDir(), "escapee.sh")
		script := `trap 'echo escapee-term >> "$MARKS"; exit 0' TERM; echo escapee-up >> "$MARKS"; while :; do sleep 0.05; done`
		if err := os.WriteFile(escapee, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		p, marks := startServices(t, startOpts{mode: m}, `
[services.forker]
command = ["sh", "-c", 'setsid sh "$$0" & exec sleep 1000', "`+escapee+`"]
`)
		waitMark(t, marks, "escapee-up")
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
		if got := readMarks(t, marks); !slices.Contains(got, "escapee-term") {
			t.Errorf("the escapee was not stopped gracefully: %q\nstderr: %s", got, p.stderr.String())
		}
	})
}

// TestServicesGroups: group and groups replace the user's own.
func TestServicesGroups(t *testing.T) {
	needRoot(t)
	p, _ := startServices(t, startOpts{mode: asPID1}, `
[services.ident]
command = ["sh", "-c", 'grep -E "^(Uid|Gid|Groups):" /proc/self/status; exec sleep 1000']
user = "nobody"
group = "daemon"
groups = ["sys", "4"]
`)
	p.expectAll(`^ident +\| Uid:\t65534\t`, `^ident +\| Gid:\t1\t1\t1\t1$`, `^ident +\| Groups:\t3 4 ?$`)
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}
