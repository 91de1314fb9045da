// Package kube runs uno under a real Kubernetes node: a kubelet (built from the k8s.io/kubernetes
// module by `make e2e-kube`) in standalone mode, running static pods from a directory, over
// containerd's CRI plugin and runc from Debian's packages. The pods are the manifests of
// examples/kubernetes, as they are; their images are written by the tests as docker archives
// and imported with ctr, so no registry and no network are used (every pod has hostNetwork).
//
// Each test checks what it claims through the node's own view: the kubelet's read-only /pods
// endpoint (pod and container status, restart counts, recorded exit codes), containerd's event
// stream (task starts and exits with their statuses and times) and the host's /proc.
//
// The package runs only under `make e2e-kube`, which sets KUBELET; without it, or on a machine
// that cannot run containers at all, every test skips and says why. Anything else that keeps
// the node from starting fails the tests.
package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/testkit"
)

// baseDir holds everything the node writes. It is a fixed path, so that a run killed before
// its clean-up (a go test timeout) is cleaned up by the next one; a lock keeps two runs apart.
const baseDir = "/var/lib/uno-e2e-kube"

// node is the kubelet and containerd the package's tests share.
var node struct {
	skip     string // why the tests cannot run on this machine
	err      error  // why the node did not start: the tests fail with it
	uno      string
	kubelet  string
	ctrSock  string
	manifest string // the kubelet's static pod directory
	podLogs  string
	readOnly string // base URL of the kubelet's read-only port
	events   *eventLog
	// containerd, then the kubelet: stopped in the reverse order.
	containerd, kubeletCmd *exec.Cmd
	lock                   *os.File
}

// sharedRunDir is containerd's default state directory, which its shims use whatever the
// configuration says.
const sharedRunDir = "/run/containerd"

func TestMain(m *testing.M) {
	testkit.DefaultSignals()
	code := func() int {
		if node.skip = whyNot(); node.skip != "" {
			return m.Run()
		}
		node.err = startNode()
		code := m.Run()
		if code != 0 || node.err != nil || os.Getenv("UNO_KUBE_KEEP_LOGS") != "" {
			keepLogs()
		}
		stopNode()
		return code
	}()
	os.Exit(code)
}

// whyNot says why this machine cannot run the tests, or "" if it can.
func whyNot() string {
	node.kubelet = os.Getenv("KUBELET")
	node.uno = os.Getenv("UNO_BIN")
	switch {
	case node.kubelet == "" || node.uno == "":
		return "KUBELET and UNO_BIN are not set: `make e2e-kube` builds the kubelet and uno and runs this package"
	case os.Geteuid() != 0:
		return "needs root to run containerd and the kubelet"
	}
	// A machine that cannot make the namespaces a container needs cannot run a pod at all.
	if out, err := exec.Command("unshare", "--pid", "--mount", "--net", "--uts", "--ipc", "--fork", "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("this machine cannot make a container's namespaces (unshare: %v: %s)", err, strings.TrimSpace(string(out)))
	}
	return ""
}

// needNode skips or fails a test that needs the node.
func needNode(t *testing.T) {
	t.Helper()
	if node.skip != "" {
		t.Skip("SKIP: " + node.skip)
	}
	if node.err != nil {
		t.Fatalf("the node did not start: %v", node.err)
	}
}

func startNode() error {
	for _, bin := range []string{node.kubelet, node.uno, "/usr/bin/containerd", "/usr/bin/ctr", "/usr/bin/containerd-shim-runc-v2", "/usr/sbin/runc"} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s is missing (make e2e-kube installs and builds it): %v", bin, err)
		}
	}
	if err := os.MkdirAll(baseDir, 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(baseDir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return fmt.Errorf("another run of this package holds %s.lock: %v", baseDir, err)
	}
	node.lock = lock
	cleanUp() // what a killed run left
	for _, d := range []string{"containerd", "kubelet", "manifests", "pod-logs", "images", "cni/bin", "cni/conf"} {
		if err := os.MkdirAll(filepath.Join(baseDir, d), 0o700); err != nil {
			return err
		}
	}
	node.ctrSock = filepath.Join(baseDir, "containerd", "containerd.sock")
	node.manifest = filepath.Join(baseDir, "manifests")
	node.podLogs = filepath.Join(baseDir, "pod-logs")
	if err := startContainerd(pauseImage); err != nil {
		return err
	}
	events, err := watchEvents()
	if err != nil {
		return err
	}
	node.events = events
	if err := importImages(); err != nil {
		return err
	}
	return startKubelet()
}

