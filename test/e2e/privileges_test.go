package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// Privilege tests: each key's effect is read from the service's /proc/PID files as the kernel
// reports it (status: CapBnd, CapPrm, CapEff, CapInh, CapAmb, NoNewPrivs, Umask; limits; stat's
// nice; oom_score_adj), from outside the service, for a service found as a child of uno.

// unoChildren returns uno's children by their command lines (arguments joined by spaces).
func unoChildren(t *testing.T, unoPid int) map[string]int {
	t.Helper()
	out := map[string]int{}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", unoPid))
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(data)) {
			pid, _ := strconv.Atoi(field)
			cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if err == nil {
				out[strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))] = pid
			}
		}
	}
	return out
}

// waitChildren polls until uno has a child for each command line and returns their pids.
func waitChildren(t *testing.T, p *proc, cmdlines ...string) map[string]int {
	t.Helper()
	var got map[string]int
	defer func() {
		if t.Failed() {
			t.Logf("uno's stderr:\n%s", p.stderr.String())
		}
	}()
	poll(t, fmt.Sprintf("children %q", cmdlines), func() bool {
		got = unoChildren(t, p.cmd.Process.Pid)
		for _, c := range cmdlines {
			if got[c] == 0 {
				return false
			}
		}
		return true
	})
	return got
}

// procStatus reads the fields of /proc/PID/status.
func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// procLimits reads /proc/PID/limits as "Max open files" -> [soft, hard].
func procLimits(t *testing.T, pid int) map[string][2]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)`)
	out := map[string][2]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			out[m[1]] = [2]string{m[2], m[3]}
		}
	}
	return out
}

func procNice(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command's ")": state is field 3, nice field 19.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return fields[19-3]
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// unoBounding is the bounding set the test (and so uno) runs with.
func ownStatus(t *testing.T, field string) string {
	t.Helper()
	return procStatus(t, os.Getpid())[field]
}

func TestPrivilegesInProc(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		needRoot(t)
		p, _ := startServices(t, startOpts{mode: m}, `
[services.plain]
command = ["sleep", "1001"]

[services.nobind]
command = ["sleep", "1002"]
user = "nobody"
capabilities = ["CAP_NET_BIND_SERVICE"]

[services.none]
command = ["sleep", "1003"]
capabilities = []

[services.rootcaps]
command = ["sleep", "1004"]
capabilities = ["cap_kill", "Chown"]
no_new_privileges = true

