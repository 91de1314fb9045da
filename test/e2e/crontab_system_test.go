package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// System crontabs (/etc/crontab, /etc/cron.d/*): a user field between schedule and command.

// TestCronSystemCrontab: uno as PID 1 runs a system crontab's jobs each as its line's user:
// root's job writes its ids into a directory only root can write to, nobody's into nobody's
// own, and nobody's try at root's directory is refused. Each job gets cron's LOGNAME and HOME.
func TestCronSystemCrontab(t *testing.T) {
	needRoot(t)
	dir := helperDir(t) // reachable by nobody, unlike t.TempDir()
	rootDir, nobodyDir := filepath.Join(dir, "root"), filepath.Join(dir, "nobody")
	for _, d := range []string{rootDir, nobodyDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(nobodyDir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	ids := `echo "$(id -u):$(id -g):$LOGNAME:$HOME" > `
	writeFile(t, filepath.Join(dir, "system.crontab"), strings.NewReplacer("@ROOT@", rootDir, "@NOBODY@", nobodyDir).Replace(`SHELL=/bin/sh
# name: as-root
* * * * * * root `+ids+`@ROOT@/id.tmp && mv @ROOT@/id.tmp @ROOT@/id
# name: as-nobody
* * * * * * nobody `+ids+`@NOBODY@/id.tmp && mv @NOBODY@/id.tmp @NOBODY@/id; if touch @ROOT@/intruder 2>/dev/null; then echo in; else echo denied; fi > @NOBODY@/write-root.tmp && mv @NOBODY@/write-root.tmp @NOBODY@/write-root
`))
	cfg := filepath.Join(dir, "uno.toml")
	writeFile(t, cfg, "crontab = \"system.crontab\"\ncrontab_user_field = true\n")

	check := exec.Command(reachableUno(t), "check", "-c", cfg)
	out, err := check.CombinedOutput()
	if err != nil || !regexp.MustCompile(`as-root\s.*user root \(0:0\)`).Match(out) || !regexp.MustCompile(`as-nobody\s.*user nobody \(65534:65534\)`).Match(out) {
		t.Errorf("uno check: %v\n%s", err, out)
	}

	p := startUno(t, startOpts{mode: asPID1}, "-c", cfg, "--no-socket")
	read := func(path string) string {
		var data []byte
		poll(t, path, func() bool {
			var err error
			data, err = os.ReadFile(path)
			return err == nil
		})
		return strings.TrimSpace(string(data))
	}
	owner := func(path string) uint32 {
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		return st.Uid
	}
	if got := read(filepath.Join(rootDir, "id")); got != "0:0:root:/root" {
		t.Errorf("root's job ran as %q", got)
	}
	if got := read(filepath.Join(nobodyDir, "id")); got != "65534:65534:nobody:/nonexistent" {
		t.Errorf("nobody's job ran as %q", got)
	}
	if got := read(filepath.Join(nobodyDir, "write-root")); got != "denied" {
		t.Errorf("nobody's job writing into root's directory: %q", got)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
	if o := owner(filepath.Join(rootDir, "id")); o != 0 {
		t.Errorf("root's file is owned by %d", o)
	}
	if o := owner(filepath.Join(nobodyDir, "id")); o != nobody {
		t.Errorf("nobody's file is owned by %d", o)
	}
	if _, err := os.Stat(filepath.Join(rootDir, "intruder")); err == nil {
		t.Errorf("nobody's job wrote into root's directory")
	}
}

// TestCronDebianSystemCrontab: Debian's own /etc/crontab (cron-daemon-common 3.0pl1-162) is
// read as cron reads it: four jobs of root, and uno check shows each with its user; read as a
// user crontab instead (crontab_user_field = false), each command would begin with "root".
func TestCronDebianSystemCrontab(t *testing.T) {
	needRoot(t)
	data, err := os.ReadFile("../../internal/config/testdata/crontab/debian-etc-crontab")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "crontab"), string(data))
	cfg := filepath.Join(dir, "uno.toml")
	writeFile(t, cfg, "crontab = \"crontab\"\ncrontab_user_field = true\n")
	out, err := exec.Command(reachableUno(t), "check", "-c", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("uno check: %v\n%s", err, out)
	}
	for _, job := range []string{"crontab-18", "crontab-19", "crontab-20", "crontab-21"} {
		if !regexp.MustCompile(`(?m)^\s+\d+\.\s+` + job + `\s.*user root \(0:0\)`).Match(out) {
			t.Errorf("uno check lacks %s as root:\n%s", job, out)
		}
	}
}

// TestCronSystemCrontabByPlace: a crontab in /etc/cron.d is a system crontab for uno -C as it
// is for cron, with no key saying so; a user crontab's line there names no user, and uno check
// says which field it took for the user and how to read the file otherwise (exit 1, as for
// any error it finds). /etc/cron.d is a
// bind mount of the test's own directory in a mount namespace of uno's own (the host's is
// untouched).
func TestCronSystemCrontabByPlace(t *testing.T) {
	needRoot(t)
	if st, err := os.Stat("/etc/cron.d"); err != nil || !st.IsDir() {
		t.Skip("no /etc/cron.d to mount over")
	}
	dir := helperDir(t)
	writeFile(t, filepath.Join(dir, "system"), "@daily nobody date\n")
	writeFile(t, filepath.Join(dir, "supercronic-style"), "@daily echo hi\n")
	inCronD := func(args ...string) (string, int) {
		cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", `mount --bind "$0" /etc/cron.d && exec "$@"`, dir, reachableUno(t)}, args...)...)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, code := inCronD("check", "-C", "/etc/cron.d/system")
	if code != 0 || !regexp.MustCompile(`system-1\s.*user nobody \(65534:65534\)`).MatchString(out) {
		t.Errorf("uno check -C /etc/cron.d/system: exit %d\n%s", code, out)
	}
	out, code = inCronD("check", "-C", "/etc/cron.d/supercronic-style")
	want := `/etc/cron.d/supercronic-style:1: user: no such user "echo" in /etc/passwd (a line of /etc/crontab or /etc/cron.d has a user field, as cron reads it; crontab_user_field = false reads a user crontab)`
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("uno check -C /etc/cron.d/supercronic-style: exit %d, want 1 and %q:\n%s", code, want, out)
	}
	// Outside /etc/cron.d, the same file is a user crontab.
	if out, err := exec.Command(reachableUno(t), "check", "-C", filepath.Join(dir, "supercronic-style")).CombinedOutput(); err != nil || strings.Contains(string(out), "user ") {
		t.Errorf("uno check -C of a user crontab: %v\n%s", err, out)
	}
}

// TestCronSystemCrontabNonRoot: a non-root uno refuses, at load (exit 2, nothing started) and
// in uno check (exit 1), a system crontab job of another user, at its file:line; a job of its
// own user needs no switch, and runs.
func TestCronSystemCrontabNonRoot(t *testing.T) {
	needRoot(t)
	dir := helperDir(t)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(out, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	tab := filepath.Join(dir, "tab")
	writeFile(t, tab, "* * * * * * nobody id -u > "+out+"/nobody.tmp && mv "+out+"/nobody.tmp "+out+"/nobody\n"+
		"* * * * * * root touch "+out+"/root\n")
	conf := "crontab = \"" + tab + "\"\ncrontab_user_field = true\n"
	want := tab + `:2: user: uno runs as uid 65534, not root, and cannot switch to root (uid 0)`

	cmd := nonRootUno(t, conf, "", nil, "--no-socket")
	got, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(got), want) {
		t.Errorf("exit %d, want 2 and %q:\n%s", code, want, got)
	}
	for _, f := range []string{"nobody", "root"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("a job ran (%s)", f)
		}
	}
	check := exec.Command(reachableUno(t), "check", "-c", cmd.Args[2])
	check.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	got, _ = check.CombinedOutput()
	if code := check.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(got), want) {
		t.Errorf("uno check: exit %d, want 1 and %q:\n%s", code, want, got)
	}

	// Only nobody's job: it runs, as nobody, with no switch.
	writeFile(t, tab, "* * * * * * nobody id -u > "+out+"/nobody.tmp && mv "+out+"/nobody.tmp "+out+"/nobody\n")
	p := startCmd(t, nonRootUno(t, conf, "", nil, "--no-socket"))
	var data []byte
	poll(t, "nobody's job", func() bool {
		var err error
		data, err = os.ReadFile(filepath.Join(out, "nobody"))
		return err == nil
	})
	if strings.TrimSpace(string(data)) != "65534" {
		t.Errorf("the job ran as %q", data)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
}

