package signals

import (
	"slices"
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	good := map[string]syscall.Signal{
		"15": syscall.SIGTERM, "TERM": syscall.SIGTERM, "SIGTERM": syscall.SIGTERM, "sigterm": syscall.SIGTERM,
		" hup ": syscall.SIGHUP, "IOT": syscall.SIGABRT, "CLD": syscall.SIGCHLD, "SIGPOLL": syscall.SIGIO,
		"RTMIN": 34, "SIGRTMIN+1": 35, "rtmax": 64, "RTMAX-2": 62, "64": 64,
	}
	for in, want := range good {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "65", "-1", "NOPE", "SIG", "RTMIN-1", "RTMAX+1", "RTMIN+31", "RTMIN+x", "1.5"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		}
	}
}

func TestNameRoundTrips(t *testing.T) {
	for sig := syscall.Signal(1); sig <= 64; sig++ {
		if sig >= 32 && sig < 34 {
			continue
		}
		name := Name(sig)
		if got, err := Parse(name); err != nil || got != sig {
			t.Errorf("Parse(Name(%d) = %q) = %v, %v", sig, name, got, err)
		}
	}
	if got := Name(syscall.SIGABRT); got != "SIGABRT" {
		t.Errorf("Name(SIGABRT) = %q, want the canonical name, not an alias", got)
	}
}

func TestCatchable(t *testing.T) {
	c := Catchable()
	for _, never := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGPROF, 32, 33, 34} {
		if slices.Contains(c, never) {
			t.Errorf("Catchable contains %v", never)
		}
	}
	if len(c) != 31-4+30 {
		t.Errorf("Catchable has %d signals, want %d", len(c), 31-4+30)
	}
}

func TestParseRewrite(t *testing.T) {
	cases := []struct {
		in       string
		from, to syscall.Signal
		err      bool
	}{
		{in: "USR1:USR2", from: syscall.SIGUSR1, to: syscall.SIGUSR2},
		{in: "15:2", from: syscall.SIGTERM, to: syscall.SIGINT},
		{in: "SIGHUP:0", from: syscall.SIGHUP, to: 0},
		{in: "TERM", err: true},
		{in: "KILL:TERM", err: true}, // cannot be caught, so cannot be rewritten
		{in: "CHLD:TERM", err: true},
		{in: "TERM:NOPE", err: true},
	}
	for _, c := range cases {
		from, to, err := ParseRewrite(c.in)
		if (err != nil) != c.err || !c.err && (from != c.from || to != c.to) {
			t.Errorf("ParseRewrite(%q) = %v, %v, %v", c.in, from, to, err)
		}
	}
	r := Rewrites{syscall.SIGUSR1: syscall.SIGUSR2}
	if r.Apply(syscall.SIGUSR1) != syscall.SIGUSR2 || r.Apply(syscall.SIGTERM) != syscall.SIGTERM {
		t.Error("Rewrites.Apply")
	}
}

// FuzzParse: signal names and rewrite specs from flags and environment variables never panic,
// and what parses is a signal uno can name and send.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"TERM", "SIGTERM", "15", "RTMIN+3", "rtmax-1", "TERM:INT", "USR1:0", "HUP:", ":", "SIG", "99", "-1", "RTMIN+999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sig, err := Parse(s); err == nil && (sig < 1 || sig > 64 || Name(sig) == "") {
			t.Fatalf("Parse(%q) = %d", s, sig)
		}
		if from, to, err := ParseRewrite(s); err == nil && (from < 1 || from > 64 || to < 0 || to > 64) {
			t.Fatalf("ParseRewrite(%q) = %d, %d", s, from, to)
		}
	})
}
