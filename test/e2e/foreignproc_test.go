package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/testbin"
)

// TestSweepWithForeignProc: uno as subreaper in a PID namespace whose /proc is still the host's
// (unshare --pid without remounting /proc). Its sweep must stop its own leftover and nobody else,
// though /proc numbers processes differently from the namespace: a decoy that the namespace's
// init started, not uno, must not be signalled.
//
// The old sweep listed the children of "pid 2" (uno's number in its namespace) in the host's
// /proc, which are the host's kernel threads (pids 3, 4, 5...), and signalled those numbers in
// uno's namespace: every process there but init, the decoy included.
func TestSweepWithForeignProc(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "go")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// sh is PID 1 of the namespace, uno its first child (pid 2). The program leaves a leftover that
	// reports its signals, and waits on the fifo; the decoy reports its signals too, and ends on
	// SIGUSR2, which sh sends it once uno is gone.
	script := `
"$UNO" -v --no-socket --grace 10s -- /bin/sh -c '"$TP" signals & echo "leftover $!"; read x < "$FIFO"' &
uno=$!
echo "uno $uno"
"$TP" signals 12 &
decoy=$!
echo "decoy $decoy"
wait $uno
echo "uno exited $?"
kill -USR2 $decoy
wait $decoy
`
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), "UNO="+testbin.Uno(t), "TP="+testbin.TestProg(t), "FIFO="+fifo)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	p := startCmd(t, cmd)

	// Wait until uno, the leftover and the decoy run, and both reporters are ready.
	var unoPid, leftover, decoy string
	ready := map[string]bool{}
	named := regexp.MustCompile(`^(uno|leftover|decoy) (\d+)$`)
	readyLine := regexp.MustCompile(`^(\d+) ready$`)
	end := time.After(deadline)
	for unoPid == "" || !ready[leftover] || !ready[decoy] || leftover == "" || decoy == "" {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("stdout closed early\nstdout: %q\nstderr: %s", p.seen, p.stderr.String())
			}
			p.seen = append(p.seen, line)
			if m := named.FindStringSubmatch(line); m != nil {
				switch m[1] {
				case "uno":
					unoPid = m[2]
				case "leftover":
					leftover = m[2]
				case "decoy":
					decoy = m[2]
				}
			} else if m := readyLine.FindStringSubmatch(line); m != nil {
				ready[m[1]] = true
			}
		case <-end:
			t.Fatalf("uno, its leftover and the decoy not all up within %v\nstdout: %q\nstderr: %s", deadline, p.seen, p.stderr.String())
		}
	}
	if unoPid != "2" {
		// Then the host's pid 2 (kthreadd) is not what the old sweep would have read as uno.
		t.Fatalf("uno is pid %s in its namespace, want 2 for this test to mean anything", unoPid)
	}
	// The program ends; uno sweeps.
	if err := os.WriteFile(fifo, []byte("go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rest := p.rest()
	p.expectExit(0)
	if !slices.Contains(rest, "uno exited 0") {
		t.Errorf("uno's exit not reported\nstdout: %q\nstderr: %s", p.seen, p.stderr.String())
	}
	for _, sig := range []string{"15", "18"} {
		if slices.Contains(rest, decoy+" got "+sig) {
			t.Errorf("uno's sweep sent signal %s to the decoy, which is not its own\nstdout: %q\nstderr: %s", sig, p.seen, p.stderr.String())
		}
	}
	if !slices.Contains(rest, decoy+" got 12") {
		t.Errorf("the decoy did not outlive uno\nstdout: %q\nstderr: %s", p.seen, p.stderr.String())
	}
	if !slices.Contains(rest, leftover+" got 15") {
		t.Errorf("uno's own leftover did not get SIGTERM\nstdout: %q\nstderr: %s", p.seen, p.stderr.String())
	}
}
