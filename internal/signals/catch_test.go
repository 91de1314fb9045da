package signals

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests of CatchAll change the signal handling of the process they run in, so each runs in a
// child: the test binary itself, started again with catchChildEnv naming the part to play.
const catchChildEnv = "UNO_SIGNALS_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(catchChildEnv) {
	case "":
		os.Exit(m.Run())
	case "catch":
		os.Exit(childCatch())
	case "discard":
		os.Exit(childDiscard())
	case "restore":
		os.Exit(childRestore())
	}
	os.Exit(3)
}

// runChild runs the test binary as the child named part, through sh when shellPrefix is given
// (to start it with inherited ignores: `trap "" SIG`), and returns its output.
func runChild(t *testing.T, part, shellPrefix string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	if shellPrefix != "" {
		cmd = exec.Command("/bin/sh", "-c", shellPrefix+`; exec "$0"`, self)
	}
	cmd.Env = append(os.Environ(), catchChildEnv+"="+part)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", part, err, out)
	}
	return string(out)
}

// childCatch catches every signal, then sends itself each one that would kill or crash a Go
// program without a handler, and a few it would drop; every one must arrive. It prints what it
// caught, and the dispositions a program it starts sees.
func childCatch() int {
	c := make(chan os.Signal, 64)
	caught := CatchAll(c, os.Getenv("UNO_RESET") == "")
	for _, sig := range append(slices.Clone(byHarm), syscall.SIGUSR1, syscall.SIGWINCH, syscall.Signal(50)) {
		if !slices.Contains(caught, sig) {
			continue
		}
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			fmt.Println("kill:", err)
			return 1
		}
		select {
		case got := <-c:
			if got != sig {
				fmt.Println("got", got, "want", sig)
				return 1
			}
		case <-time.After(20 * time.Second):
			fmt.Println("not delivered:", Name(sig))
			return 1
		}
	}
	names := make([]string, len(caught))
	for i, sig := range caught {
		names[i] = Name(sig)
	}
	fmt.Println("caught:", strings.Join(names, " "))
	return printChildSigIgn()
}

// childRestore prints each signal's disposition after RestoreDefaults: dfl, ign or go.
func childRestore() int {
	RestoreDefaults()
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGPIPE,
		syscall.SIGALRM, syscall.SIGCHLD, 40, 64, syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGURG, 33} {
		what := "go"
		switch disposition(sig) {
		case sigDfl:
			what = "dfl"
		case sigIgn:
			what = "ign"
		}
		fmt.Printf("%d=%s ", int(sig), what)
	}
	fmt.Println()
	return 0
}

// TestRestoreDefaults: every signal the runtime caught gets its default action, except those
// the runtime needs; an inherited ignore stays (HUP here, which the runtime leaves as found).
func TestRestoreDefaults(t *testing.T) {
	out := strings.TrimSpace(runChild(t, "restore", `trap "" HUP`))
	want := "1=ign 15=dfl 10=dfl 13=dfl 14=dfl 17=dfl 40=dfl 64=dfl 11=dfl 7=dfl 23=go 33=dfl"
	if out != want {
		t.Errorf("dispositions after RestoreDefaults:\n got %s\nwant %s", out, want)
	}
}

// childDiscard catches every signal, discards TTOU for itself, and prints both its own SigIgn
// and the one a program it starts has.
func childDiscard() int {
	CatchAll(make(chan os.Signal, 64), true)
	if err := DiscardForSelf(syscall.SIGTTOU); err != nil {
		fmt.Println(err)
		return 1
	}
	data, _ := os.ReadFile("/proc/self/status")
	fmt.Println("self:", sigIgnOf(string(data)))
	return printChildSigIgn()
}

func printChildSigIgn() int {
	out, err := exec.Command("cat", "/proc/self/status").Output()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("child:", sigIgnOf(string(out)))
	return 0
}

// sigIgnOf lists the ignored signals in a /proc/PID/status text.
func sigIgnOf(status string) string {
	_, rest, _ := strings.Cut(status, "SigIgn:\t")
	line, _, _ := strings.Cut(rest, "\n")
	mask, _ := strconv.ParseUint(line, 16, 64)
	var names []string
	for n := 1; n <= 64; n++ {
		if n >= 32 && n <= 34 {
			// libc's and the Go runtime's own: uno never touches them, so they are whatever the
			// test was started with (some CI shells ignore 32).
			continue
		}
		if mask&(1<<(n-1)) != 0 {
			names = append(names, Name(syscall.Signal(n)))
		}
	}
	return "[" + strings.Join(names, " ") + "]"
}

func lineOf(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			return v
		}
	}
	t.Fatalf("no %q line in:\n%s", prefix, out)
	return ""
}

// TestCatchAll: once CatchAll returns, signals that would end a Go program (TERM, HUP, a
// kill()ed SEGV...) and ones it would drop are delivered; a program started then has nothing
// ignored.
func TestCatchAll(t *testing.T) {
	out := runChild(t, "catch", "")
	caught := strings.Fields(lineOf(t, out, "caught: "))
	// This test binary runs with async preemption on (go test links no GODEBUG default): its
	// runtime sends itself SIGURG, so SIGURG is left to the runtime (see PreemptOff).
	want := len(Catchable()) - 1
	if len(caught) != want || slices.Contains(caught, "SIGURG") {
		t.Errorf("caught %d signals, want all %d catchable but SIGURG: %v", len(caught), want, caught)
	}
	for i, sig := range byHarm {
		if caught[i] != Name(sig) {
			t.Errorf("caught[%d] = %s, want %s: the harmful signals come first", i, caught[i], Name(sig))
		}
	}
	if got := lineOf(t, out, "child: "); got != "[]" {
		t.Errorf("a program started by a default-disposition uno ignores %s, want nothing", got)
	}
}

// TestCatchAllKeepsInheritedIgnores: HUP, INT, CONT, TSTP, TTIN and TTOU ignored by uno's caller
// are not caught, and stay ignored in the programs uno starts, as under tini. USR1, ignored too,
// is lost to the Go runtime: the program gets the default (a documented difference).
func TestCatchAllKeepsInheritedIgnores(t *testing.T) {
	out := runChild(t, "catch", `trap "" HUP INT CONT TSTP TTIN TTOU USR1`)
	caught := lineOf(t, out, "caught: ")
	for _, name := range []string{"SIGHUP", "SIGINT", "SIGCONT", "SIGTSTP", "SIGTTIN", "SIGTTOU"} {
		if slices.Contains(strings.Fields(caught), name) {
			t.Errorf("%s was ignored by the caller but caught", name)
		}
	}
	if want := "[SIGHUP SIGINT SIGCONT SIGTSTP SIGTTIN SIGTTOU]"; lineOf(t, out, "child: ") != want {
		t.Errorf("program ignores %s, want %s", lineOf(t, out, "child: "), want)
	}
}

// TestDiscardForSelf: uno discards TTOU, the program it starts does not inherit that.
func TestDiscardForSelf(t *testing.T) {
	out := runChild(t, "discard", "")
	if got := lineOf(t, out, "self: "); got != "[SIGTTOU]" {
		t.Errorf("uno ignores %s, want [SIGTTOU]", got)
	}
	if got := lineOf(t, out, "child: "); got != "[]" {
		t.Errorf("program ignores %s, want nothing", got)
	}
}
