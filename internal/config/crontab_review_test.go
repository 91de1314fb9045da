package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestUserFieldWarningWithoutPath: with PATH unset (a PID 1 the kernel started has none), the
// job's shell searches its own default path (dash's: /usr/local/sbin:...:/bin), where Debian's
// user sync finds /bin/sync: "@daily sync" runs, and is no system crontab's line to warn about.
func TestUserFieldWarningWithoutPath(t *testing.T) {
	if _, err := lookupUser("sync"); err != nil {
		t.Skip("no user sync in /etc/passwd")
	}
	if _, err := exec.LookPath("/bin/sync"); err != nil {
		t.Skip("no /bin/sync")
	}
	path := filepath.Join(t.TempDir(), "crontab")
	if err := os.WriteFile(path, []byte("@daily sync\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadCrontab(path, []string{"HOME=/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warned about a command the shell finds: %q", cfg.Warnings)
	}
}
