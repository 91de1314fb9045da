package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNonRootOwnUserOtherGid: uno runs as nobody with gid 100 (docker run --user 65534:100),
// not /etc/passwd's 65534, and no supplementary groups. user = "nobody" with groups = [] asks
// for what uno has (no supplementary groups) and is no switch: it must start, with uno's gid,
// and uno check must show the gid the service gets, not /etc/passwd's.
func TestNonRootOwnUserOtherGid(t *testing.T) {
	needRoot(t)
	const gid = 100
	conf := "[services.s]\ncommand = [\"sh\", \"-c\", \"echo $(id -u):$(id -g):$(id -G) > @DIR@/started\"]\nuser = \"nobody\"\ngroups = []\n"
	cmd := nonRootUno(t, conf, "", nil, "--no-socket")
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: gid}
	cfgPath := cmd.Args[len(cmd.Args)-2]
	dir := filepath.Dir(cfgPath)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(reachableUno(t), "check", "-c", cfgPath)
	check.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: gid}}
	out, err := check.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "user nobody (65534:100)") {
		t.Errorf("uno check: %v, want the service shown as user nobody (65534:100):\n%s", err, out)
	}
	out, _ = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "started"))
	if err != nil || strings.TrimSpace(string(got)) != "65534:100:100" {
		t.Errorf("the service ran as %q (%v), want 65534:100:100\n%s", got, err, out)
	}
}
