package signals

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestPreemptOff(t *testing.T) {
	for _, c := range []struct {
		godebug string
		linked  bool
		want    bool
	}{
		{"", false, false},
		{"", true, true},
		{"asyncpreemptoff=1", false, true},
		{"madvdontneed=1,asyncpreemptoff=1", false, true},
		{"asyncpreemptoff=0", true, false},                    // the environment overrides the linked default
		{"asyncpreemptoff=1,asyncpreemptoff=0", false, false}, // the last setting wins, as in the runtime
		{"asyncpreemptoff=0,asyncpreemptoff=1", false, true},
		{"xasyncpreemptoff=1", false, false},
		// The runtime reads the value as a decimal int32 (runtime1.go, parsegodebug) and skips a
		// setting it cannot read, keeping the one before: so must uno, or a plain build told
		// asyncpreemptoff=true forwards the runtime's own SIGURGs.
		{"asyncpreemptoff=true", false, false},
		{"asyncpreemptoff=on", false, false},
		{"asyncpreemptoff=1,asyncpreemptoff=on", false, true},
		{"asyncpreemptoff=00", false, false},
		{"asyncpreemptoff=-0", false, false},
		{"asyncpreemptoff=+1", false, true},
		{"asyncpreemptoff=2", false, true},
		{"asyncpreemptoff=", true, true},
		{"asyncpreemptoff=x", true, true},
		{"asyncpreemptoff=99999999999", true, true},
	} {
		if got := preemptOff(c.godebug, c.linked); got != c.want {
			t.Errorf("preemptOff(%q, %v) = %v, want %v", c.godebug, c.linked, got, c.want)
		}
	}
}

// TestCatchAllCatchesSIGURGWithPreemptionOff: with async preemption off (here through GODEBUG,
// in the binary through the linker), SIGURG is caught like every other signal.
func TestCatchAllCatchesSIGURGWithPreemptionOff(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), catchChildEnv+"=catch", "GODEBUG=asyncpreemptoff=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	caught := strings.Fields(lineOf(t, string(out), "caught: "))
	if len(caught) != len(Catchable()) {
		t.Errorf("caught %d signals, want all %d catchable: %v", len(caught), len(Catchable()), caught)
	}
}
