package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCronSystemCrontabJobRunsInHome: cron runs every job in its HOME (Debian's cron and
// vixie's: chdir(env_get("HOME", envp)) before the exec, its failure ignored; cronie: the job
// does not run if the chdir fails), the HOME /etc/passwd gives or the crontab sets. A system
// crontab's relative paths ("@daily backup tar czf backup.tgz data") mean the user's home
// there; under uno they meant uno's own directory, where that user mostly cannot write.
func TestCronSystemCrontabJobRunsInHome(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "system.crontab"), "HOME="+home+"\n* * * * * * root pwd > "+dir+"/pwd.tmp && mv "+dir+"/pwd.tmp "+dir+"/pwd\n")
	cfg := filepath.Join(dir, "uno.toml")
	writeFile(t, cfg, "crontab = \"system.crontab\"\ncrontab_user_field = true\n")
	p := startUno(t, startOpts{mode: asPID1}, "-c", cfg, "--no-socket")
	var data []byte
	poll(t, "the job's pwd", func() bool {
		var err error
		data, err = os.ReadFile(filepath.Join(dir, "pwd"))
		return err == nil
	})
	if got := strings.TrimSpace(string(data)); got != home {
		t.Errorf("the job ran in %q, want its HOME %q, as cron runs it", got, home)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

// TestCronSystemCrontabHomeComparedWithCron runs Debian's cron (3.0pl1) beside uno on the same
// /etc/cron.d line: cron runs it in the HOME the crontab sets, and so must uno. cron runs in a
// mount namespace of its own where /etc/cron.d is the test's directory and /etc/crontab an
// empty file (the host's jobs must not run); it runs jobs at a minute's start, so this waits
// up to a minute for it.
func TestCronSystemCrontabHomeComparedWithCron(t *testing.T) {
	needRoot(t)
	cron, err := lookPath("cron")
	if err != nil {
		t.Skip("no Debian cron (apt-get install cron)")
	}
	dir := helperDir(t)
	home := filepath.Join(dir, "home")
	cronD := filepath.Join(dir, "cron.d")
	for _, d := range []string{home, cronD} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	line := func(out string) string {
		return "HOME=" + home + "\n* * * * * root pwd > " + out + ".tmp && mv " + out + ".tmp " + out + "\n"
	}
	// cron reads a file of /etc/cron.d only if root owns it and only root may write it.
	cronOut, unoOut := filepath.Join(dir, "cron-pwd"), filepath.Join(dir, "uno-pwd")
	writeFile(t, filepath.Join(cronD, "review"), line(cronOut))
	writeFile(t, filepath.Join(dir, "empty"), "")
	cmd := execCommand("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$0" /etc/cron.d && mount --bind "$1" /etc/crontab && exec "$2" -f -L 0`, cronD, filepath.Join(dir, "empty"), cron)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	writeFile(t, filepath.Join(dir, "system.crontab"), line(unoOut))
	cfg := filepath.Join(dir, "uno.toml")
	writeFile(t, cfg, "crontab = \"system.crontab\"\ncrontab_user_field = true\n")
	p := startUno(t, startOpts{mode: asPID1}, "-c", cfg, "--no-socket")

	read := func(path string, within time.Duration) string {
		end := time.Now().Add(within)
		for time.Now().Before(end) {
			if data, err := os.ReadFile(path); err == nil {
				return strings.TrimSpace(string(data))
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no %s within %v", path, within)
		return ""
	}
	if got := read(unoOut, deadline+time.Minute); got != home {
		t.Errorf("uno ran the job in %q, want its HOME %q", got, home)
	}
	if got := read(cronOut, deadline+time.Minute); got != home {
		t.Errorf("cron ran the job in %q, not its HOME %q: the claim is wrong", got, home)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}
