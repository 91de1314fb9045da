package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testbin"
)

// TestCronStopComparedWithSupercronic runs the real supercronic (go install, as make test-deps
// does) beside uno on the same job, to back what docs/services.md says of it: on SIGTERM uno
// sends the running job its stop signal and exits once it has ended; supercronic waits for the
// job without signalling it. Both skip a run due while one goes.
func TestCronStopComparedWithSupercronic(t *testing.T) {
	needBash(t)
	supercronic := filepath.Join(testbin.RepoRoot(), "bin", "tools", "supercronic")
	if _, err := os.Stat(supercronic); err != nil {
		t.Skipf("no %s (make test-deps installs it): %v", supercronic, err)
	}
	run := func(t *testing.T, name string, argv func(tab string) []string, line string) (gotTerm bool, stillRunning bool, log string) {
		dir := t.TempDir()
		marks := filepath.Join(dir, "marks")
		job := script(t, dir, "job.sh", `
trap 'echo got-term >> `+marks+`; exit 0' TERM
echo start >> `+marks+`
sleep 30 & wait
`)
		tab := filepath.Join(dir, "tab")
		if err := os.WriteFile(tab, []byte(line+" bash "+job+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args := argv(tab)
		cmd := exec.Command(args[0], args[1:]...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() }()
		poll(t, name+"'s first run", func() bool { return countMarks(t, marks, "start") >= 1 })
		// A second due time passes while the run goes: neither starts another.
		time.Sleep(1500 * time.Millisecond)
		if n := countMarks(t, marks, "start"); n != 1 {
			t.Errorf("%s started %d runs of a job that was still going", name, n)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _, _ = cmd.Process.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			stillRunning = true
		}
		return countMarks(t, marks, "got-term") > 0, stillRunning, out.String()
	}
	t.Run("uno", func(t *testing.T) {
		uno := testbin.Uno(t)
		term, running, log := run(t, "uno", func(tab string) []string { return []string{uno, "--no-socket", "-C", tab} }, "* * * * * *")
		if !term || running {
			t.Errorf("uno: job got TERM %v, uno still running 2 s after TERM %v\n%s", term, running, log)
		}
	})
	t.Run("supercronic", func(t *testing.T) {
		term, running, log := run(t, "supercronic", func(tab string) []string { return []string{supercronic, tab} }, "* * * * * * *")
		if term || !running {
			t.Errorf("supercronic changed: job got TERM %v, still running 2 s after TERM %v; update docs/services.md\n%s", term, running, log)
		}
		if !strings.Contains(log, "job is still running") {
			t.Errorf("supercronic did not log the skipped run:\n%s", log)
		}
	})
}
