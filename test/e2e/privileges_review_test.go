package e2e

import (
	"fmt"
	"syscall"
	"testing"
)

// Tests from the fresh-eyes review of issue 16: each one a way the privilege shim broke.

// TestPrivilegesReviewSmallNofile: a small rlimits.nofile must bind the program, not the shim.
// The shim used to set the rlimits first and then open /proc/self/oom_score_adj, so nofile = 3
// with oom_score_adj failed the start with "oom_score_adj = 100: too many open files". (sleep itself needs one more fd for libc.)
func TestPrivilegesReviewSmallNofile(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		needRoot(t)
		p, _ := startServices(t, startOpts{mode: m}, `
[services.small]
command = ["sleep", "1011"]
rlimits = { nofile = 4 }
oom_score_adj = 100
capabilities = ["CAP_KILL"]
`, "--no-socket")
		kids := waitChildren(t, p, "sleep 1011")
		pid := kids["sleep 1011"]
		if got := procLimits(t, pid)["Max open files"][0]; got != "4" {
			t.Errorf("nofile soft = %s, want 4", got)
		}
		if got := readTrim(t, fmt.Sprintf("/proc/%d/oom_score_adj", pid)); got != "100" {
			t.Errorf("oom_score_adj = %s, want 100", got)
		}
		if got := procStatus(t, pid)["CapBnd"]; got != "0000000000000020" {
			t.Errorf("CapBnd = %s, want CAP_KILL only", got)
		}
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
	})
}