[services.limits]
command = ["sleep", "1005"]
rlimits = { nofile = [1000, 2000], core = 0, memlock = "4MiB", stack = "8MiB", cpu = "1h", nproc = [4096, 8192] }
umask = "0027"
nice = 10
oom_score_adj = 500
`, "--no-socket")
		kids := waitChildren(t, p, "sleep 1001", "sleep 1002", "sleep 1003", "sleep 1004", "sleep 1005")
		sets := []string{"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"}
		want := map[string]map[string]string{
			// Without the keys: root's own sets, as before.
			"sleep 1001": {"CapBnd": ownStatus(t, "CapBnd"), "CapEff": ownStatus(t, "CapEff"), "CapAmb": "0000000000000000", "NoNewPrivs": "0", "Umask": ownStatus(t, "Umask")},
			"sleep 1002": {"Uid": "65534\t65534\t65534\t65534"},
			"sleep 1003": {"NoNewPrivs": "0"},
			"sleep 1004": {"NoNewPrivs": "1", "Uid": "0\t0\t0\t0"},
			"sleep 1005": {"Umask": "0027", "NoNewPrivs": "0"},
		}
		for _, s := range sets {
			want["sleep 1002"][s] = "0000000000000400" // CAP_NET_BIND_SERVICE, 10
			want["sleep 1003"][s] = "0000000000000000"
			want["sleep 1004"][s] = "0000000000000021" // CAP_CHOWN 0, CAP_KILL 5
		}
		for cmd, fields := range want {
			st := procStatus(t, kids[cmd])
			for k, v := range fields {
				if st[k] != v {
					t.Errorf("%s: %s = %q, want %q", cmd, k, st[k], v)
				}
			}
		}
		lim := procLimits(t, kids["sleep 1005"])
		for k, v := range map[string][2]string{
			"Max open files": {"1000", "2000"}, "Max processes": {"4096", "8192"},
		} {
			if lim[k] != v {
				t.Errorf("limits %s = %v, want %v", k, lim[k], v)
			}
		}
		// A single value is the soft limit; the hard one stays what uno had.
		for k, v := range map[string]string{
			"Max core file size": "0", "Max locked memory": "4194304", "Max stack size": "8388608", "Max cpu time": "3600",
		} {
			if lim[k][0] != v {
				t.Errorf("limits %s soft = %v, want %v", k, lim[k][0], v)
			}
		}
		// uno's own limits, and a service without the key, are untouched: rlimits are the
		// process's, which is why they are set in the shim and not in uno.
		// The shim is a Go program too, which raises its soft nofile limit: a service it starts
		// without rlimits.nofile must get back what a service started directly gets.
		plain, shimmed := procLimits(t, kids["sleep 1001"]), procLimits(t, kids["sleep 1004"])
		if plain["Max open files"] != shimmed["Max open files"] {
			t.Errorf("nofile through the shim %v, without it %v", shimmed["Max open files"], plain["Max open files"])
		}
		if got := procNice(t, kids["sleep 1005"]); got != "10" {
			t.Errorf("nice = %s, want 10", got)
		}
		if got := procNice(t, kids["sleep 1001"]); got != "0" {
			t.Errorf("nice of a plain service = %s, want 0", got)
		}
		if got := readTrim(t, fmt.Sprintf("/proc/%d/oom_score_adj", kids["sleep 1005"])); got != "500" {
			t.Errorf("oom_score_adj = %s, want 500", got)
		}
		if st := procStatus(t, p.cmd.Process.Pid); st["Umask"] != ownStatus(t, "Umask") || st["NoNewPrivs"] != "0" {
			t.Errorf("uno itself changed: umask %s, NoNewPrivs %s", st["Umask"], st["NoNewPrivs"])
		}
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
	})
}

// helperDir is a directory every uid can reach, for programs a non-root service runs.
func helperDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "uno-priv-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cHelper compiles a static C program into dir.
func cHelper(t *testing.T, dir, name, src string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("needs gcc (make test installs it) to build a test helper")
	}
	c := filepath.Join(dir, name+".c")
	bin := filepath.Join(dir, name)
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-static", "-O", "-o", bin, c).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", name, err, out)
	}
	return bin
}

const bind80Src = `#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
int main(void) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { printf("bind: %s\n", strerror(errno)); return 1; }
	printf("bound 80\n");
	return 0;
}
`

// TestPrivilegesBindPort80: a non-root service with CAP_NET_BIND_SERVICE binds port 80, and one
// without it gets EACCES. uno runs in a network namespace of its own, where port 80 is free and
// ports below 1024 are privileged (the default ip_unprivileged_port_start).
func TestPrivilegesBindPort80(t *testing.T) {
	needRoot(t)
	bind := cHelper(t, helperDir(t), "bind80", bind80Src)
	cfg, _ := servicesSetup(t, fmt.Sprintf(`
[services.with]
type = "oneshot"
command = ["%s"]
user = "nobody"
capabilities = ["CAP_NET_BIND_SERVICE"]

[services.without]
type = "oneshot"
command = ["%s"]
user = "nobody"
essential = false
depends_on = ["with"]
`, bind, bind))
	cmd := exec.Command(testbin.Uno(t), "-c", cfg, "--no-socket")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNET}
	p := startCmd(t, cmd)
	p.expect(`^with +\| bound 80$`)
	p.expect(`^without \| bind: Permission denied$`)
	p.expectExit(0)
}

const suidSrc = `#include <stdio.h>
#include <unistd.h>
int main(void) { printf("euid %d\n", (int)geteuid()); return 0; }
`

// TestPrivilegesNoNewPrivsSetuid: a setuid-root program raises a nobody service to euid 0, unless
// no_new_privileges is set (there or in [uno]).
func TestPrivilegesNoNewPrivsSetuid(t *testing.T) {
	needRoot(t)
	dir := helperDir(t)
	suid := cHelper(t, dir, "suid", suidSrc)
	if err := os.Chmod(suid, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	both(t, func(t *testing.T, m mode) {
		conf := fmt.Sprintf(`
[services.gains]
type = "oneshot"
command = ["%[1]s"]
user = "nobody"

[services.kept]
type = "oneshot"
command = ["%[1]s"]
user = "nobody"
no_new_privileges = true
depends_on = ["gains"]
`, suid)
		p, _ := startServices(t, startOpts{mode: m}, conf, "--no-socket")
		p.expect(`^gains \| euid 0$`)
		p.expect(`^kept +\| euid 65534$`)
		p.expectExit(0)

		// [uno] no_new_privileges is every service's default, a service may turn it off.
		p, _ = startServices(t, startOpts{mode: m}, "[uno]\nno_new_privileges = true\n"+
			strings.Replace(strings.Replace(conf, "no_new_privileges = true", "", 1), `user = "nobody"`+"\n", `user = "nobody"`+"\nno_new_privileges = false\n", 1), "--no-socket")
		p.expect(`^gains \| euid 0$`)
		p.expect(`^kept +\| euid 65534$`)
		p.expectExit(0)
	})
}

// TestPrivilegesReload: a reload that changes a service's privilege keys restarts it with the new
// ones, and one that removes them starts it as any other service again; a reload that leaves
// them restarts nothing. A secret's file is read at each start, not at reload.
func TestPrivilegesReload(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := func(keys string) string {
		return fmt.Sprintf(`
