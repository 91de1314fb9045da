package supervisor

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uno-init/uno/internal/config"
)

// openFDs counts the test process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestFailedStartsLeakNoDescriptors: a start that fails after the service's output was set up
// (here its notify socket cannot be bound, its path being too long for a socket address, which
// uno check and the command line reject but a configuration passed to Run as such is not)
// closes what it opened, however often it is retried.
func TestFailedStartsLeakNoDescriptors(t *testing.T) {
	const starts = 20
	toml := `
[uno]
grace = "1s"

[services.` + strings.Repeat("n", 120) + `]
command = ["true"]
ready = { notify = true }
restart = "always"
restart_delay = "1ms"
restart_delay_max = "1ms"
restart_limit = 19
`
	before := openFDs(t)
	code, events := runConfig(t, toml)
	if code != 1 {
		t.Errorf("status %d, want 1", code)
	}
	if n := count(events, "cannot create the notify socket "+strings.Repeat("n", 120)); n != starts {
		t.Errorf("%d failed starts, want %d:\n%s", n, starts, strings.Join(events, "\n"))
	}
	// A little slack for what the runtime opens on its own once (an epoll descriptor): a leak
	// would be several descriptors for each start.
	if after := openFDs(t); after > before+2 {
		t.Errorf("%d descriptors open after %d failed starts, %d before", after, starts, before)
	}
}

// TestNotifySocketLongestName: CheckNotifySockets accepts the longest name whose socket makeNotifyDir
// and listenNotify can really create, and rejects one more character.
func TestNotifySocketLongestName(t *testing.T) {
	dir := t.TempDir()
	n := maxSocketPath - len(filepath.Join(dir, notifyDirWorst, ".sock"))
	if n < 1 {
		t.Skipf("the temporary directory %s leaves no room for a name", dir)
	}
	conf := func(name string) string {
		return "[services." + name + "]\ncommand = [\"true\"]\nready = { notify = true }\n"
	}
	longest := strings.Repeat("n", n)
	load := func(name string) *config.Config {
		path := filepath.Join(dir, "check.toml")
		if err := os.WriteFile(path, []byte(conf(name)), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, os.Environ())
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if err := CheckNotifySockets(load(longest), dir); err != nil {
		t.Errorf("the longest name rejected: %v", err)
	}
	err := CheckNotifySockets(load(longest+"n"), dir)
	if want := "check.toml:3: services." + longest + "n.ready.notify: the notify socket's path"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("one more: %v, want %q", err, want)
	}

	_, events := runConfigIn(t, dir, conf(longest))
	if !slices.Contains(events, "service started "+longest) || slices.ContainsFunc(events, func(e string) bool {
		return strings.HasPrefix(e, "cannot create the notify socket")
	}) {
		t.Errorf("the longest name's socket could not be created:\n%s", strings.Join(events, "\n"))
	}
}
