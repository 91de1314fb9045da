package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
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

// TestPrivilegesReviewRlimitsChecked: an rlimit the shim cannot set as uno is now fails every
// start, and uno can see that at load: a soft limit alone above the hard limit the service
// inherits, a hard limit raised without CAP_SYS_RESOURCE, a nofile above fs.nr_open. uno check
// used to pass all three ("1 services, in start order") and each start failed.
func TestPrivilegesReviewRlimitsChecked(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	nrOpen := atoiT(t, readTrim(t, "/proc/sys/fs/nr_open"))
	cases := map[string]string{
		// uno inherits the test's limits.
		fmt.Sprintf("nofile = %d", lim.Max+1):                "soft limit " + fmt.Sprint(lim.Max+1) + " is above the hard limit " + fmt.Sprint(lim.Max) + " the service inherits from uno",
		fmt.Sprintf("nofile = [%d, %d]", nrOpen+1, nrOpen+1): fmt.Sprint(nrOpen+1) + " is above the kernel's maximum of open files",
		fmt.Sprintf("nofile = [1, %d]", lim.Max+1):           "hard limit " + fmt.Sprint(lim.Max+1) + " is above uno's own",
		`nofile = [1, "unlimited"]`:                          "unlimited is above the kernel's maximum of open files",
	}
	if procHolds(t, 24) || lim.Max >= uint64(nrOpen) {
		// With CAP_SYS_RESOURCE a hard limit may be raised (up to nr_open); at nr_open already,
		// one more is the nr_open case.
		delete(cases, fmt.Sprintf("nofile = [1, %d]", lim.Max+1))
	}
	if lim.Max >= uint64(nrOpen) {
		delete(cases, fmt.Sprintf("nofile = %d", lim.Max+1))
	}
	for limit, want := range cases {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "uno.toml")
		if err := os.WriteFile(cfg, []byte("[services.s]\ncommand = [\"true\"]\nrlimits = { "+limit+" }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(testbin.Uno(t), "check", "-c", cfg).CombinedOutput()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err == nil {
			code = 0
		}
		if code != 1 || !strings.Contains(string(out), "uno.toml:3: services.s.rlimits.nofile: "+want) {
			t.Errorf("%s: uno check exit %d, want 1 and %q:\n%s", limit, code, want, out)
		}
	}
}

// procHolds reports whether the test holds capability c in its effective set.
func procHolds(t *testing.T, c uint) bool {
	t.Helper()
	return parseSigset(t, ownStatus(t, "CapEff"))&(1<<c) != 0
}

// TestPrivilegesReviewNoProc: without /proc (a private mount namespace where it is unmounted)
// uno cannot re-execute itself as the privilege shim; the start error says why instead of only
// "privilege shim /proc/self/exe: no such file or directory", and a service without privilege
// keys still runs.
func TestPrivilegesReviewNoProc(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	dir := helperDir(t)
	cfg := filepath.Join(dir, "uno.toml")
	conf := fmt.Sprintf("[services.plain]\ncommand = [\"touch\", \"%s/plain\"]\nrestart = \"no\"\nessential = false\n[services.s]\ncommand = [\"touch\", \"%s/shimmed\"]\numask = \"0022\"\nrestart = \"no\"\n", dir, dir)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", `umount -l /proc && exec "$0" -c "$1" --no-socket`, testbin.Uno(t), cfg)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d, want 1 (the essential service could not start)", code)
	}
	if want := "cannot start touch: privilege shim /proc/self/exe (is /proc mounted?"; !strings.Contains(string(out), want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "shimmed")); err == nil {
		t.Errorf("the shimmed service ran")
	}
}