// containerdConfig puts containerd's CRI plugin on private paths. No CNI is configured: the
// pods use the host's network. restrict_oom_score_adj: these VMs deny CAP_SYS_RESOURCE, and the
// sandbox's OOM score would otherwise be set below the caller's. The sandbox (pause) image is
// uno under the name catatonit, with -P.
const containerdConfig = `version = 2
root = "{{dir}}/root"
state = "{{dir}}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "{{dir}}/containerd.sock"
[ttrpc]
  address = "{{dir}}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{{dir}}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{pause}}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "{{dir}}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{{base}}/cni/bin"
    conf_dir = "{{base}}/cni/conf"
`

// startContainerd starts containerd with the given sandbox (pause) image, as node.containerd.
func startContainerd(pause string) error {
	dir := filepath.Join(baseDir, "containerd")
	conf := strings.NewReplacer("{{dir}}", dir, "{{base}}", baseDir, "{{pause}}", pause).Replace(containerdConfig)
	confPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return err
	}
	cmd, err := startDaemon("containerd", "/usr/bin/containerd", "--config", confPath)
	if err != nil {
		return err
	}
	node.containerd = cmd
	return waitUp("containerd", 60*time.Second, func() error {
		_, err := ctr("version")
		return err
	})
}

// kubeletConfig is a standalone kubelet: no API server, static pods from a directory (picked up
// through inotify at once), every port on loopback, anonymous read-only access, no image garbage
// collection (the images cannot be pulled again), containerd's socket as its runtime.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: {{base}}/manifests
fileCheckFrequency: 1s
address: 127.0.0.1
port: {{port}}
readOnlyPort: {{roport}}
healthzBindAddress: 127.0.0.1
healthzPort: {{healthz}}
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://{{sock}}
imageServiceEndpoint: unix://{{sock}}
podLogsDir: {{base}}/pod-logs
registerNode: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
localStorageCapacityIsolation: false
serializeImagePulls: false
`

func startKubelet() error {
	ports := make([]string, 3)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return err
		}
		ports[i] = strconv.Itoa(p)
	}
	conf := strings.NewReplacer("{{base}}", baseDir, "{{sock}}", node.ctrSock,
		"{{port}}", ports[0], "{{roport}}", ports[1], "{{healthz}}", ports[2]).Replace(kubeletConfig)
	confPath := filepath.Join(baseDir, "kubelet", "config.yaml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return err
	}
	node.readOnly = "http://127.0.0.1:" + ports[1]
	var err error
	if node.kubeletCmd, err = startDaemon("kubelet", node.kubelet, "--config", confPath,
		"--root-dir", filepath.Join(baseDir, "kubelet", "root"), "--cert-dir", filepath.Join(baseDir, "kubelet", "pki"),
		// prober.go and worker.go at 3: the drain test reads every readiness probe's result, and
		// whether the kubelet still probes a static pod it has stopped tracking.
		"--hostname-override", nodeName, "--v", "2", "--vmodule", "prober=3,worker=3"); err != nil {
		return err
	}
	return waitUp("kubelet", 120*time.Second, func() error {
		_, err := listPods()
		return err
	})
}

// nodeName is the node's name: static pods are named <name>-<node>.
const nodeName = "uno-e2e"

// startDaemon starts a daemon with its output appended to baseDir/NAME.log, killed if the test
// binary dies before it can stop it.
func startDaemon(name, path string, args ...string) (*exec.Cmd, error) {
	log, err := os.OpenFile(filepath.Join(baseDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %v", name, err)
	}
	return cmd, nil
}

// waitUp polls up until it succeeds, or reports the daemon's log once the hang bound is over.
func waitUp(name string, bound time.Duration, up func() error) error {
	end := time.Now().Add(bound)
	for {
		err := up()
		if err == nil {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s did not answer within %v: %v\n%s log:\n%s", name, bound, err, name, daemonLog(name, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func daemonLog(name string, lines int) string {
	data, _ := os.ReadFile(filepath.Join(baseDir, name+".log"))
	return tail(string(data), lines)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ctr runs containerd's client against the test's containerd, in the CRI's namespace.
func ctr(args ...string) (string, error) {
	out, err := exec.Command("/usr/bin/ctr", append([]string{"--address", node.ctrSock, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// keepLogs copies the daemons' logs out of baseDir before it is removed: for a failed run, or
// when UNO_KUBE_KEEP_LOGS is set.
func keepLogs() {
	dir := filepath.Join(os.TempDir(), "uno-e2e-kube-logs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	for _, name := range []string{"kubelet", "containerd"} {
		if data, err := os.ReadFile(filepath.Join(baseDir, name+".log")); err == nil {
			_ = os.WriteFile(filepath.Join(dir, name+".log"), data, 0o600)
		}
	}
	fmt.Fprintf(os.Stderr, "kube: the kubelet's and containerd's logs are in %s\n", dir)
}

// stopNode stops the pods, then the kubelet (last started, first stopped), then containerd,
// and removes all they left.
func stopNode() {
	if node.readOnly != "" {
		stopAllPods()
	}
	stopProcess(node.kubeletCmd)
	stopProcess(node.containerd)
	if node.events != nil {
		node.events.stop()
	}
	cleanUp()
	removeFixedPaths()
	if node.lock != nil {
		node.lock.Close()
	}
}

// removeFixedPaths removes what the daemons create at fixed paths, whatever their configuration:
// the shims' socket directory /run/containerd/s, the kubelet's device plugin socket (under
// /var/lib/kubelet, not its root directory) and its /var/log/containers. Sockets go only when
// nobody listens on them, directories only when empty: a real containerd or kubelet on the
// machine keeps its own.
func removeFixedPaths() {
	const devicePlugins = "/var/lib/kubelet/device-plugins"
	if c, err := net.Dial("unix", devicePlugins+"/kubelet.sock"); err == nil {
		c.Close()
	} else {
		_ = os.Remove(devicePlugins + "/kubelet.sock")
	}
	for _, d := range []string{sharedRunDir + "/s", sharedRunDir, devicePlugins, "/var/lib/kubelet", "/var/log/containers"} {
		_ = os.Remove(d)
	}
}

// removeShimSocket removes the socket of a killed shim, which it had no chance to remove itself.
// containerd 1.6 names it after its own address, the namespace and the container:
// /run/containerd/s/<sha256 of ADDRESS/NAMESPACE/ID>.
func removeShimSocket(cmdline string) {
	f := strings.Fields(cmdline)
	if len(f) == 0 || !strings.HasPrefix(filepath.Base(f[0]), "containerd-shim") {
		return
	}
	flags := map[string]string{}
	for i := 1; i+1 < len(f); i++ {
		if strings.HasPrefix(f[i], "-") {
			flags[f[i]] = f[i+1]
		}
	}
	if flags["-address"] == "" || flags["-namespace"] == "" || flags["-id"] == "" {
		return
	}
	sum := sha256.Sum256([]byte(filepath.Join(flags["-address"], flags["-namespace"], flags["-id"])))
	_ = os.Remove(filepath.Join(sharedRunDir, "s", hex.EncodeToString(sum[:])))
}

// stopAllPods removes every manifest and waits, bounded, for the kubelet to stop the pods.
func stopAllPods() {
	entries, _ := os.ReadDir(node.manifest)
	for _, e := range entries {
		os.Remove(filepath.Join(node.manifest, e.Name()))
	}
	end := time.Now().Add(60 * time.Second)
	for time.Now().Before(end) {
		if tasks, err := runningTasks(); err == nil && len(tasks) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "kube: pods still running 60s after their manifests were removed; killing them\n")
}

func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// cleanUp kills whatever runs under baseDir's containerd (shims and their containers), unmounts
// what is mounted below baseDir, removes the kubelet's cgroups and log links, and the directory.
func cleanUp() {
	// containerd, the kubelet, ctr and the shims all name a path below baseDir on their command
	// lines; the containers are the shims' children.
	for _, pid := range processesMatching(func(cmdline string) bool {
		return strings.Contains(cmdline, baseDir+"/")
	}) {
		p, _ := readProc(pid)
		killTree(pid)
		removeShimSocket(p.cmdline)
	}
	unmountBelow(baseDir)
	removeCgroups("kubepods")
	if links, _ := filepath.Glob("/var/log/containers/*.log"); links != nil {
		for _, l := range links {
			if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, baseDir) {
				os.Remove(l)
			}
		}
	}
	if err := os.RemoveAll(baseDir); err != nil {
		fmt.Fprintf(os.Stderr, "kube: removing %s: %v\n", baseDir, err)
	}
}

// switchPause restarts containerd with another sandbox (pause) image, for the pods the test
// starts next, and back to uno's when the test ends. No pod may be running: the kubelet keeps
// running and reconnects.
func switchPause(t *testing.T, image string) {
	t.Helper()
	restart := func(image string) error {
		if tasks, err := runningTasks(); err != nil || len(tasks) > 0 {
			return fmt.Errorf("containers still run (%v, %v): switching the pause image needs an idle node", tasks, err)
		}
		node.events.stop()
		stopProcess(node.containerd)
		if err := startContainerd(image); err != nil {
			return err
		}
		// The kubelet reconnects by itself; a pod it tries to start before containerd's CRI is
		// up again waits out its 10 s back-off, which is why this test runs last.
		return node.events.start()
	}
	if err := restart(image); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := restart(pauseImage); err != nil {
			node.err = fmt.Errorf("restoring uno's pause image: %v", err)
			t.Error(node.err)
		}
	})
}
