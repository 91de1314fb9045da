package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// uno run as a non-root uid, as a Dockerfile's USER or Kubernetes' runAsNonRoot run it.

const nobody = 65534

// nonRootUno runs uno as nobody with conf, in a PID namespace of its own; setpriv narrows the
// bounding set first when bounding is given ("-all": none), as docker run --cap-drop ALL does.
func nonRootUno(t *testing.T, conf, bounding string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	dir := helperDir(t)
	cfgPath := filepath.Join(dir, "uno.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(conf, "@DIR@", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	uno := reachableUno(t)
	argv := append([]string{uno, "-c", cfgPath}, args...)
	var cmd *exec.Cmd
	if bounding != "" {
		cmd = exec.Command("setpriv", append([]string{"--bounding-set", bounding, "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"}, argv...)...)
	} else {
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWPID
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// TestNonRootConfigErrors: what a non-root uno cannot do is a configuration error naming the
// service and the key, exit status 2, before anything starts; uno check says the same.
func TestNonRootConfigErrors(t *testing.T) {
	needRoot(t)
	cases := []struct {
		name, conf, bounding, want string
	}{
		{"user", `user = "root"`, "", `services.s.user: uno runs as uid 65534, not root, and cannot switch to root (uid 0)`},
		{"capability it lacks", `capabilities = ["CAP_NET_ADMIN"]`, "", `services.s.capabilities: uno does not hold CAP_NET_ADMIN, so it cannot give it (uno runs as uid 65534 with none)`},
		{"bounding set", `capabilities = []`, "", `services.s.capabilities: uno cannot narrow the bounding set to these without CAP_SETPCAP`},
		{"oom lowered", `oom_score_adj = -1`, "", `services.s.oom_score_adj: -1 is below uno's own 0, and lowering it needs CAP_SYS_RESOURCE, which uno does not hold`},
		// Review of issue 16: this was a failure of every start ("cannot start touch: nice = -5").
		{"nice lowered", `nice = -5`, "", `services.s.nice: -5 is below uno's own 0, and lowering it needs CAP_SYS_NICE, which uno does not hold (or an RLIMIT_NICE of at least 25)`},
		// uno's own user is no switch (TestNonRootOwnUser), but groups it lacks cannot be had.
		{"own user, group it lacks", "user = \"nobody\"\ngroup = \"root\"", "", `services.s.group: uno runs as uid 65534, not root, with gid 65534, and cannot switch to gid 0`},
		{"own user, groups it lacks", "user = \"nobody\"\ngroups = [\"root\"]", "", `services.s.groups: uno runs as uid 65534, not root, and cannot change its groups [65534] (its programs keep them)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conf := "[services.s]\ncommand = [\"touch\", \"@DIR@/started\"]\n" + c.conf + "\n"
			cmd := nonRootUno(t, conf, c.bounding, nil, "--no-socket")
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), c.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, c.want, out)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(cmd.Args[len(cmd.Args)-2]), "started")); err == nil {
				t.Errorf("the service started")
			}
			check := exec.Command(reachableUno(t), "check", "-c", cmd.Args[len(cmd.Args)-2])
			check.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
			out, _ = check.CombinedOutput()
			if !strings.Contains(string(out), c.want) {
				t.Errorf("uno check:\n%s", out)
			}
		})
	}
}

// TestNonRootOwnUser: user = uno's own user, for a non-root uno, is no switch: the service
// starts (a switch, even to its own ids, fails every start: setgroups needs CAP_SETGID), as
// it does with its own group and groups named.
func TestNonRootOwnUser(t *testing.T) {
	needRoot(t)
	for _, extra := range []string{"", "group = \"nogroup\"\ngroups = []", "groups = [65534]"} {
		conf := "[services.s]\ncommand = [\"sh\", \"-c\", \"id -u > @DIR@/started\"]\nuser = \"nobody\"\n" + extra + "\n"
		cmd := nonRootUno(t, conf, "", nil, "--no-socket")
		if err := os.Chmod(filepath.Dir(cmd.Args[len(cmd.Args)-2]), 0o777); err != nil {
			t.Fatal(err)
		}
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%q: exit %d, want 0:\n%s", extra, code, out)
			continue
		}
		got, err := os.ReadFile(filepath.Join(filepath.Dir(cmd.Args[len(cmd.Args)-2]), "started"))
		if err != nil || strings.TrimSpace(string(got)) != "65534" {
			t.Errorf("%q: the service did not run as 65534: %q %v\n%s", extra, got, err, out)
		}
	}
}

// TestNonRootServices: a non-root uno with an empty bounding set (docker run --user 1000
// --cap-drop ALL) gives its services what it can: capabilities = [], no_new_privileges, lower
// rlimits, a umask, a higher nice value and oom_score_adj; its control socket goes to
// $XDG_RUNTIME_DIR/uno, and it says so.
func TestNonRootServices(t *testing.T) {
	needRoot(t)
	runtime := helperDir(t)
	if err := os.Chown(runtime, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := nonRootUno(t, `
[services.s]
command = ["sleep", "1006"]
capabilities = []
no_new_privileges = true
rlimits = { nofile = [100, 200] }
umask = "0077"
nice = 5
oom_score_adj = 800
`, "-all", []string{"XDG_RUNTIME_DIR=" + runtime})
	p := startCmd(t, cmd)
	socket := filepath.Join(runtime, "uno", "uno.sock")
	poll(t, "the socket", func() bool { _, err := os.Stat(socket); return err == nil })
	// setpriv is uno's parent process until it execs: find uno as the process running sleep's parent.
	var pid int
	poll(t, "the service", func() bool {
		for _, c := range []int{p.cmd.Process.Pid} {
			if k := unoChildren(t, c); k["sleep 1006"] != 0 {
				pid = k["sleep 1006"]
			}
		}
		return pid != 0
	})
	st := procStatus(t, pid)
	for k, v := range map[string]string{"CapBnd": "0000000000000000", "CapEff": "0000000000000000", "NoNewPrivs": "1", "Umask": "0077", "Uid": "65534\t65534\t65534\t65534"} {
		if st[k] != v {
			t.Errorf("%s = %q, want %q", k, st[k], v)
		}
	}
	if got := procLimits(t, pid)["Max open files"]; got != [2]string{"100", "200"} {
		t.Errorf("nofile %v", got)
	}
	if got := procNice(t, pid); got != "5" {
		t.Errorf("nice %s", got)
	}
	if got := readTrim(t, fmt.Sprintf("/proc/%d/oom_score_adj", pid)); got != "800" {
		t.Errorf("oom_score_adj %s", got)
	}
	r := runCtlAs(t, &syscall.Credential{Uid: nobody, Gid: nobody}, socket, "status")
	if r.code != 0 || !strings.Contains(r.stdout, "s") {
		t.Errorf("uno ctl status as nobody: %d %s %s", r.code, r.stdout, r.stderr)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	<-p.stderrDone
	if n := strings.Count(p.stderr.String(), "control socket listening path="+socket); n != 1 {
		t.Errorf("uno said %d times where its socket went:\n%s", n, p.stderr.String())
	}
}

// TestReadOnlyRoot: on a read-only root (docker run --read-only: /run and /tmp not writable), a
// non-root uno runs its services and says once that it runs without a control socket.
func TestReadOnlyRoot(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	dir := helperDir(t)
	cfgPath := filepath.Join(dir, "uno.toml")
	if err := os.WriteFile(cfgPath, []byte(`
[services.a]
type = "oneshot"
command = ["sh", "-c", "echo a ran; touch /tmp/x 2>&1 | sed 's/.*: //'"]
no_new_privileges = true
[services.b]
type = "oneshot"
command = ["echo", "b ran"]
depends_on = ["a"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	uno := reachableUno(t)
	// A private mount namespace whose root is remounted read-only, uno as nobody in it.
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--pid", "--fork", "sh", "-c",
		`mount -o remount,bind,ro / && exec setpriv --reuid 65534 --regid 65534 --clear-groups -- "$@"`, "sh", uno, "-c", cfgPath)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	p := startCmd(t, cmd)
	p.expect(`^a +\| a ran$`)
	p.expect(`^a +\| Read-only file system$`)
	p.expect(`^b +\| b ran$`)
	p.expectExit(0)
	<-p.stderrDone
	if n := strings.Count(p.stderr.String(), "control socket not available"); n != 1 {
		t.Errorf("uno said %d times that it has no socket:\n%s", n, p.stderr.String())
	}
}
