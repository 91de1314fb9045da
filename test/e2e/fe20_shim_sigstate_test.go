package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/testbin"
)

// TestShimSignalStateAsDirect (review fe20): a service started through the privilege shim
// (umask, rlimits, no_new_privileges) begins with the same SigIgn, SigBlk and SigCgt as one
// started directly, when uno's caller ignored signals (sh's trap with an empty action: HUP, INT and the job-control
// ones are kept ignored, USR1 and PIPE are not) and blocked one (USR2), as PID 1 and as subreaper.
func TestShimSignalStateAsDirect(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "uno.toml")
		conf := `
[services.plain]
command = ["sleep", "1001"]

[services.umask]
command = ["sleep", "1002"]
umask = "0027"

[services.rlimits]
command = ["sleep", "1003"]
rlimits = { nofile = 1024 }

[services.nnp]
command = ["sleep", "1004"]
no_new_privileges = true
`
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		uno := testbin.Uno(t)
		cmd := exec.Command("sh", "-c", `trap '' HUP INT TSTP TTIN TTOU CONT USR1 PIPE; exec "$0" "$@"`,
			uno, "--socket", filepath.Join(dir, "uno.sock"), "-c", cfg)
		cmd.SysProcAttr = &syscall.SysProcAttr{}
		if m == asPID1 {
			cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWPID
		}
		// USR2 blocked in the caller: from a thread of ours that blocks it for the fork.
		runtime.LockOSThread()
		var set, old unix.Sigset_t
		set.Val[0] = 1 << (syscall.SIGUSR2 - 1)
		unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old)
		p := startCmd(t, cmd)
		unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
		runtime.UnlockOSThread()
		want := map[string]string{"1001": "", "1002": "", "1003": "", "1004": ""}
		got := map[string]map[string]string{}
		end := time.Now().Add(deadline)
		for len(got) < len(want) && time.Now().Before(end) {
			for _, pid := range descendants(p.cmd.Process.Pid) {
				b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
				args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
				if len(args) == 2 && args[0] == "sleep" {
					if _, ok := want[args[1]]; ok {
						got[args[1]] = pidStatus(pid)
					}
				}
			}
			time.Sleep(time.Millisecond)
		}
		if len(got) < len(want) {
			t.Fatalf("not every service started within %v: %v\n%s", deadline, got, p.stderr.String())
		}
		for _, k := range []string{"SigIgn", "SigBlk", "SigCgt"} {
			direct := got["1001"][k]
			t.Logf("%s: plain %s, umask %s, rlimits %s, no_new_privileges %s", k, direct, got["1002"][k], got["1003"][k], got["1004"][k])
			for _, s := range []string{"1002", "1003", "1004"} {
				if got[s][k] != direct {
					t.Errorf("sleep %s (through the shim): %s %s, started directly: %s", s, k, got[s][k], direct)
				}
			}
		}
		p.signal(syscall.SIGTERM)
		p.wait()
	})
}

// descendants lists pid's children and theirs.
func descendants(pid int) []int {
	var out []int
	for _, kid := range children(pid) {
		out = append(out, kid)
		out = append(out, descendants(kid)...)
	}
	return out
}
