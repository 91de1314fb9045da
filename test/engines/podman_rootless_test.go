package engines

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPodmanRootless: rootless podman (uid 1000, a single-uid user namespace as an unconfigured
// /etc/subuid gives) runs uno as ENTRYPOINT on a read-only root without capabilities. Machines
// where rootless podman itself cannot run a container (a hybrid cgroup hierarchy, no user
// namespaces) skip, saying why.
func TestPodmanRootless(t *testing.T) {
	needEngine(t) // the base image's files, and root to prepare a directory for uid 1000
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skipf("SKIP: podman not installed (make test installs it): %v", err)
	}
	dir, err := os.MkdirTemp("", "uno-podman-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	podman := func(args ...string) (string, error) {
		base := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--storage-driver", "vfs", "--storage-opt", "vfs.ignore_chown_errors=true",
			"--cgroup-manager", "cgroupfs", "--events-backend", "none", "--runtime", "crun"}
		cmd := exec.Command("setpriv", append([]string{"--reuid", "1000", "--regid", "1000", "--clear-groups", "podman"}, append(base, args...)...)...)
		cmd.Env = []string{"HOME=" + filepath.Join(dir, "home"), "XDG_RUNTIME_DIR=" + filepath.Join(dir, "xdg"), "PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	t.Cleanup(func() {
		_, _ = podman("rm", "-af", "-t", "0")
		_ = exec.Command("sh", "-c", `grep -o " $1[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`, "sh", dir).Run()
		_ = os.RemoveAll(dir)
	})
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", filepath.Join(engine.dir, "base", "rootfs"), "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "uno.toml")
	if err := os.WriteFile(conf, []byte(`[services.web]
type = "oneshot"
command = ["sh", "-c", 'grep -E "^(CapBnd|CapEff|NoNewPrivs)" /proc/self/status; echo web-done']
capabilities = []
no_new_privileges = true
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"home", "xdg"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "-R", "1000:1000", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	if out, err := podman("import", tarball, "uno-rootless"); err != nil {
		t.Skipf("SKIP: rootless podman cannot import an image on this machine: %v\n%s", err, out)
	}
	out, err := podman("run", "--rm", "--network", "none", "--cgroups", "disabled", "--read-only", "--cap-drop", "ALL",
		"-v", conf+":/etc/uno/uno.toml:ro", "--entrypoint", "/usr/bin/uno", "localhost/uno-rootless", "-c", "/etc/uno/uno.toml")
	for _, why := range []string{"cgroups in hybrid mode", "newuidmap", "user namespaces are not enabled", "cannot clone: Operation not permitted"} {
		if err != nil && strings.Contains(out, why) {
			t.Skipf("SKIP: rootless podman cannot run a container on this machine (%s): %s", why, out)
		}
	}
	if err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	for _, want := range []string{"CapBnd:\t0000000000000000", "CapEff:\t0000000000000000", "NoNewPrivs:\t1", "web-done"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
