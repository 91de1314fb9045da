package kube

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testbin"
	"github.com/uno-init/uno/internal/testkit"
)

// stall bounds a wait in which nothing moves: no pod state changes and containerd reports no
// event. It catches a hang; a slow machine that keeps moving is given the time it needs.
const stall = 60 * time.Second

// The parts of the kubelet's /pods answer (a v1.PodList) the tests read.
type pod struct {
	Metadata struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"metadata"`
	Status struct {
		Phase      string `json:"phase"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
		InitContainerStatuses []containerStatus `json:"initContainerStatuses"`
		ContainerStatuses     []containerStatus `json:"containerStatuses"`
	} `json:"status"`
}

type containerStatus struct {
	Name         string         `json:"name"`
	Ready        bool           `json:"ready"`
	Started      *bool          `json:"started"`
	RestartCount int            `json:"restartCount"`
	ContainerID  string         `json:"containerID"` // containerd://ID
	State        containerState `json:"state"`
	LastState    containerState `json:"lastState"`
}

type containerState struct {
	Waiting *struct {
		Reason string `json:"reason"`
	} `json:"waiting"`
	Running *struct {
		StartedAt time.Time `json:"startedAt"`
	} `json:"running"`
	Terminated *struct {
		ExitCode   int       `json:"exitCode"`
		Signal     int       `json:"signal"`
		Reason     string    `json:"reason"`
		StartedAt  time.Time `json:"startedAt"`
		FinishedAt time.Time `json:"finishedAt"`
	} `json:"terminated"`
}

func (s containerStatus) id() string { return strings.TrimPrefix(s.ContainerID, "containerd://") }

func (p *pod) condition(kind string) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == kind {
			return c.Status == "True"
		}
	}
	return false
}

func (p *pod) container(name string) (containerStatus, bool) {
	for _, s := range append(p.Status.ContainerStatuses, p.Status.InitContainerStatuses...) {
		if s.Name == name {
			return s, true
		}
	}
	return containerStatus{}, false
}

