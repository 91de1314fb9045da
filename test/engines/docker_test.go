// Package engines runs uno under the container engines people use, end to end: a Docker engine
// (Debian's docker.io) started by the tests themselves in private directories, with images built
// from a busybox rootfs and the uno under test, no registry and no network.
//
// Every test needs root and the engine. When the engine cannot start on a machine, each test
// says so and why, and skips: it never passes silently.
package engines

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testbin"
	"github.com/uno-init/uno/internal/testkit"
)

// engine is the Docker daemon the package's tests share.
var engine struct {
	dir    string // data, exec root, socket
	socket string
	cmd    *exec.Cmd
	err    error // why it is not available
	uno    string
}

const dockerd, docker = "/usr/sbin/dockerd", "/usr/bin/docker"

func TestMain(m *testing.M) {
	testkit.DefaultSignals()
	code := func() int {
		if os.Geteuid() != 0 {
			engine.err = fmt.Errorf("needs root to run dockerd")
			return m.Run()
		}
		if err := startEngine(); err != nil {
			engine.err = err
		}
		defer stopEngine()
		return m.Run()
	}()
	os.Exit(code)
}

// startEngine starts dockerd as the recipe says: no iptables, no bridge, vfs storage,
// everything under a temporary directory, uno as its init (--init-path).
func startEngine() error {
	for _, bin := range []string{dockerd, docker} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s not installed (make test installs docker.io): %v", bin, err)
		}
	}
	uno := os.Getenv("UNO_BIN")
	if uno == "" {
		return fmt.Errorf("UNO_BIN is not set: run through make test, which builds bin/uno")
	}
	engine.uno = uno
	dir, err := os.MkdirTemp("", "uno-dockerd-")
	if err != nil {
		return err
	}
	engine.dir = dir
	engine.socket = filepath.Join(dir, "docker.sock")
	// dockerd runs its init path with --version to report it, under the name it has there: a
	// link named docker-init makes uno answer as tini does, which dockerd parses.
	initPath := filepath.Join(dir, "docker-init")
	if err := os.Symlink(uno, initPath); err != nil {
		return err
	}
	engine.cmd = exec.Command(dockerd, "--iptables=false", "--ip6tables=false", "--bridge=none",
		"--storage-driver=vfs", "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"-H", "unix://"+engine.socket, "--pidfile", filepath.Join(dir, "docker.pid"), "--init-path", initPath)
	logFile, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		return err
	}
	engine.cmd.Stdout, engine.cmd.Stderr = logFile, logFile
	if err := engine.cmd.Start(); err != nil {
		return fmt.Errorf("starting dockerd: %v", err)
	}
	end := time.Now().Add(60 * time.Second)
	for {
		if out, err := exec.Command(docker, "-H", "unix://"+engine.socket, "info").CombinedOutput(); err == nil {
			break
		} else if time.Now().After(end) {
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			return fmt.Errorf("dockerd did not answer within 60s: %v\n%s\ndockerd log:\n%s", err, out, tail(string(log), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return buildBase()
}

func stopEngine() {
	if engine.cmd != nil && engine.cmd.Process != nil {
		_ = engine.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = engine.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = engine.cmd.Process.Kill()
			<-done
		}
	}
	if engine.dir != "" {
		// vfs leaves read-only layers and mounts behind a killed daemon: unmount what is left.
		_ = exec.Command("sh", "-c", `grep -o " $1[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`, "sh", engine.dir).Run()
		_ = os.RemoveAll(engine.dir)
	}
}

// baseImage is busybox and uno in an image FROM scratch, built without a registry.
const baseImage = "uno-e2e-base"

func buildBase() error {
	ctx := filepath.Join(engine.dir, "base")
	bin := filepath.Join(ctx, "rootfs", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(ctx, "rootfs", "usr", "bin"), 0o755); err != nil {
		return err
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox-static not installed: %v", err)
	}
	if err := copyFile(busybox, filepath.Join(bin, "busybox"), 0o755); err != nil {
		return err
	}
	for _, applet := range []string{"sh", "sleep", "echo", "cat", "kill", "ls", "ps", "grep", "wc", "true", "date", "touch"} {
		if err := os.Symlink("busybox", filepath.Join(bin, applet)); err != nil {
			return err
		}
	}
	if err := copyFile(engine.uno, filepath.Join(ctx, "rootfs", "usr", "bin", "uno"), 0o755); err != nil {
		return err
	}
	dockerfile := "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/bin:/bin\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	if out, err := dockerBuild(baseImage, ctx); err != nil {
		return fmt.Errorf("building the base image: %v\n%s", err, out)
	}
	return nil
}

// dockerBuild builds the image tag from the context dir with the classic builder, which needs no
// registry for FROM scratch or a local image.
func dockerBuild(tag, ctx string) ([]byte, error) {
	cmd := exec.Command(docker, "-H", "unix://"+engine.socket, "build", "-q", "-t", tag, ctx)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	return cmd.CombinedOutput()
}

// buildImage builds a test's image, named from prefix, and removes it when the test ends.
func buildImage(t *testing.T, prefix, ctx string) string {
	t.Helper()
	image := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	if out, err := dockerBuild(image, ctx); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = dockerCmd(t, "rmi", "-f", image) })
	return image
}