// TestCronSystemCrontabComparedWithSupercronic runs the real supercronic (make test-deps
// installs it) to back docs/services.md: it has no user field, so it takes Debian's /etc/crontab
// as valid with five time fields, and runs a system crontab's user as the command.
func TestCronSystemCrontabComparedWithSupercronic(t *testing.T) {
	supercronic := filepath.Join(testbin.RepoRoot(), "bin", "tools", "supercronic")
	if _, err := os.Stat(supercronic); err != nil {
		t.Skipf("no %s (make test-deps installs it): %v", supercronic, err)
	}
	out, err := exec.Command(supercronic, "-test", "-debug", "../../internal/config/testdata/crontab/debian-etc-crontab").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `try parse (5 fields): '17 *\t* * *'`) || !strings.Contains(string(out), "crontab is valid") {
		t.Errorf("supercronic changed: Debian's /etc/crontab is no longer read with 5 fields and a command \"root ...\"; update docs/services.md: %v\n%s", err, out)
	}

	// Its seven fields are seconds first and a year last: a job of every second.
	dir := t.TempDir()
	tab, logPath := filepath.Join(dir, "tab"), filepath.Join(dir, "log")
	writeFile(t, tab, "* * * * * * * root echo ran\n")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(supercronic, tab)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	poll(t, "supercronic's first run", func() bool {
		data, _ := os.ReadFile(logPath)
		return strings.Contains(string(data), "error running command")
	})
	data, _ := os.ReadFile(logPath)
	if !strings.Contains(string(data), `job.command="root echo ran"`) || !strings.Contains(string(data), "root: not found") {
		t.Errorf("supercronic changed: the user field is no longer its command; update docs/services.md:\n%s", data)
	}
}
