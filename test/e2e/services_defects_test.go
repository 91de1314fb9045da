package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
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
