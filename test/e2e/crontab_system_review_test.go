package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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