func copyFile(from, to string, mode os.FileMode) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, mode)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func needEngine(t *testing.T) {
	t.Helper()
	if engine.err != nil {
		t.Skipf("SKIP: the Docker engine is not available on this machine: %v", engine.err)
	}
}

// dockerCmd runs docker against the test engine and returns its combined output.
func dockerCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(docker, append([]string{"-H", "unix://" + engine.socket}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := dockerCmd(t, args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// run starts a detached container and removes it when the test ends.
func run(t *testing.T, args ...string) string {
	t.Helper()
	id := mustDocker(t, append([]string{"run", "-d", "--network", "none"}, args...)...)
	t.Cleanup(func() { _, _ = dockerCmd(t, "rm", "-f", id) })
	return id
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after 30s waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitLog(t *testing.T, id, want string) {
	t.Helper()
	poll(t, fmt.Sprintf("%q in the container's log", want), func() bool {
		out, _ := dockerCmd(t, "logs", id)
		return strings.Contains(out, want)
	})
}

// promptStop bounds a stop that must not have waited out a timeout. The exit codes checked
// beside it (143 or 0, not 137) already prove that the engine sent no SIGKILL after its 10 s;
// the bound catches a stop that waited for one of uno's own timeouts, with room for a loaded
// 2-core machine and the CLI's own start-up. The figures themselves are logged.
const promptStop = 3 * time.Second

// timedStop is `docker stop` of id, and how long it took.
func timedStop(t *testing.T, id string) time.Duration {
	t.Helper()
	start := time.Now()
	mustDocker(t, "stop", id)
	return time.Since(start)
}

func exitCode(t *testing.T, id string) string {
	t.Helper()
	return mustDocker(t, "inspect", "-f", "{{.State.ExitCode}}", id)
}

// TestDockerStop: the container whose CMD is a shell that does not exec. With uno as ENTRYPOINT
// docker stop takes well under a second and reports 143; without an init it waits the whole
// 10 s and SIGKILLs (the figure is printed beside it).
func TestDockerStop(t *testing.T) {
	needEngine(t)
	withUno := run(t, "--entrypoint", "/usr/bin/uno", baseImage, "--", "sh", "-c", "echo started; sleep 100")
	waitLog(t, withUno, "started")
	took := timedStop(t, withUno)
	if code := exitCode(t, withUno); code != "143" || took > promptStop {
		t.Errorf("with uno: docker stop took %v, exit code %s; want prompt and 143", took, code)
	}
	bare := run(t, baseImage, "sh", "-c", "echo started; sleep 100")
	waitLog(t, bare, "started")
	tookBare := timedStop(t, bare)
	t.Logf("docker stop of `sh -c 'sleep 100'`: %v with uno as ENTRYPOINT (exit %s), %v without an init (exit %s)",
		took.Round(time.Millisecond), exitCode(t, withUno), tookBare.Round(10*time.Millisecond), exitCode(t, bare))
}

// TestDockerInitPath: dockerd's --init-path points at uno, so `docker run --init` runs uno under
// the name docker-init, with tini's flags; docker reports its version; stop is prompt.
func TestDockerInitPath(t *testing.T) {
	needEngine(t)
	version := mustDocker(t, "version", "-f", "{{range .Server.Components}}{{.Name}}={{.Version}} {{end}}")
	if !strings.Contains(version, "docker-init=") || !strings.Contains(version, "uno") {
		t.Errorf("docker version does not report uno as docker-init: %s", version)
	}
	if commit := mustDocker(t, "info", "-f", "{{.InitCommit.ID}}"); commit == "" || commit == "N/A" {
		t.Errorf("docker info reports no init version: %q", commit)
	}
	id := run(t, "--init", baseImage, "sh", "-c", "echo started; sleep 100")
	waitLog(t, id, "started")
	if cmdline := mustDocker(t, "exec", id, "cat", "/proc/1/cmdline"); !strings.HasPrefix(cmdline, "/sbin/docker-init") {
		t.Errorf("PID 1 is %q, want /sbin/docker-init", cmdline)
	}
	if took := timedStop(t, id); took > promptStop {
		t.Errorf("docker stop with --init took %v", took)
	}
	if code := exitCode(t, id); code != "143" {
		t.Errorf("exit code %s, want 143", code)
	}
}

// TestDockerKillAndExitCodes: docker kill -s USR1 reaches the program's trap, and the exit codes
// docker inspect reports are the program's.
func TestDockerKillAndExitCodes(t *testing.T) {
	needEngine(t)
	id := run(t, "--entrypoint", "/usr/bin/uno", baseImage, "--", "sh", "-c",
		`trap 'echo got-usr1' USR1; trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
	waitLog(t, id, "ready")
	mustDocker(t, "kill", "-s", "USR1", id)
	waitLog(t, id, "got-usr1")
	timedStop(t, id)
	if code := exitCode(t, id); code != "42" {
		t.Errorf("exit code %s, want the program's 42", code)
	}
	killed := run(t, "--entrypoint", "/usr/bin/uno", baseImage, "--", "sh", "-c", "kill -KILL $$")
	poll(t, "the container to exit", func() bool {
		out, _ := dockerCmd(t, "inspect", "-f", "{{.State.Running}}", killed)
		return out == "false"
	})
	if code := exitCode(t, killed); code != "137" {
		t.Errorf("exit code %s for a program killed by SIGKILL, want 137", code)
	}
}

// TestDockerExecOrphans: processes started with docker exec that leave orphans behind: uno (PID 1)
// reaps them, and no zombie stays in the container.
func TestDockerExecOrphans(t *testing.T) {
	needEngine(t)
	id := run(t, "--entrypoint", "/usr/bin/uno", baseImage, "--", "sh", "-c", "echo ready; sleep 1000")
	waitLog(t, id, "ready")
	for range 5 {
		mustDocker(t, "exec", id, "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1 & done; exit 0")
	}
	poll(t, "no zombie and no orphan left", func() bool {
		out, _ := dockerCmd(t, "exec", id, "ps", "-o", "stat,comm")
		return !strings.Contains(out, "\nZ") && strings.Count(out, "sleep") == 1
	})
}

// TestDockerRunInteractive: docker run -it, through a real pseudo-terminal: Ctrl-C reaches the
// program, which dies of SIGINT, and the container and the docker client report 130.
func TestDockerRunInteractive(t *testing.T) {
	needEngine(t)
	master, slave := testkit.OpenPTY(t)
	name := fmt.Sprintf("uno-it-%d", time.Now().UnixNano())
	cmd := exec.Command(docker, "-H", "unix://"+engine.socket, "run", "-it", "--name", name, "--network", "none",
		"--entrypoint", "/usr/bin/uno", baseImage, "--", "sh", "-c", "echo re''ady; exec sleep 1000")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = dockerCmd(t, "rm", "-f", name) })
	var out testkit.Buffer
	go func() { _, _ = io.Copy(&out, master) }()
	poll(t, "the program's ready line on the terminal", func() bool { return strings.Contains(out.String(), "ready") })
	if _, err := master.Write([]byte{0x03}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("docker run -it still running 30s after Ctrl-C; terminal:\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("docker run -it exited %d after Ctrl-C, want 130; terminal:\n%s", code, out.String())
	}
	if code := exitCode(t, name); code != "130" {
		t.Errorf("container exit code %s, want 130", code)
	}
}

// TestCompose: docker-compose (1.29) runs two containers on the test engine, one with uno as
// ENTRYPOINT and one with `init: true`, which is uno through dockerd's --init-path; `down` stops
// both promptly.
func TestCompose(t *testing.T) {
	needEngine(t)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Skipf("SKIP: docker-compose not installed (make test installs it): %v", err)
	}
	dir := t.TempDir()
	compose := `version: "2.4"
services:
  withuno:
    image: ` + baseImage + `
    entrypoint: ["/usr/bin/uno", "--"]
    command: ["sh", "-c", "echo up; sleep 1000"]
    network_mode: none
  withinit:
    image: ` + baseImage + `
    init: true
    command: ["sh", "-c", "echo up; sleep 1000"]
    network_mode: none
`
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	project := fmt.Sprintf("unotest%d", time.Now().UnixNano())
	dc := func(args ...string) (string, error) {
		cmd := exec.Command("docker-compose", append([]string{"-p", project}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+engine.socket)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { _, _ = dc("down", "-t", "1") })
	if out, err := dc("up", "-d"); err != nil {
		t.Fatalf("docker-compose up: %v\n%s", err, out)
	}
	for _, svc := range []string{"withuno", "withinit"} {
		id := mustDocker(t, "ps", "-q", "-f", "name="+project+"_"+svc)
		waitLog(t, id, "up")
		pid1 := mustDocker(t, "exec", id, "cat", "/proc/1/cmdline")
		if !strings.HasPrefix(pid1, "/usr/bin/uno") && !strings.HasPrefix(pid1, "/sbin/docker-init") {
			t.Errorf("%s: PID 1 is %q, not uno", svc, pid1)
		}
	}
	start := time.Now()
	if out, err := dc("down"); err != nil {
		t.Fatalf("docker-compose down: %v\n%s", err, out)
	}
	took := time.Since(start)
	t.Logf("docker-compose down of both containers: %v", took.Round(time.Millisecond))
	if took > promptStop+5*time.Second { // compose is a Python program that stops containers one API call at a time
		t.Errorf("docker-compose down took %v: a container waited for its stop timeout", took)
	}
}

// TestPodman: podman run --init --init-path uno (podman mounts it as podman-init, which uno
// answers as catatonit), and podman stop, with the storage, runtime and limits a CI machine allows.
func TestPodman(t *testing.T) {
	needEngine(t)
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skipf("SKIP: podman not installed (make test installs it): %v", err)
	}
	dir := t.TempDir()
	podman := func(args ...string) (string, error) {
		base := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "none"}
		out, err := exec.Command("podman", append(base, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	t.Cleanup(func() {
		_, _ = podman("rm", "-af", "-t", "0")
		_ = exec.Command("sh", "-c", `grep -o " $1[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`, "sh", dir).Run()
	})
	// The image is the base image's filesystem, imported: podman has no registry here either.
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", filepath.Join(engine.dir, "base", "rootfs"), "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if out, err := podman("import", tarball, "uno-e2e-base"); err != nil {
		t.Fatalf("podman import: %v\n%s", err, out)
	}
	out, err := podman("run", "-d", "--name", "uno-podman", "--network", "none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
		"--init", "--init-path", engine.uno, "localhost/uno-e2e-base", "sh", "-c", "echo up; sleep 1000")
	if err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	poll(t, "the container's output", func() bool { out, _ := podman("logs", "uno-podman"); return strings.Contains(out, "up") })
	pid1, err := podman("exec", "uno-podman", "cat", "/proc/1/cmdline")
	if err != nil || !strings.Contains(pid1, "podman-init") {
		t.Errorf("PID 1 is %q (%v), want uno as podman-init", pid1, err)
	}
	start := time.Now()
	if out, err := podman("stop", "uno-podman"); err != nil {
		t.Fatalf("podman stop: %v\n%s", err, out)
	}
	took := time.Since(start)
	code, _ := podman("inspect", "-f", "{{.State.ExitCode}}", "uno-podman")
	t.Logf("podman stop: %v, exit code %s", took.Round(time.Millisecond), code)
	if took > promptStop || code != "143" {
		t.Errorf("podman stop took %v with exit code %s; want prompt and 143", took, code)
	}
}

// TestHealthcheckMultiService: an image running services under uno with
// HEALTHCHECK CMD ["uno", "ctl", "health"]: healthy once the services run, unhealthy once an
// essential one keeps failing; docker stop stops them in reverse dependency order, within the
// grace.
func TestHealthcheckMultiService(t *testing.T) {
	needEngine(t)
	ctx := t.TempDir()
	conf := `[uno]
grace = "5s"

[services.db]
command = ["sh", "-c", 'trap "echo db-stop; exit 0" TERM; touch /tmp/db-ready; while :; do sleep 0.05; done']
ready = { file = "/tmp/db-ready", interval = "100ms" }

[services.app]
command = ["sh", "-c", 'trap "echo app-stop; exit 0" TERM; while [ ! -e /tmp/fail ]; do sleep 0.05; done; exit 1']
depends_on = ["db"]
restart = "on-failure"
restart_delay = "1h"
restart_delay_max = "1h"
`
	dockerfile := "FROM " + baseImage + "\nCOPY uno.toml /etc/uno/uno.toml\n" +
		`HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["/usr/bin/uno", "ctl", "health"]` + "\n" +
		`ENTRYPOINT ["/usr/bin/uno"]` + "\n"
	for name, content := range map[string]string{"uno.toml": conf, "Dockerfile": dockerfile} {
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	image := buildImage(t, "uno-e2e-health", ctx)
	health := func(id string) string {
		out, _ := dockerCmd(t, "inspect", "-f", "{{.State.Health.Status}}", id)
		return out
	}

	// Healthy, then stopped in order.
	first := run(t, image)
	poll(t, "healthy", func() bool { return health(first) == "healthy" })
	took := timedStop(t, first)
	logs := mustDocker(t, "logs", first)
	if i, j := strings.Index(logs, "app-stop"), strings.Index(logs, "db-stop"); i < 0 || j < i {
		t.Errorf("want app stopped before db:\n%s", logs)
	}
	if code := exitCode(t, first); code != "0" || took > 5*time.Second {
		t.Errorf("docker stop took %v with exit code %s; want within the 5s grace and 0", took, code)
	}

	// Healthy, then unhealthy when app fails and waits an hour to restart.
	second := run(t, image)
	poll(t, "healthy", func() bool { return health(second) == "healthy" })
	mustDocker(t, "exec", second, "touch", "/tmp/fail")
	poll(t, "unhealthy", func() bool { return health(second) == "unhealthy" })
	last := mustDocker(t, "inspect", "-f", "{{with .State.Health}}{{range .Log}}{{.Output}}{{end}}{{end}}", second)
	if !strings.Contains(last, "unhealthy: app is restarting") {
		t.Errorf("health check output: %q", last)
	}
}

// TestExampleSingleProgram builds examples/single-program/Dockerfile, its FROM replaced by the
// test's busybox base (no registry here), and checks what its README promises.
func TestExampleSingleProgram(t *testing.T) {
	needEngine(t)
	root := testbin.RepoRoot()
	data, err := os.ReadFile(filepath.Join(root, "examples/single-program/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "FROM ") {
			line = "FROM " + baseImage
		}
		lines = append(lines, line)
	}
	// A context with just what the Dockerfile copies, at the paths it names.
	ctx := t.TempDir()
	for f, from := range map[string]string{"bin/uno": engine.uno, "examples/single-program/entrypoint.sh": filepath.Join(root, "examples/single-program/entrypoint.sh")} {
		if err := os.MkdirAll(filepath.Join(ctx, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(from, filepath.Join(ctx, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	image := buildImage(t, "uno-e2e-single", ctx)
	id := run(t, image)
	waitLog(t, id, "worker: starting")
	took := timedStop(t, id)
	if code := exitCode(t, id); code != "143" || took > promptStop {
		t.Errorf("docker stop took %v with exit code %s; want prompt and 143", took, code)
	}
}

// TestDockerInteractiveShell: an interactive shell under uno in `docker run -it` has job
// control: Ctrl-Z stops its foreground job, and the shell reports it.
func TestDockerInteractiveShell(t *testing.T) {
	needEngine(t)
	master, slave := testkit.OpenPTY(t)
	name := fmt.Sprintf("uno-sh-%d", time.Now().UnixNano())
	cmd := exec.Command(docker, "-H", "unix://"+engine.socket, "run", "-it", "--name", name, "--network", "none",
		"-e", "PS1=$ ", "--entrypoint", "/usr/bin/uno", baseImage, "--", "sh", "-i")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = dockerCmd(t, "rm", "-f", name); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var out testkit.Buffer
	go func() { _, _ = io.Copy(&out, master) }()
	expect := func(what string) {
		t.Helper()
		poll(t, fmt.Sprintf("%q on the terminal", what), func() bool { return strings.Contains(out.String(), what) })
	}
	expect("$ ")
	if _, err := master.Write([]byte("sleep 100\r")); err != nil {
		t.Fatal(err)
	}
	// The job runs in the foreground; Ctrl-Z stops it and hands the terminal back to the shell.
	poll(t, "sleep in the foreground", func() bool {
		ps, _ := dockerCmd(t, "exec", name, "ps", "-o", "comm")
		return strings.Contains(ps, "sleep")
	})
	if _, err := master.Write([]byte{0x1a}); err != nil {
		t.Fatal(err)
	}
	expect("Stopped")
	// A shell with a stopped job refuses the first exit, as shells do, and takes the second;
	// uno's sweep then ends the stopped job with the container.
	if _, err := master.Write([]byte("exit 3\r")); err != nil {
		t.Fatal(err)
	}
	expect("You have stopped jobs")
	if _, err := master.Write([]byte("exit 3\r")); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the shell did not exit; terminal:\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("docker run -it exited %d, want the shell's 3; terminal:\n%s", code, out.String())
	}
}