// listPods asks the kubelet for its pods, with their status (the kubelet fills the status of
// static pods in from its status manager when it has no API server).
func listPods() ([]pod, error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(node.readOnly + "/pods")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /pods: %s: %s", resp.Status, body)
	}
	var list struct {
		Items []pod `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("GET /pods: %v", err)
	}
	return list.Items, nil
}

// runningTasks lists containerd's live tasks in the CRI's namespace: container ID to host pid.
func runningTasks() (map[string]int, error) {
	out, err := ctr("tasks", "ls")
	if err != nil {
		return nil, err
	}
	tasks := map[string]int{}
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "RUNNING" {
			pid, _ := strconv.Atoi(f[1])
			tasks[f[0]] = pid
		}
	}
	return tasks, nil
}

// podRuns counts the pods started, for their file names.
var podRuns int

// kpod is a static pod of the test's, from one of the manifests in examples/kubernetes.
type kpod struct {
	t        *testing.T
	file     string // the manifest in the kubelet's directory
	name     string // the pod's name as the kubelet has it: <metadata.name>-<node>
	uid      string
	created  time.Time // when the manifest was written
	deleted  time.Time // when it was removed
	sandbox  string    // the pause container's ID, once known
	stopDone bool
}

// runPod writes examples/kubernetes/NAME into the kubelet's static pod directory, each pair of
// replace applied first (a port in a manifest is replaced by a free one: with the host's network,
// a fixed one may be taken), and waits until the kubelet lists the pod. The pod is deleted when
// the test ends, if the test has not.
func runPod(t *testing.T, manifest, podName string, replace ...string) *kpod {
	t.Helper()
	if !slices.Contains(suiteFiles, manifest) {
		t.Fatalf("%s is not in suiteFiles, whose docs a test checks", manifest)
	}
	data, err := os.ReadFile(filepath.Join(testbin.RepoRoot(), "examples", "kubernetes", manifest))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("%s has no %q to replace", manifest, replace[i])
		}
		text = strings.ReplaceAll(text, replace[i], replace[i+1])
	}
	// The kubelet derives a static pod's UID from its manifest and the file's path: a file name
	// of its own for each run keeps a pod run again from taking the UID (and the status the
	// kubelet still holds) of the one before it.
	podRuns++
	file := fmt.Sprintf("%d-%s", podRuns, manifest)
	p := &kpod{t: t, file: filepath.Join(node.manifest, file), name: podName + "-" + nodeName}
	p.created = time.Now()
	// Written aside and renamed: the kubelet must never read half a manifest. It ignores files
	// whose names start with a dot (any other name would be a pod of its own).
	tmp := filepath.Join(node.manifest, "."+file)
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p.file); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.stopDone {
			p.delete()
			p.waitGone()
		}
	})
	p.await("the kubelet to list the pod", func(q *pod) bool { return q != nil && q.Metadata.UID != "" })
	return p
}

// get returns the pod as the kubelet has it now, or nil if it does not list it.
func (p *kpod) get() *pod {
	p.t.Helper()
	pods, err := listPods()
	if err != nil {
		p.t.Fatalf("asking the kubelet for its pods: %v\nkubelet log:\n%s", err, daemonLog("kubelet", 30))
	}
	for i := range pods {
		if pods[i].Metadata.Name == p.name {
			if p.uid == "" {
				p.uid = pods[i].Metadata.UID
			}
			return &pods[i]
		}
	}
	return nil
}

// await polls the pod until cond holds. Progress is any change of the pod's status and any
// containerd event: the wait fails only when nothing moves for stall.
func (p *kpod) await(what string, cond func(*pod) bool) *pod {
	p.t.Helper()
	var last *pod
	var seen []string
	progress := 0
	err := testkit.WaitProgress(stall, func() (int, bool) {
		last = p.get()
		if cond(last) {
			return 0, true
		}
		state, _ := json.Marshal(last)
		if len(seen) == 0 || seen[len(seen)-1] != string(state) {
			seen = append(seen, string(state))
			progress++
		}
		return progress + node.events.count(), false
	})
	if err != nil {
		state, _ := json.MarshalIndent(last, "", "  ")
		p.t.Fatalf("waiting for %s of %s: %v\npod:\n%s\nkubelet log:\n%s", what, p.name, err, state, daemonLog("kubelet", 40))
	}
	return last
}

// delete removes the pod's manifest, as `kubectl delete` would the pod.
func (p *kpod) delete() {
	p.t.Helper()
	p.sandboxID() // known before it goes
	p.deleted = time.Now()
	if err := os.Remove(p.file); err != nil {
		p.t.Fatal(err)
	}
}

// waitGone waits until the kubelet no longer lists the pod and none of its containers (nor its
// sandbox) runs, and checks that the sandbox, uno as catatonit -P, exited 0.
func (p *kpod) waitGone() {
	p.t.Helper()
	p.stopDone = true
	p.await("the pod to be gone", func(q *pod) bool {
		if q != nil {
			return false
		}
		tasks, err := runningTasks()
		if err != nil {
			p.t.Fatal(err)
		}
		for id := range tasks {
			if p.owns(id) {
				return false
			}
		}
		return true
	})
	if p.sandbox == "" {
		return
	}
	// The kubelet's StopPodSandbox may still be under way once every task is gone: a pod is gone
	// when containerd has logged that it returned.
	stopped := `StopPodSandbox for \"` + p.sandbox + `\" returns successfully`
	p.await("containerd to finish stopping the sandbox", func(*pod) bool {
		return strings.Contains(daemonLog("containerd", 1<<30), stopped)
	})
	// containerd's CRI stops a sandbox with SIGKILL (StopPodSandbox), whatever its pause is: the
	// sandbox cannot exit 0 on a teardown, and must not have exited before it.
	exit, ok := node.events.exit(p.sandbox)
	if !ok {
		p.t.Errorf("containerd reported no exit of %s's sandbox %s", p.name, p.sandbox)
	} else if exit.exitStatus != 137 || exit.at.Before(p.deleted) {
		p.t.Errorf("%s's sandbox exited %d at %v, deleted at %v: want 137 (containerd's SIGKILL) after the deletion",
			p.name, exit.exitStatus, exit.at, p.deleted)
	}
}

