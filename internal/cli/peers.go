package cli

// The drop-in personalities. Each takes its tool's flags and environment variables and keeps
// its tool's semantics where they differ from uno's (docs/compatibility.md has the table); the
// facts come from tini 0.19, dumb-init 1.2.5 and catatonit 0.2.
//
// One uno extension is read by all of them: UNO_GRACE turns on the sweep of leftover processes
// that none of the three has (their default, kept here, is to exit at once).

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/ulog"
)

// Versions reported under the peers' names. Docker's `docker info` parses `docker-init
// --version` as "tini version X[ - git.Y]"; catatonit prints the same shape for that reason.
const (
	tiniVersionPrefix = "tini version "
	dumbInitVersion   = "1.2.5"
)

// tiniVersion is what tini (and catatonit) print for --version.
func tiniVersion() string {
	return tiniVersionPrefix + Version() + "_uno" + dockerCommit()
}

// dockerCommit ends every --version line dockerd may run as its init (--init-path): dockerd
// splits the output at " - " and takes "git.X" after it as the commit `docker info` shows, under
// any file name; without it, "N/A". X may not contain a dot, or docker drops it.
func dockerCommit() string {
	return " - git." + strings.ReplaceAll(Version(), ".", "-") + "\n"
}

const license = "uno is distributed under the MIT License; see https://github.com/uno-init/uno/blob/main/LICENSE\n"

// peerGrace applies UNO_GRACE, the one uno extension the personalities read.
func peerGrace(inv *invocation, env lookupFunc) error {
	if v, ok := env("UNO_GRACE"); ok && v != "" {
		g, err := parseGrace(v)
		if err != nil {
			return usagef("UNO_GRACE: %v", err)
		}
		inv.cfg.Grace = g
	}
	return nil
}

// ---- tini / docker-init ---------------------------------------------------------------------

const tiniUsage = `usage: tini [-h] [-s] [-p SIGNAL] [-v] [-w] [-g] [-e EXIT_CODE] [-l] [--] program [args...]
       tini --version

  -s            register as child subreaper (TINI_SUBREAPER)
  -p SIGNAL     signal tini receives when its parent exits, e.g. -p SIGKILL
  -v            more output (repeatable; TINI_VERBOSITY, default 1)
  -w            warn when an orphan is reaped
  -g            forward signals to the child's process group (TINI_KILL_PROCESS_GROUP)
  -e EXIT_CODE  report EXIT_CODE (0-255) as 0 (repeatable)
  -l            print the license
  -h            print this help

This is uno (` + "`uno --help`" + ` under its own name) running as tini.
`

var tiniPersonality = personality{name: "tini", parse: parseTini, usage: func() string { return tiniUsage }, usageExit: 1}