[services.s]
command = ["sh", "-c", "echo secret=$$S; exec sleep 1007"]
secrets = { S = %q }
%s
`, secret, keys)
	}
	p, _, socket, cfgPath := startControlled(t, conf(`capabilities = ["CAP_KILL"]`))
	pidOf := func() int { return waitChildren(t, p, "sleep 1007")["sleep 1007"] }
	p.expect(`^s \| secret=one$`)
	first := pidOf()
	if got := procStatus(t, first)["CapEff"]; got != "0000000000000020" {
		t.Fatalf("CapEff %s", got)
	}
	reload := func(keys string) string {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(conf(keys)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runCtl(t, socket, "reload")
		if r.code != 0 {
			t.Fatalf("reload: %d %s %s", r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	if err := os.WriteFile(secret, []byte("two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := reload(`capabilities = ["CAP_KILL"]`); !strings.Contains(out, "0 changed") {
		t.Errorf("an unchanged reload: %s", out)
	}
	if kidsOf(t, p)["sleep 1007"] != first {
		t.Errorf("an unchanged reload restarted s")
	}

	reload(`capabilities = ["CAP_CHOWN"]`)
	p.expect(`^s \| secret=two$`)
	var second int
	poll(t, "s restarted", func() bool { second = kidsOf(t, p)["sleep 1007"]; return second != 0 && second != first })
	if got := procStatus(t, second)["CapEff"]; got != "0000000000000001" {
		t.Errorf("after the reload CapEff %s, want CAP_CHOWN only", got)
	}
	reload(``)
	var third int
	poll(t, "s restarted again", func() bool { third = kidsOf(t, p)["sleep 1007"]; return third != 0 && third != second })
	if got, want := procStatus(t, third)["CapEff"], ownStatus(t, "CapEff"); got != want {
		t.Errorf("without the key CapEff %s, want uno's %s", got, want)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func kidsOf(t *testing.T, p *proc) map[string]int { return unoChildren(t, p.cmd.Process.Pid) }

// TestPrivilegesBreak: what a first reading of the keys could get wrong. The main program gets
// [uno] no_new_privileges, through the shim, with its inherited descriptor under the same number;
// a soft limit above the hard one uno has, and a nice value a non-root uno may not lower to, are
// failed starts that name the setting, and nothing of the program runs.
func TestPrivilegesBreak(t *testing.T) {
	needRoot(t)
	dir := helperDir(t)
	cfgPath, _ := servicesSetup(t, `
[uno]
no_new_privileges = true
[services.s]
type = "oneshot"
command = ["true"]
`)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(testbin.Uno(t), "-c", cfgPath, "--no-socket", "--", "sh", "-c", "grep NoNewPrivs /proc/self/status; echo through-fd3 >&3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	p := startCmd(t, cmd)
	w.Close()
	p.expect(`^NoNewPrivs:\s+1$`)
	p.expectExit(0)
	if got, _ := io.ReadAll(r); string(got) != "through-fd3\n" {
		t.Errorf("the main program's fd 3 carried %q", got)
	}

	p, _ = startServices(t, startOpts{mode: asPID1}, fmt.Sprintf(`
[services.s]
command = ["touch", "%s/ran"]
rlimits = { nofile = "unlimited" }
`, dir), "--no-socket")
	// A configuration error since the review of issue 16: uno sees its own hard limit at load.
	p.expectExit(2)
	<-p.stderrDone
	if want := `services.s.rlimits.nofile: unlimited is above the kernel's maximum of open files`; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("uno's log lacks %q:\n%s", want, p.stderr.String())
	}

	cmd = nonRootUno(t, fmt.Sprintf("[services.s]\ncommand = [\"touch\", \"%s/ran\"]\nnice = -5\n", dir), "", nil, "--no-socket")
	out, _ := cmd.CombinedOutput()
	// A configuration error since the review of issue 16 (TestNonRootConfigErrors has it too).
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "services.s.nice: -5 is below uno's own 0, and lowering it needs CAP_SYS_NICE") {
		t.Errorf("non-root nice -5: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Errorf("a service whose settings failed ran")
	}
}
