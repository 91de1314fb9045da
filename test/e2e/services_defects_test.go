package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// Regression tests of issue 12: relative commands under working_dir, --grace and the default
// stop_timeout, and notify socket paths too long for a socket address.

// setupConf writes conf, with @DIR@ replaced by its directory, as servicesSetup does but without
// building testprog, which these tests do not need; it returns the file and the marks file.
func setupConf(t *testing.T, conf string) (cfgPath, marks string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath, marks = filepath.Join(dir, "uno.toml"), filepath.Join(dir, "marks")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(conf, "@DIR@", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgPath, marks
}

// writeExecutable writes a shell script at path, creating its directory.
func writeExecutable(t *testing.T, path, script string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode goes through the umask.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestServicesRelativeCommandInWorkingDir: "./run.sh" with working_dir is found where execvp in
// the service would find it, after its chdir, not in uno's directory; so is an exec readiness
// check's, and a relative $PATH entry of the service's own environment.
func TestServicesRelativeCommandInWorkingDir(t *testing.T) {
	needRoot(t)
	cfgPath, marks := setupConf(t, `
[services.app]
command = "./run.sh"
working_dir = "@DIR@/app"
ready = { exec = ["./ready.sh"], interval = "50ms" }

[services.tool]
command = "tool"
working_dir = "@DIR@/app"
env = { PATH = "bin:/usr/bin:/bin" }
`)
	dir := filepath.Dir(cfgPath)
	writeExecutable(t, filepath.Join(dir, "app/run.sh"), `echo "run $(pwd)" >> "$MARKS"; exec sleep 1000`, 0o755)
	writeExecutable(t, filepath.Join(dir, "app/ready.sh"), `echo ready-checked >> "$MARKS"`, 0o755)
	writeExecutable(t, filepath.Join(dir, "app/bin/tool"), `echo tool >> "$MARKS"; exec sleep 1000`, 0o755)
	p := startUno(t, startOpts{mode: asPID1, env: []string{"MARKS=" + marks}}, "-c", cfgPath)
	waitMark(t, marks, "run_"+filepath.Join(dir, "app"))
	waitMark(t, marks, "ready-checked")
	waitMark(t, marks, "tool")
	poll(t, "app ready", func() bool { return strings.Contains(p.stderr.String(), "service ready service=app") })
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestServicesCheckFindsCommands: uno check looks each command up as its service will run it
// (working_dir, the service's PATH, its user) and reports those it cannot run as errors.
func TestServicesCheckFindsCommands(t *testing.T) {
	cfgPath, _ := setupConf(t, `
[services.good]
command = "./run.sh"
working_dir = "@DIR@/app"
ready = { exec = ["./run.sh"] }

[services.missing]
command = "./nothere.sh"
working_dir = "@DIR@/app"

[services.noexec]
command = ["@DIR@/app/plain.sh"]

[services.adir]
command = ["@DIR@/app/sub"]

[services.nopath]
command = "no-such-program-anywhere"
env = { PATH = "@DIR@/app/sub:/usr/bin" }

[services.badcheck]
command = "./run.sh"
working_dir = "@DIR@/app"
ready = { exec = "./nothere.sh" }
`+rootOnly(t))
	dir := filepath.Dir(cfgPath)
	writeExecutable(t, filepath.Join(dir, "app/run.sh"), "exit 0", 0o755)
	writeExecutable(t, filepath.Join(dir, "app/plain.sh"), "exit 0", 0o644)
	writeExecutable(t, filepath.Join(dir, "app/rootonly.sh"), "exit 0", 0o744)
	if err := os.MkdirAll(filepath.Join(dir, "app/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testbin.Uno(t), "check", "-c", "uno.toml")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d, want 1\n%s", code, out)
	}
	want := []string{
		`uno: uno.toml:8: services.missing.command: cannot run ./nothere.sh in ` + dir + `/app: no such file or directory`,
		`uno: uno.toml:12: services.noexec.command: cannot run ` + dir + `/app/plain.sh: permission denied`,
		`uno: uno.toml:15: services.adir.command: cannot run ` + dir + `/app/sub: is a directory`,
		`uno: uno.toml:18: services.nopath.command: cannot run no-such-program-anywhere: not found in PATH ` + dir + `/app/sub:/usr/bin`,
		`uno: uno.toml:24: services.badcheck.ready.exec: cannot run ./nothere.sh in ` + dir + `/app: no such file or directory`,
	}
	if os.Geteuid() == 0 {
		want = append(want, `uno: uno.toml:27: services.rootonly.command: cannot run `+dir+`/app/rootonly.sh as user nobody: permission denied`)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing line:\n%s\ngot:\n%s", w, out)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d lines, want %d:\n%s", len(got), len(want), out)
	}
}

// rootOnly is a service whose script only root may run, when the test can tell (as root, with
// nobody in /etc/passwd): its user cannot execute it although uno could.
func rootOnly(t *testing.T) string {
	if os.Geteuid() != 0 {
		return ""
	}
	return `
[services.rootonly]
command = ["@DIR@/app/rootonly.sh"]
user = "nobody"
`
}

// TestServicesGraceSetsDefaultStopTimeout: --grace and UNO_GRACE override [uno] grace, and with
// it the stop_timeout of every service that does not set its own. The configuration's grace
// (300ms) would kill the service, which takes a second to stop; the given one (5s) lets it finish.
func TestServicesGraceSetsDefaultStopTimeout(t *testing.T) {
	needRoot(t)
	const conf = `
[uno]
grace = "300ms"

[services.db]
command = ["sh", "-c", 'trap "sleep 1; echo clean-stop >> \"$MARKS\"; exit 0" TERM; echo up >> "$MARKS"; while :; do sleep 0.05; done']
`
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--grace", "5s"}},
		{"environment", []string{"UNO_GRACE=5s"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfgPath, marks := setupConf(t, conf)
			env := append([]string{"MARKS=" + marks}, c.env...)
			p := startUno(t, startOpts{mode: asPID1, env: env}, append([]string{"-c", cfgPath}, c.args...)...)
			waitMark(t, marks, "up")
			p.signal(syscall.SIGTERM)
			p.expectExit(0)
			if !slices.Contains(readMarks(t, marks), "clean-stop") {
				t.Errorf("db did not stop cleanly: %q\nstderr: %s", readMarks(t, marks), p.stderr.String())
			}
			if strings.Contains(p.stderr.String(), "killing") {
				t.Errorf("db was killed:\n%s", p.stderr.String())
			}
		})
	}
}

// TestServicesNotifySocketTooLong: a notify socket path that cannot fit a socket address (a
// long service name) is a configuration error, reported before anything starts, not a bind
// error at every start.
func TestServicesNotifySocketTooLong(t *testing.T) {
	needRoot(t)
	name := strings.Repeat("n", 100)
	cfgPath, marks := setupConf(t, `
[services.other]
command = ["sh", "-c", 'echo started >> "$MARKS"; exec sleep 1000']

[services.`+name+`]
command = ["sh", "-c", 'echo started >> "$MARKS"; exec sleep 1000']
ready = { notify = true }
`)
	want := regexp.MustCompile(`(?m)^uno: uno\.toml:7: services\.` + name + `\.ready\.notify: the notify socket's path .*/` + name + `\.sock is .* bytes: a socket address holds 107; shorten the service's name$`)

	cmd := exec.Command(testbin.Uno(t), "check", "-c", "uno.toml")
	cmd.Dir = filepath.Dir(cfgPath)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !want.Match(out) {
		t.Errorf("uno check: status %d, output:\n%s", code, out)
	}

	p := startUno(t, startOpts{mode: asPID1, env: []string{"MARKS=" + marks}}, "-c", cfgPath)
	p.expectExit(2)
	if !want.MatchString(strings.ReplaceAll(p.stderr.String(), cfgPath, "uno.toml")) {
		t.Errorf("stderr:\n%s", p.stderr.String())
	}
	if _, err := os.Stat(marks); err == nil {
		t.Errorf("a service started despite the bad configuration")
	}
}
