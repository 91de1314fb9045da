package engines

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPodmanSdnotifyContainer: podman run --sdnotify=container with uno as the container's
// program: podman passes READY=1 on to its own NOTIFY_SOCKET only once uno says every essential
// service is ready, which here waits for a file the test creates inside the container.
func TestPodmanSdnotifyContainer(t *testing.T) {
	needEngine(t)
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skipf("SKIP: podman not installed (make test installs it): %v", err)
	}
	// Not t.TempDir: podman's storage under it can stay busy for a moment after `podman rm`
	// returns (its conmon cleans up on its own), and TempDir fails the test when its removal
	// finds the directory not empty (seen in a clean-clone CI run). The clean-up below retries.
	dir, err := os.MkdirTemp("", "uno-sdnotify-")
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "none"}
	podman := func(args ...string) (string, error) {
		out, err := exec.Command("podman", append(base, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	t.Cleanup(func() {
		_, _ = podman("rm", "-af", "-t", "0")
		_ = exec.Command("sh", "-c", `grep -o " $1[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`, "sh", dir).Run()
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
		}
		t.Logf("left %s behind: %v", dir, err)
	})
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", filepath.Join(engine.dir, "base", "rootfs"), "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if out, err := podman("import", tarball, "uno-e2e-base"); err != nil {
		t.Fatalf("podman import: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "uno.toml")
	if err := os.WriteFile(conf, []byte(`
[services.app]
command = ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; touch /tmp/ready; exec sleep 1000"]
ready = { file = "/tmp/ready", interval = "50ms" }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The manager's notify socket, as systemd would give podman.
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	run := exec.Command("podman", append(base, "run", "-d", "--name", "uno-sdnotify", "--network", "none", "--sdnotify=container", "--tmpfs", "/tmp",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
		"-v", engine.uno+":/uno:ro", "-v", conf+":/uno.toml:ro", "localhost/uno-e2e-base", "/uno", "-c", "/uno.toml")...)
	run.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	runOut := make(chan string, 1)
	go func() { out, err := run.CombinedOutput(); runOut <- string(out) + errString(err) }()
	poll(t, "the container running", func() bool {
		out, _ := podman("inspect", "-f", "{{.State.Running}}", "uno-sdnotify")
		return out == "true"
	})
	// Running, not ready: nothing says READY=1 yet (uno waits for app, which waits for /tmp/go).
	drain := func() []string {
		var got []string
		for {
			select {
			case m := <-msgs:
				got = append(got, m)
			default:
				return got
			}
		}
	}
	if early := strings.Join(drain(), "|"); strings.Contains(early, "READY=1") {
		t.Fatalf("READY=1 before the service was ready: %q", early)
	}
	if out, err := podman("exec", "uno-sdnotify", "touch", "/tmp/go"); err != nil {
		t.Fatalf("podman exec: %v\n%s", err, out)
	}
	timeout := time.After(60 * time.Second)
	for ready := false; !ready; {
		select {
		case m := <-msgs:
			ready = strings.Contains(m, "READY=1")
		case <-timeout:
			t.Fatalf("no READY=1 from podman after the service became ready; podman run said %q", <-runOut)
		}
	}
	t.Logf("podman run: %s", <-runOut)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
