package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reachableRootfs is the shared root filesystem, which MkdirTemp made 0700, opened to the
// non-root processes of these tests.
func reachableRootfs(t *testing.T) string {
	t.Helper()
	root := rootfs(t)
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// runc gives a tmpfs the mode of the directory it covers, whatever the options say: 1777,
	// as /tmp is in every image.
	if err := os.Chmod(filepath.Join(root, "tmp"), os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	return root
}

// privilegesConf prints, for each service, what the kernel says of it, and ends.
const privilegesConf = `
[services.bind]
type = "oneshot"
command = ["sh", "-c", 'grep -E "^(Uid|Cap...|NoNewPrivs)" /proc/self/status | sed "s/^/bind /"']
user = 1000
capabilities = ["CAP_NET_BIND_SERVICE"]

[services.limits]
type = "oneshot"
command = ["sh", "-c", 'grep -E "^(Umask|NoNewPrivs)" /proc/self/status | sed "s/^/limits /"; grep "open files" /proc/self/limits | sed "s/^/limits /"; echo "limits nice $$(cut -d" " -f19 /proc/self/stat) oom $$(cat /proc/self/oom_score_adj)"']
depends_on = ["bind"]
no_new_privileges = true
rlimits = { nofile = [300, 400] }
umask = "0027"
nice = 7
oom_score_adj = 600
`

// TestPrivilegesUnderRuntimes: in a container (runc and crun) whose root is read-only, uno as PID 1
// gives each service exactly its settings: a uid-1000 service holds CAP_NET_BIND_SERVICE in all
// five sets, and another has no_new_privs, its umask, rlimit, nice and oom_score_adj.
func TestPrivilegesUnderRuntimes(t *testing.T) {
	eachRuntime(t, func(t *testing.T, rt string) {
		etc := t.TempDir()
		if err := os.WriteFile(filepath.Join(etc, "uno.toml"), []byte(privilegesConf), 0o644); err != nil {
			t.Fatal(err)
		}
		caps := []string{"CAP_KILL", "CAP_CHOWN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE"}
		spec := ociSpec([]string{"/usr/bin/uno", "--no-socket", "-c", "/etc/uno/uno.toml"}, []string{"PATH=/usr/bin:/bin"}, reachableRootfs(t), true, "uno-test", caps)
		spec["mounts"] = append(spec["mounts"].([]map[string]any),
			map[string]any{"destination": "/etc/uno", "type": "bind", "source": etc, "options": []string{"bind", "ro"}})
		c := start(t, rt, t.TempDir(), spec, "uno-privs")
		if code := c.wait(deadline); code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, c.stdout.String(), c.stderr.String())
		}
		out := c.stdout.String()
		want := []string{"bind Uid:\t1000\t1000\t1000\t1000", "bind NoNewPrivs:\t0", "limits Umask:\t0027", "limits NoNewPrivs:\t1", "limits nice 7 oom 600"}
		for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
			want = append(want, "bind "+set+":\t0000000000000400")
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("stdout lacks %q:\n%s", w, out)
			}
		}
		if !strings.Contains(out, "Max open files            300                  400") {
			t.Errorf("nofile not [300, 400]:\n%s", out)
		}
	})
}

// TestNonRootReadOnlyUnderRuntimes: the container's process is uid 1000 with no capability at
// all on a read-only root with a tmpfs /tmp (Kubernetes' restricted profile): uno runs its
// services, puts its socket in /tmp/uno-1000 and says so, and uno ctl reaches it.
func TestNonRootReadOnlyUnderRuntimes(t *testing.T) {
	eachRuntime(t, func(t *testing.T, rt string) {
		etc := t.TempDir()
		conf := "[services.web]\ncommand = [\"sh\", \"-c\", 'grep -E \"^(CapBnd|NoNewPrivs)\" /proc/self/status; echo web-up; exec sleep 1000']\ncapabilities = []\nno_new_privileges = true\n"
		if err := os.WriteFile(filepath.Join(etc, "uno.toml"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		spec := ociSpec([]string{"/usr/bin/uno", "-c", "/etc/uno/uno.toml"}, []string{"PATH=/usr/bin:/bin"}, reachableRootfs(t), true, "uno-test", []string{})
		spec["process"].(map[string]any)["user"] = map[string]any{"uid": 1000, "gid": 1000}
		spec["process"].(map[string]any)["noNewPrivileges"] = true
		spec["mounts"] = append(spec["mounts"].([]map[string]any),
			map[string]any{"destination": "/etc/uno", "type": "bind", "source": etc, "options": []string{"bind", "ro"}})
		c := start(t, rt, t.TempDir(), spec, "uno-nonroot")
		c.waitOutput("web-up")
		for _, w := range []string{"CapBnd:\t0000000000000000", "NoNewPrivs:\t1"} {
			if !strings.Contains(c.stdout.String(), w) {
				t.Errorf("stdout lacks %q:\n%s", w, c.stdout.String())
			}
		}
		c.waitFor("uno's word on its socket", func() bool {
			return strings.Contains(c.stderr.String(), "control socket listening path=/tmp/uno-1000/uno.sock")
		})
		// As the container's user, as kubectl exec would be.
		if out, err := c.ctl("exec", "--user", "1000:1000", c.id, "/usr/bin/uno", "ctl", "status"); err != nil || !strings.Contains(out, "web") || !strings.Contains(out, "running") {
			t.Errorf("uno ctl status: %v\n%s", err, out)
		}
		c.kill("TERM")
		if code := c.wait(5 * time.Second); code != 0 {
			t.Errorf("exit %d after TERM\nstderr: %s", code, c.stderr.String())
		}
	})
}