// owns tells whether a container is the pod's, from the labels the CRI gives it.
func (p *kpod) owns(id string) bool {
	out, err := ctr("containers", "info", id)
	if err != nil {
		return false // removed in the meantime
	}
	var info struct {
		Labels map[string]string `json:"Labels"`
	}
	if json.Unmarshal([]byte(out), &info) != nil {
		return false
	}
	return info.Labels["io.kubernetes.pod.uid"] == p.uid
}

// sandboxID returns the ID of the pod's sandbox (pause) container.
func (p *kpod) sandboxID() string {
	p.t.Helper()
	if p.sandbox != "" || p.uid == "" {
		return p.sandbox
	}
	out, err := ctr("containers", "ls", "-q", `labels."io.cri-containerd.kind"==sandbox,labels."io.kubernetes.pod.uid"==`+p.uid)
	if err != nil {
		p.t.Fatal(err)
	}
	if ids := strings.Fields(out); len(ids) > 0 {
		p.sandbox = ids[len(ids)-1]
	}
	return p.sandbox
}

// exec runs a command in one of the pod's containers, as kubectl exec would.
func (p *kpod) exec(container string, args ...string) string {
	p.t.Helper()
	q := p.get()
	if q == nil {
		p.t.Fatalf("exec in %s: the pod is gone", p.name)
	}
	s, ok := q.container(container)
	if !ok || s.ContainerID == "" {
		p.t.Fatalf("exec in %s: no container %s", p.name, container)
	}
	out, err := ctr(append([]string{"tasks", "exec", "--fifo-dir", filepath.Join(baseDir, "fifo"),
		"--exec-id", fmt.Sprintf("e2e-%d", time.Now().UnixNano()), s.id()}, args...)...)
	if err != nil {
		p.t.Fatalf("exec in %s/%s: %v", p.name, container, err)
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// killedAt is when the kubelet logged that it was stopping the pod's container with a grace
// period (its SIGTERM follows at once), from its klog lines such as
//
//	I1201 20:31:12.345678   12345 kuberuntime_container.go:809] "Killing container with a grace period" pod="default/uno-single-uno-e2e" ... containerName="app" ...
func (p *kpod) killedAt(container string) (time.Time, bool) {
	at := p.klogTimes(container, `"Killing container with a grace period"`)
	if len(at) == 0 {
		return time.Time{}, false
	}
	return at[len(at)-1], true
}

// klogTimes returns the times of the kubelet's log lines about the pod's container (any line
// about the pod, for container "") that contain every one of what, in order.
func (p *kpod) klogTimes(container string, what ...string) []time.Time {
	data, _ := os.ReadFile(filepath.Join(baseDir, "kubelet.log"))
	var at []time.Time
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, `pod="default/`+p.name+`"`) || container != "" && !strings.Contains(line, `containerName="`+container+`"`) {
			continue
		}
		match := true
		for _, w := range what {
			match = match && strings.Contains(line, w)
		}
		f := strings.Fields(line)
		if !match || len(f) < 2 || len(f[0]) != 5 {
			continue
		}
		// klog gives no year and the local time zone.
		t, err := time.ParseInLocation("2006 0102 15:04:05.999999", fmt.Sprintf("%d %s %s", time.Now().Year(), f[0][1:], f[1]), time.Local)
		if err == nil {
			at = append(at, t)
		}
	}
	return at
}

// mustKilledAt is killedAt for a container the kubelet must have stopped.
func mustKilledAt(t *testing.T, p *kpod, container string) time.Time {
	t.Helper()
	at, ok := p.killedAt(container)
	if !ok {
		t.Fatalf("the kubelet's log has no \"Killing container with a grace period\" line for %s/%s", p.name, container)
	}
	return at
}
