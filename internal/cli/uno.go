package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/ulog"
)

const defaultGrace = 5 * time.Second

const unoUsage = `usage: uno [options] [--] program [args...]

  -g, --pgroup          forward signals to the program's whole process group
  -e, --exit-zero CODE  report exit status CODE as 0 (repeatable)
  -r, --rewrite FROM:TO rewrite a forwarded signal; TO 0 drops it (repeatable)
  -p, --pdeathsig SIG   signal uno receives when its parent exits
      --grace DURATION  time leftover processes get between SIGTERM and SIGKILL
                        once the program has exited (default 5s; 0: no sweep)
  -w, --warn-orphans    log every reaped orphan
  -v, --verbose         log more (repeatable)
      --version         print the version
  -h, --help            print this help

Each option has an environment variable, read before the command line:
UNO_PGROUP, UNO_EXIT_ZERO, UNO_REWRITE, UNO_PDEATHSIG, UNO_GRACE,
UNO_WARN_ORPHANS, UNO_VERBOSITY (lists are comma-separated).
`

var unoPersonality = personality{name: "uno", parse: parseUno, usage: unoUsage, usageExit: 2}

func parseUno(args []string, env lookupFunc) (*invocation, error) {
	inv := &invocation{}
	cfg := &inv.cfg
	verbosity := 0
	cfg.Subreaper = true
	cfg.Grace = defaultGrace
	cfg.Rewrites = signals.Rewrites{}

	setPgroup := func(string) error { cfg.Pgroup = true; return nil }
	addExitZero := func(v string) error {
		code, err := parseExitCode(v)
		if err != nil {
			return err
		}
		cfg.ExitZero = append(cfg.ExitZero, code)
		return nil
	}
	addRewrite := func(v string) error {
		from, to, err := signals.ParseRewrite(v)
		if err != nil {
			return err
		}
		cfg.Rewrites[from] = to
		return nil
	}
	setPdeathsig := func(v string) error {
		sig, err := signals.Parse(v)
		if err != nil {
			return err
		}
		cfg.Pdeathsig = sig
		return nil
	}
	setGrace := func(v string) (err error) {
		cfg.Grace, err = parseGrace(v)
		return err
	}
	setWarn := func(string) error { cfg.LogOrphans = true; return nil }

	envVars := []struct {
		key string
		set func(string) error
	}{
		{"UNO_PGROUP", boolEnv(setPgroup)},
		{"UNO_EXIT_ZERO", listEnv(addExitZero)},
		{"UNO_REWRITE", listEnv(addRewrite)},
		{"UNO_PDEATHSIG", setPdeathsig},
		{"UNO_GRACE", setGrace},
		{"UNO_WARN_ORPHANS", boolEnv(setWarn)},
		{"UNO_VERBOSITY", func(v string) (err error) {
			verbosity, err = strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("want a number, got %q", v)
			}
			return nil
		}},
	}
	for _, e := range envVars {
		if v, ok := env(e.key); ok && v != "" {
			if err := e.set(v); err != nil {
				return nil, usagef("%s: %v", e.key, err)
			}
		}
	}

	opts := []option{
		{short: 'g', long: "pgroup", set: setPgroup},
		{short: 'e', long: "exit-zero", hasValue: true, set: addExitZero},
		{short: 'r', long: "rewrite", hasValue: true, set: addRewrite},
		{short: 'p', long: "pdeathsig", hasValue: true, set: setPdeathsig},
		{long: "grace", hasValue: true, set: setGrace},
		{short: 'w', long: "warn-orphans", set: setWarn},
		{short: 'v', long: "verbose", set: func(string) error { verbosity++; return nil }},
		{long: "version", set: func(string) error { inv.print = "uno " + Version() + "\n"; return nil }},
		{short: 'h', long: "help", set: func(string) error { inv.print = unoUsage; return nil }},
	}
	rest, err := parseOptions(opts, args)
	if err != nil {
		return nil, err
	}
	if inv.print != "" {
		return inv, nil
	}
	if len(rest) == 0 {
		return nil, usagef("no program given")
	}
	cfg.Argv = rest
	inv.level = ulog.LevelFor(verbosity)
	return inv, nil
}

// parseExitCode reads an exit status, 0-255.
func parseExitCode(v string) (int, error) {
	code, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || code < 0 || code > 255 {
		return 0, fmt.Errorf("exit code must be 0-255, got %q", v)
	}
	return code, nil
}

// parseGrace reads a duration ("10s", "1m30s"); a bare number is seconds.
func parseGrace(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, serr := strconv.ParseFloat(v, 64)
		if serr != nil {
			return 0, fmt.Errorf("want a duration such as 10s, got %q", v)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 {
		return 0, fmt.Errorf("duration must not be negative, got %q", v)
	}
	return d, nil
}

// parseBool reads an environment switch.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("want 1/0, true/false, yes/no or on/off, got %q", v)
}

// boolEnv adapts a switch's setter to a boolean environment variable.
func boolEnv(set func(string) error) func(string) error {
	return func(v string) error {
		on, err := parseBool(v)
		if err != nil || !on {
			return err
		}
		return set("")
	}
}

// listEnv applies set to each element of a comma-separated list.
func listEnv(set func(string) error) func(string) error {
	return func(v string) error {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				if err := set(item); err != nil {
					return err
				}
			}
		}
		return nil
	}
}