func parseTini(args []string, env lookupFunc) (*invocation, error) {
	inv := &invocation{socketGroup: -1}
	cfg := &inv.cfg
	// tini handles --version only as its sole argument.
	if len(args) == 1 && args[0] == "--version" {
		inv.print = tiniVersion()
		return inv, nil
	}
	verbosity := 1
	// tini ignores SIGTTIN and SIGTTOU for itself from its start, terminal or not.
	cfg.IgnoreTerminalStops = true
	cfg.NotSubreaperWarning = "not PID 1 and not registered as child subreaper: orphans will not be " +
		"reaped; use -s or TINI_SUBREAPER, or run as PID 1"
	// Any value, even empty, turns these on, as in tini.
	if _, ok := env("TINI_SUBREAPER"); ok {
		cfg.Subreaper = true
	}
	if _, ok := env("TINI_KILL_PROCESS_GROUP"); ok {
		cfg.Pgroup = true
	}
	if v, ok := env("TINI_VERBOSITY"); ok {
		// tini uses atoi: anything that is not a number means 0.
		verbosity, _ = strconv.Atoi(strings.TrimSpace(v))
	}
	if err := peerGrace(inv, env); err != nil {
		return nil, err
	}
	opts := []option{
		{short: 's', set: func(string) error { cfg.Subreaper = true; return nil }},
		{short: 'p', hasValue: true, set: func(v string) (err error) {
			cfg.Pdeathsig, err = signals.Parse(v)
			return err
		}},
		{short: 'v', set: func(string) error { verbosity++; return nil }},
		{short: 'w', set: func(string) error { cfg.LogOrphans = true; return nil }},
		{short: 'g', set: func(string) error { cfg.Pgroup = true; return nil }},
		{short: 'e', hasValue: true, set: func(v string) error {
			code, err := parseExitCode(v)
			cfg.ExitZero = append(cfg.ExitZero, code)
			return err
		}},
		{short: 'l', set: func(string) error { inv.print = license; return nil }},
		{short: 'h', set: func(string) error { inv.print = tiniUsage; return nil }},
	}
	rest, err := parseOptions(opts, args)
	if err != nil || inv.print != "" {
		return inv, err
	}
	if len(rest) == 0 {
		return nil, usagef("no program given")
	}
	cfg.Argv = rest
	// tini: 0 fatal errors only, 1 warnings, 2 info, 3 and more debug.
	inv.level = levelFromCount(verbosity, 1)
	return inv, nil
}

// levelFromCount maps a verbosity count to a level, with warnings at count warnAt.
func levelFromCount(count, warnAt int) ulog.Level {
	switch {
	case count < warnAt:
		return ulog.LevelError
	case count == warnAt:
		return ulog.LevelWarn
	case count == warnAt+1:
		return ulog.LevelInfo
	}
	return ulog.LevelDebug
}

// ---- dumb-init --------------------------------------------------------------------------------

const dumbInitUsage = `usage: dumb-init [option] program [args...]

  -c, --single-child   signals go to the child only, which stays in dumb-init's session
                       (DUMB_INIT_SETSID=0); default: a new session, signals to its group
  -r, --rewrite s:r    rewrite received signal s to r (1-31) before forwarding; r 0 drops it
                       (repeatable)
  -v, --verbose        debug output on stderr (DUMB_INIT_DEBUG=1)
  -V, --version        print the version
  -h, --help           print this help

This is uno (` + "`uno --help`" + ` under its own name) running as dumb-init.
`

var dumbInitPersonality = personality{name: "dumb-init", parse: parseDumbInit, usage: func() string { return dumbInitUsage }, usageExit: 1}

// dumbInitMaxSignal is the highest signal dumb-init's -r accepts.
const dumbInitMaxSignal = 31

func parseDumbInit(args []string, env lookupFunc) (*invocation, error) {
	inv := &invocation{level: ulog.LevelWarn}
	cfg := &inv.cfg
	setsid := true
	cfg.Rewrites = signals.Rewrites{}
	opts := []option{
		{short: 'h', long: "help", set: func(string) error { inv.printErr = dumbInitUsage; return nil }},
		{short: 'c', long: "single-child", set: func(string) error { setsid = false; return nil }},
		{short: 'r', long: "rewrite", hasValue: true, set: func(v string) error {
			from, to, err := parseDumbInitRewrite(v)
			if err != nil {
				return err
			}
			cfg.Rewrites[from] = to
			return nil
		}},
		{short: 'v', long: "verbose", set: func(string) error { inv.level = ulog.LevelDebug; return nil }},
		{short: 'V', long: "version", set: func(string) error {
			inv.printErr = "dumb-init v" + dumbInitVersion + " (uno " + Version() + ")\n"
			return nil
		}},
	}
	rest, err := parseOptions(opts, args)
	if err != nil || inv.printErr != "" {
		return inv, err
	}
	if len(rest) == 0 {
		return nil, usagef("no program given")
	}
	if v, _ := env("DUMB_INIT_DEBUG"); v == "1" {
		inv.level = ulog.LevelDebug
	}
	if v, _ := env("DUMB_INIT_SETSID"); v == "0" {
		setsid = false
	}
	if err := peerGrace(inv, env); err != nil {
		return nil, err
	}
	cfg.Argv = rest
	cfg.Setsid = setsid
	cfg.NoIsolate = !setsid
	// After passing on a job-control signal dumb-init stops itself, so the shell above sees the
	// whole job stop; in setsid mode the program's group gets SIGSTOP, since a new session's
	// orphaned group would ignore SIGTSTP.
	cfg.SuspendOnJobControl = true
	if setsid {
		for _, sig := range []syscall.Signal{syscall.SIGTSTP, syscall.SIGTTOU, syscall.SIGTTIN} {
			if _, set := cfg.Rewrites[sig]; !set {
				cfg.Rewrites[sig] = syscall.SIGSTOP
			}
		}
	}
	// When the child exits, dumb-init sends (rewritten) SIGTERM to whatever is left of its
	// group and exits without waiting; exec failure exits 2.
	cfg.TermGroupOnExit = true
	cfg.ExecFailureCode = 2
	// dumb-init handles signals 1-31 itself and execs its program with an empty mask, so the
	// program starts clean whatever the caller blocked or ignored.
	cfg.ResetSignals = true
	return inv, nil
}

