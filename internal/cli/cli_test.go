package cli

import (
	"bytes"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func env(vars ...string) lookupFunc {
	return func(key string) (string, bool) {
		for _, v := range vars {
			if k, val, _ := strings.Cut(v, "="); k == key {
				return val, true
			}
		}
		return "", false
	}
}

func TestParseOptions(t *testing.T) {
	var got []string
	rec := func(name string) func(string) error {
		return func(v string) error { got = append(got, name+"="+v); return nil }
	}
	opts := []option{
		{short: 'g', long: "pgroup", set: rec("g")},
		{short: 'e', long: "exit-zero", hasValue: true, set: rec("e")},
		{long: "grace", hasValue: true, set: rec("grace")},
	}
	cases := []struct {
		args     []string
		want     []string
		rest     []string
		errMatch string
	}{
		{args: []string{"-g", "prog", "-e", "1"}, want: []string{"g="}, rest: []string{"prog", "-e", "1"}},
		{args: []string{"-ge143", "--", "-g"}, want: []string{"g=", "e=143"}, rest: []string{"-g"}},
		{args: []string{"-e", "1", "--exit-zero=2", "--grace", "3s", "x"}, want: []string{"e=1", "e=2", "grace=3s"}, rest: []string{"x"}},
		{args: []string{"-", "x"}, rest: []string{"-", "x"}},
		{args: []string{"-x"}, errMatch: "unknown option -x"},
		{args: []string{"--nope"}, errMatch: "unknown option --nope"},
		{args: []string{"-e"}, errMatch: "option -e needs a value"},
		{args: []string{"--grace"}, errMatch: "option --grace needs a value"},
		{args: []string{"--pgroup=1"}, errMatch: "option --pgroup takes no value"},
	}
	for _, c := range cases {
		got = nil
		rest, err := parseOptions(opts, c.args)
		if c.errMatch != "" {
			if err == nil || !strings.Contains(err.Error(), c.errMatch) {
				t.Errorf("%q: error %v, want %q", c.args, err, c.errMatch)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) || !slices.Equal(rest, c.rest) {
			t.Errorf("%q: set %q rest %q err %v; want %q %q", c.args, got, rest, err, c.want, c.rest)
		}
	}
}

func TestParseUno(t *testing.T) {
	inv, err := parseUno([]string{"-g", "-e", "143", "-r", "USR1:0", "--grace=1m", "-vv", "prog", "-g"},
		env("UNO_EXIT_ZERO=1, 2", "UNO_GRACE=3", "UNO_PDEATHSIG=KILL"))
	if err != nil {
		t.Fatal(err)
	}
	c := inv.cfg
	if !c.Pgroup || !slices.Equal(c.ExitZero, []int{1, 2, 143}) || c.Rewrites[syscall.SIGUSR1] != 0 ||
		c.Grace != time.Minute || c.Pdeathsig != syscall.SIGKILL || !slices.Equal(c.Argv, []string{"prog", "-g"}) ||
		!c.Subreaper {
		t.Errorf("parseUno: %+v", c)
	}
	if inv, _ := parseUno([]string{"x"}, env("UNO_GRACE=2.5")); inv.cfg.Grace != 2500*time.Millisecond {
		t.Errorf("bare seconds: grace %v", inv.cfg.Grace)
	}
	if inv, _ := parseUno([]string{"x"}, env()); inv.cfg.Grace != defaultGrace {
		t.Errorf("default grace %v", inv.cfg.Grace)
	}
	for _, bad := range [][]string{{"-e", "x", "p"}, {"--grace", "-1s", "p"}, {"-p", "NOPE", "p"}, {}} {
		if _, err := parseUno(bad, env()); err == nil {
			t.Errorf("parseUno(%q) accepted", bad)
		}
	}
	if _, err := parseUno([]string{"p"}, env("UNO_PGROUP=maybe")); err == nil || !strings.Contains(err.Error(), "UNO_PGROUP") {
		t.Errorf("bad UNO_PGROUP: %v", err)
	}
}

func TestPersonalityFor(t *testing.T) {
	for argv0, want := range map[string]string{
		"/usr/bin/uno": "uno", "tini": "tini", "/sbin/docker-init": "tini", "tini-static": "tini",
		"dumb-init": "dumb-init", "/usr/libexec/podman/catatonit": "catatonit", "podman-init": "catatonit",
		"my-entrypoint": "uno",
	} {
		if got := personalityFor(argv0).name; got != want {
			t.Errorf("personalityFor(%q) = %s, want %s", argv0, got, want)
		}
	}
}

func TestPeerDefaults(t *testing.T) {
	tini, err := parseTini([]string{"-s", "-g", "-e", "143", "prog"}, env("TINI_VERBOSITY=3"))
	if err != nil || !tini.cfg.Subreaper || !tini.cfg.Pgroup || tini.cfg.Grace != 0 || tini.level > -4 {
		t.Errorf("tini: %+v %v", tini, err)
	}
	dumb, err := parseDumbInit([]string{"prog"}, env())
	if err != nil || !dumb.cfg.Setsid || !dumb.cfg.TermGroupOnExit || dumb.cfg.ExecFailureCode != 2 ||
		dumb.cfg.Rewrites[syscall.SIGTSTP] != syscall.SIGSTOP || dumb.cfg.Subreaper {
		t.Errorf("dumb-init: %+v %v", dumb.cfg, err)
	}
	single, _ := parseDumbInit([]string{"-r", "20:10", "prog"}, env("DUMB_INIT_SETSID=0"))
	if single.cfg.Setsid || !single.cfg.NoIsolate || single.cfg.Rewrites[syscall.SIGTSTP] != syscall.SIGUSR1 {
		t.Errorf("dumb-init single child: %+v", single.cfg)
	}
	cat, err := parseCatatonit([]string{"-P"}, env())
	if err != nil || !slices.Equal(cat.pause, []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}) || !cat.cfg.NoJobControl {
		t.Errorf("catatonit -P: %+v %v", cat, err)
	}
}

func TestMainUsageError(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"uno", "--bogus"}, env(), &out, &errOut); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if out.Len() != 0 || !strings.HasPrefix(errOut.String(), "uno: unknown option --bogus\nusage: uno") {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	out.Reset()
	if code := Main([]string{"uno", "--version"}, env(), &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "uno ") {
		t.Errorf("--version: %d %q", code, out.String())
	}
}
