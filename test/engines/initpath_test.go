package engines

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDockerInfoInitNamedUno: the README's `dockerd --init-path /usr/bin/uno`. dockerd runs the
// file with --version under its own name, uno, to fill `docker info`'s init version; it showed
// "N/A" while `uno --version` printed a line dockerd does not parse. The shared engine's init is
// named docker-init, so this test starts a daemon of its own (no images: `docker info` is enough).
func TestDockerInfoInitNamedUno(t *testing.T) {
	if engine.err != nil && engine.uno == "" {
		t.Skipf("SKIP: the Docker engine is not available on this machine: %v", engine.err)
	}
	dir, err := os.MkdirTemp("", "uno-dockerd-init-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	initPath := filepath.Join(dir, "uno")
	if err := copyFile(engine.uno, initPath, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(initPath, "--version").Output()
	if err != nil {
		t.Fatalf("uno --version: %v", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 || fields[0] != "uno" {
		t.Fatalf("uno --version = %q", out)
	}
	// What tiniVersion shows as the commit: the version, dots made dashes (docker drops X.Y).
	want := strings.ReplaceAll(fields[1], ".", "-")

	socket := filepath.Join(dir, "docker.sock")
	cmd := exec.Command(dockerd, "--iptables=false", "--ip6tables=false", "--bridge=none",
		"--storage-driver=vfs", "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"-H", "unix://"+socket, "--pidfile", filepath.Join(dir, "docker.pid"), "--init-path", initPath)
	logFile, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dockerd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var info string
	end := time.Now().Add(60 * time.Second)
	for {
		b, err := exec.Command(docker, "-H", "unix://"+socket, "info", "-f", "{{.InitBinary}} {{.InitCommit.ID}}").CombinedOutput()
		if err == nil {
			info = strings.TrimSpace(string(b))
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("dockerd exited: %s", tail(string(log), 20))
		default:
		}
		if time.Now().After(end) {
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("dockerd did not answer within 60s: %v\n%s\ndockerd log:\n%s", err, b, tail(string(log), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if info != initPath+" "+want {
		log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
		t.Errorf("docker info: init binary and version %q, want %q\ndockerd log:\n%s", info, initPath+" "+want, tail(string(log), 10))
	}
}
