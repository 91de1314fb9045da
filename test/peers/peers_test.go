// Package peers tests uno against the inits it replaces. It owns the differential test: the same
// scenarios run under uno invoked as tini, tini-static, docker-init, dumb-init and catatonit, and
// under the real binary (Debian's), and every observable result is compared field by field: exit
// status, where each signal goes, what the program inherits (signal mask, ignored and caught
// signals, process group, session, terminal, cwd, fds, environment), the init's own state, what
// is left running, and the program's output. A difference passes only when the table of
// deliberate differences (differences_test.go) lists it, and docs/compatibility.md shows that
// same table (TestDifferencesDocumented keeps them in sync).
//
// It also owns the randomized start-up test (random_test.go): signals sent at random moments
// while an init and its program start, on a loaded machine, must all reach the program.
//
// Scenarios in a new PID namespace need root; they skip with a message when not root.
package peers

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testkit"
)

// deadline bounds every wait for something the test expects to happen; none of them is how
// long the test waits for something not to happen (see settle).
const deadline = 20 * time.Second

// peer is one name uno answers to, and the real binary that answers to it.
type peer struct {
	name string
	real string
	// family picks the scenario table: tini's flags serve tini, tini-static and docker-init.
	family string
}

// peers are compared in this order. Docker's docker-init is a tini-static build.
var peers = []peer{
	{"tini", "/usr/bin/tini", "tini"},
	{"tini-static", "/usr/bin/tini-static", "tini"},
	{"docker-init", "/usr/bin/tini-static", "tini"},
	{"dumb-init", "/usr/bin/dumb-init", "dumb-init"},
	{"catatonit", "/usr/bin/catatonit", "catatonit"},
}

func TestMain(m *testing.M) {
	testkit.DefaultSignals()
	os.Exit(m.Run())
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the inits as PID 1 of a new PID namespace (CLONE_NEWPID)")
	}
}

// needPeer fails when the peer binary is missing: `make test` installs them (TEST_PACKAGES).
func needPeer(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is needed (make test-deps installs it): %v", path, err)
	}
}

// cleanEnv is the test's environment without the variables any of the inits reads, so that
// only a scenario's own env sets them.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "TINI_"), strings.HasPrefix(name, "DUMB_INIT_"),
			strings.HasPrefix(name, "CATATONIT_"), strings.HasPrefix(name, "UNO_"),
			name == "LISTEN_PID", name == "LISTEN_FDS", name == "NOTIFY_SOCKET":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// settle waits until every live one of pids has nothing left to do: no thread running and no
// signal pending (a stopped process may keep pending ones), seen in several polls in a row. It
// is how the test knows a signal has gone as far as it will go without waiting a fixed time:
// kill(2) leaves the signal pending at once, an init that forwards it kill(2)s before it sleeps
// again, and the recipient writes its log line before it does.
func settle(pids ...int) {
	const stillFor = 5
	end := time.Now().Add(deadline)
	for calm := 0; calm < stillFor && time.Now().Before(end); {
		if quiet(pids) {
			calm++
		} else {
			calm = 0
		}
		time.Sleep(time.Millisecond)
	}
}

// quiet reports whether none of pids has a running thread or an undelivered signal.
func quiet(pids []int) bool {
	for _, pid := range pids {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, task := range tasks {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
			if err != nil {
				continue
			}
			f := statusFields(string(data))
			state := f["State"]
			if strings.HasPrefix(state, "R") || strings.HasPrefix(state, "D") {
				return false
			}
			stopped := strings.HasPrefix(state, "T") || strings.HasPrefix(state, "t")
			if !stopped && (nonzero(f["SigPnd"]) || nonzero(f["ShdPnd"])) {
				return false
			}
		}
	}
	return true
}

func nonzero(hex string) bool { return strings.Trim(hex, "0") != "" }

// statusFields splits /proc/PID/status into its fields.
func statusFields(data string) map[string]string {
	f := map[string]string{}
	for _, line := range strings.Split(data, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			f[k] = strings.TrimSpace(v)
		}
	}
	return f
}

// procState is the one-letter state of pid, "" if it is gone.
func procState(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// statFields returns the fields of /proc/pid/stat after the command name (state first).
func statFields(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// children lists pid's children (host pids, whatever namespace they are in). Each thread has
// its own list: a Go program forks from whichever thread it is on.
func children(pid int) []int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var out []int
	for _, task := range tasks {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for _, f := range strings.Fields(string(data)) {
			var c int
			fmt.Sscan(f, &c)
			out = append(out, c)
		}
	}
	sort.Ints(out)
	return out
}