// parseDumbInitRewrite reads dumb-init's "s:r" with numbers only, s 1-31 and r 0-31.
func parseDumbInitRewrite(spec string) (from, to syscall.Signal, err error) {
	a, b, ok := strings.Cut(spec, ":")
	f, ferr := strconv.Atoi(a)
	t, terr := strconv.Atoi(b)
	if !ok || ferr != nil || terr != nil || f < 1 || f > dumbInitMaxSignal || t < 0 || t > dumbInitMaxSignal {
		return 0, 0, fmt.Errorf("want <signum>:<signum> with signal numbers 1-%d (0 to drop), got %q",
			dumbInitMaxSignal, spec)
	}
	return syscall.Signal(f), syscall.Signal(t), nil
}

// ---- catatonit / podman-init ------------------------------------------------------------------

const catatonitUsage = `usage: catatonit [-ghLPV] [--] program [args...]

  -g             forward signals to the program's process group
  -P             pause mode: run no program, exit 0 on SIGINT or SIGTERM
  -L             print the license
  -V, --version  print the version
  -h             print this help

This is uno (` + "`uno --help`" + ` under its own name) running as catatonit.
`

var catatonitPersonality = personality{name: "catatonit", parse: parseCatatonit, usage: func() string { return catatonitUsage }, usageExit: 1}

func parseCatatonit(args []string, env lookupFunc) (*invocation, error) {
	inv := &invocation{level: ulog.LevelError}
	cfg := &inv.cfg
	if _, ok := env("CATATONIT_DEBUG"); ok {
		inv.level = ulog.LevelDebug
	}
	pause := false
	opts := []option{
		{short: 'g', set: func(string) error { cfg.Pgroup = true; return nil }},
		{short: 'P', set: func(string) error { pause = true; return nil }},
		{short: 'L', set: func(string) error { inv.print = license; return nil }},
		{short: 'V', long: "version", set: func(string) error {
			inv.print = tiniVersion()
			return nil
		}},
		{short: 'h', set: func(string) error { inv.printErr = catatonitUsage; return nil }},
	}
	rest, err := parseOptions(opts, args)
	if err != nil || inv.print != "" || inv.printErr != "" {
		return inv, err
	}
	if err := peerGrace(inv, env); err != nil {
		return nil, err
	}
	// catatonit is a subreaper whenever it is not PID 1, drops the job-control signals it
	// receives (they can only mean its own terminal trouble) and exits 1 if exec fails.
	cfg.Subreaper = true
	cfg.NoJobControl = true
	cfg.ExecFailureCode = 1
	if pause {
		inv.pause = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}
		return inv, nil
	}
	if len(rest) == 0 {
		return nil, usagef("missing program name")
	}
	cfg.Argv = rest
	return inv, nil
}
