package kube

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testkit"
)

// event is one of containerd's task events: a task (container process) started or exited.
type event struct {
	at          time.Time // containerd's time of the event
	topic       string    // /tasks/start, /tasks/exit
	containerID string
	pid         int
	exitStatus  int
}

// eventLog is containerd's event stream as `ctr events` prints it, kept from the node's start:
// the exits of containers the kubelet has already removed stay here.
type eventLog struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	all  []event
	done chan struct{}
}

func watchEvents() (*eventLog, error) {
	l := &eventLog{}
	return l, l.start()
}

// start runs `ctr events` against the current containerd; its events add to those kept.
func (l *eventLog) start() error {
	l.done = make(chan struct{})
	l.cmd = exec.Command("/usr/bin/ctr", "--address", node.ctrSock, "events")
	l.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := l.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := l.cmd.Start(); err != nil {
		return fmt.Errorf("ctr events: %v", err)
	}
	done := l.done
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if e, ok := parseEvent(sc.Text()); ok {
				l.mu.Lock()
				l.all = append(l.all, e)
				l.mu.Unlock()
			}
		}
	}()
	return nil
}

// parseEvent reads a line such as
//
//	2026-12-01 20:14:32.793309113 +0000 UTC k8s.io /tasks/start {"container_id":"t1","pid":25709}
func parseEvent(line string) (event, bool) {
	f := strings.SplitN(line, " ", 7)
	if len(f) < 7 || f[4] != "k8s.io" || (f[5] != "/tasks/start" && f[5] != "/tasks/exit") {
		return event{}, false
	}
	at, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", strings.Join(f[0:4], " "))
	if err != nil {
		return event{}, false
	}
	var body struct {
		ContainerID string `json:"container_id"`
		ID          string `json:"id"`
		Pid         int    `json:"pid"`
		ExitStatus  int    `json:"exit_status"`
	}
	if json.Unmarshal([]byte(f[6]), &body) != nil {
		return event{}, false
	}
	// An exec's exit names the exec in id; the container's own process has id = container_id.
	if f[5] == "/tasks/exit" && body.ID != body.ContainerID {
		return event{}, false
	}
	return event{at: at, topic: f[5], containerID: body.ContainerID, pid: body.Pid, exitStatus: body.ExitStatus}, true
}

// find returns the events of the container with the topic, oldest first.
func (l *eventLog) find(containerID, topic string) []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []event
	for _, e := range l.all {
		if e.containerID == containerID && e.topic == topic {
			out = append(out, e)
		}
	}
	return out
}

// exit returns the container's last exit, if it has exited.
func (l *eventLog) exit(containerID string) (event, bool) {
	exits := l.find(containerID, "/tasks/exit")
	if len(exits) == 0 {
		return event{}, false
	}
	return exits[len(exits)-1], true
}

func (l *eventLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

func (l *eventLog) stop() {
	if l.cmd.Process != nil {
		_ = l.cmd.Process.Kill()
	}
	<-l.done
	_ = l.cmd.Wait()
}

// awaitExit waits until containerd reports the container's exit. Any containerd event counts as
// progress.
func awaitExit(t *testing.T, what, containerID string) event {
	t.Helper()
	var e event
	err := testkit.WaitProgress(stall, func() (int, bool) {
		var ok bool
		e, ok = node.events.exit(containerID)
		return node.events.count(), ok
	})
	if err != nil {
		t.Fatalf("waiting for %s (%s) to exit: %v\nkubelet log:\n%s", what, containerID, err, daemonLog("kubelet", 40))
	}
	return e
}

// firstStart is when containerd started the container's process.
func firstStart(t *testing.T, what, containerID string) event {
	t.Helper()
	starts := node.events.find(containerID, "/tasks/start")
	if len(starts) == 0 {
		t.Fatalf("containerd reported no start of %s (%s)", what, containerID)
	}
	return starts[0]
}
