package cli

import (
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/ulog"
)

const defaultGrace = 5 * time.Second

// unoUsageHead and unoUsageFoot frame the options in `uno --help`; the options' lines and the
// list of their environment variables are written from unoOptions.
const unoUsageHead = `usage: uno [options] [--] program [args...]
       uno [options] -c FILE [-- program [args...]]
       uno [options] -f Procfile
       uno [options] -C crontab
       uno check [-c FILE | -f Procfile | -C crontab]
       uno ctl COMMAND ...   (uno ctl --help)
`

const unoUsageFoot = `With no program and no -c, uno runs ` + config.DefaultFile + ` if it exists.
`

// unoOption is one row of uno's options table: the option as the command line gives it, the
// environment variable that gives it before the command line, and its lines in the usage, so
// that `uno --help` cannot disagree with what uno reads.
type unoOption struct {
	short byte
	long  string
	// env is the option's environment variable ("" for none).
	env string
	// arg names the value in the usage; an option without one is a switch.
	arg string
	// help is the option's text in the usage, lines separated by "\n"; gap puts a blank line
	// before it.
	help string
	gap  bool
	// set receives the option's value, or "" for a switch.
	set func(value string) error
	// envSet reads env when it differs from set; otherwise a switch's variable is a boolean
	// (boolEnv) and another option's is its value.
	envSet func(value string) error
}

// unoOptions is the table of uno's options, setting inv and verbosity. Its order is the
// usage's, and the order in which the environment variables are read.
func unoOptions(inv *invocation, verbosity *int) []unoOption {
	cfg := &inv.cfg
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
		inv.graceSet = true
		return err
	}
	setVerbosity := func(v string) (err error) {
		*verbosity, err = strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("want a number, got %q", v)
		}
		return nil
	}
	setSocketGroup := func(v string) (err error) {
		inv.socketGroup, err = lookupGroup(v)
		return err
	}

	var opts []unoOption
	opts = []unoOption{
		{short: 'c', long: "config", env: "UNO_CONFIG", arg: "FILE",
			help: "run the services FILE describes (TOML; see docs/services.md),\nand program, if given, as the main service",
			set:  func(v string) error { inv.configFile = v; return nil }},
		{short: 'f', long: "procfile", arg: "FILE",
			help: "run a Procfile's processes; any exit stops all",
			set:  func(v string) error { inv.procfile = v; return nil }},
		{short: 'C', long: "crontab", arg: "FILE",
			help: "run a crontab's jobs (MIN HOUR DOM MONTH DOW [USER] command lines)",
			set:  func(v string) error { inv.crontab = v; return nil }},

		{short: 'g', long: "pgroup", env: "UNO_PGROUP", gap: true,
			help: "forward signals to the program's whole process group",
			set:  setPgroup},
		{short: 'e', long: "exit-zero", env: "UNO_EXIT_ZERO", arg: "CODE",
			help: "report exit status CODE as 0 (repeatable)",
			set:  addExitZero, envSet: listEnv(addExitZero)},
		{short: 'r', long: "rewrite", env: "UNO_REWRITE", arg: "FROM:TO",
			help: "rewrite a forwarded signal; TO 0 drops it (repeatable)",
			set:  addRewrite, envSet: listEnv(addRewrite)},
		{short: 'p', long: "pdeathsig", env: "UNO_PDEATHSIG", arg: "SIG",
			help: "signal uno receives when its parent exits",
			set:  setPdeathsig},
		{long: "grace", env: "UNO_GRACE", arg: "DURATION",
			help: "time leftover processes get between SIGTERM and SIGKILL\nonce the program has exited (default " + defaultGrace.String() + "; 0: no sweep)",
			set:  setGrace},
		{long: "drain", env: "UNO_DRAIN", arg: "DURATION",
			help: "on the first SIGTERM, stay up but not ready (/readyz 503) this long\nbefore stopping; counts inside the grace of services",
			set: func(v string) (err error) {
				cfg.Drain, err = parseGrace(v)
				inv.drainSet = true
				return err
			}},
		{short: 'w', long: "warn-orphans", env: "UNO_WARN_ORPHANS",
			help: "log every reaped orphan",
			set:  func(string) error { cfg.LogOrphans = true; return nil }},
		{long: "socket", env: "UNO_SOCKET", arg: "PATH",
			help: "control socket for uno ctl (default /run/uno/uno.sock)",
			set:  func(v string) error { inv.socket = v; return nil }},
		{long: "socket-group", env: "UNO_SOCKET_GROUP", arg: "GRP",
			help: "let group GRP read status and probes through the socket",
			set:  setSocketGroup},
		{long: "no-socket", env: "UNO_NO_SOCKET",
			help: "no control socket",
			set:  func(string) error { inv.noSocket = true; return nil }},
		{long: "http", env: "UNO_HTTP", arg: "ADDR",
			help: "serve /readyz, /healthz, /status and /metrics on ADDR\n(loopback only unless --http-public)",
			set:  func(v string) error { inv.httpAddr = v; return nil }},
		{long: "http-public", env: "UNO_HTTP_PUBLIC",
			help: "let --http serve on any address, not only loopback",
			set:  func(string) error { inv.httpPublic = true; return nil }},
		{short: 'v', long: "verbose", env: "UNO_VERBOSITY",
			help: "log more (repeatable)",
			set:  func(string) error { *verbosity++; return nil }, envSet: setVerbosity},
		{long: "version",
			help: "print the version",
			set:  func(string) error { inv.print = "uno " + Version() + dockerCommit(); return nil }},
		{short: 'h', long: "help",
			help: "print this help",
			set:  func(string) error { inv.print = unoUsage(opts); return nil }},
	}
	return opts
}

// unoUsage is `uno --help`: the fixed lines around the options of the table opts.
func unoUsage(opts []unoOption) string {
	const indent, width = "  ", 22 // the option column; its text starts at 24
	var b strings.Builder
	b.WriteString(unoUsageHead + "\n")
	var envs []string
	for _, o := range opts {
		if o.gap {
			b.WriteString("\n")
		}
		name := "    "
		if o.short != 0 {
			name = "-" + string(o.short) + ", "
		}
		name += "--" + o.long
		if o.arg != "" {
			name += " " + o.arg
		}
		if len(name) < width {
			name += strings.Repeat(" ", width-len(name))
		} else {
			name += "  "
		}
		for i, line := range strings.Split(o.help, "\n") {
			if i > 0 {
				name = strings.Repeat(" ", width)
			}
			b.WriteString(indent + name + line + "\n")
		}
		if o.env != "" {
			envs = append(envs, o.env)
		}
	}
	b.WriteString("\nEach option has an environment variable, read before the command line:\n")
	b.WriteString(wrap(strings.Join(envs, ", ")+" (lists are comma-separated).", 76))
	b.WriteString(unoUsageFoot)
	return b.String()
}

// wrap breaks s at spaces into lines of at most width characters.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(word) > width:
			b.WriteString("\n")
			n = 0
		default:
			b.WriteString(" ")
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String() + "\n"
}

// getoptOptions gives parseOptions the options of the table opts.
func getoptOptions(opts []unoOption) []option {
	out := make([]option, len(opts))
	for i, o := range opts {
		out[i] = option{short: o.short, long: o.long, hasValue: o.arg != "", set: o.set}
	}
	return out
}

// applyEnv reads the environment variables of the table opts, in its order; an empty variable
// is as good as unset.
func applyEnv(opts []unoOption, env lookupFunc) error {
	for _, o := range opts {
		if o.env == "" {
			continue
		}
		v, ok := env(o.env)
		if !ok || v == "" {
			continue
		}
		set := o.envSet
		switch {
		case set != nil:
		case o.arg == "":
			set = boolEnv(o.set)
		default:
			set = o.set
		}
		if err := set(v); err != nil {
			return usagef("%s: %v", o.env, err)
		}
	}
	return nil
}

// pickOptions returns the rows of opts with the given long names.
func pickOptions(opts []unoOption, long ...string) []unoOption {
	var out []unoOption
	for _, o := range opts {
		if slices.Contains(long, o.long) {
			out = append(out, o)
		}
	}
	return out
}

var unoPersonality = personality{name: "uno", parse: parseUno, usage: unoUsageText, usageExit: 2}

// unoUsageText is built when printed, not at start-up (it took ~70 µs and 14 KB of package init).
func unoUsageText() string { return unoUsage(unoOptions(&invocation{}, new(int))) }

func parseUno(args []string, env lookupFunc) (*invocation, error) {
	inv := &invocation{socketGroup: -1}
	if len(args) > 0 && args[0] == "check" {
		return parseCheck(inv, args[1:], env)
	}
	cfg := &inv.cfg
	verbosity := 0
	cfg.Subreaper = true
	cfg.Grace = defaultGrace
	cfg.Rewrites = signals.Rewrites{}

	opts := unoOptions(inv, &verbosity)
	if err := applyEnv(opts, env); err != nil {
		return nil, err
	}
	rest, err := parseOptions(getoptOptions(opts), args)
	if err != nil {
		return nil, err
	}
	if inv.print != "" {
		return inv, nil
	}
	if inv.httpAddr != "" {
		if err := control.CheckHTTPAddr(inv.httpAddr, inv.httpPublic); err != nil {
			return nil, usagef("--http: %v", err)
		}
	}
	if inv.noSocket {
		inv.socket = ""
	} else if inv.socket == "" {
		inv.socket = control.DefaultSocket()
	}
	if n := countSet(inv.configFile, inv.procfile, inv.crontab); n > 1 {
		return nil, usagef("-c, -f and -C cannot be used together")
	}
	if len(rest) == 0 && inv.configFile == "" && inv.procfile == "" && inv.crontab == "" {
		if _, err := os.Stat(config.DefaultFile); err != nil {
			return nil, usagef("no program given, and no %s", config.DefaultFile)
		}
		inv.configFile = config.DefaultFile
	}
	if inv.procfile != "" && len(rest) > 0 {
		return nil, usagef("-f runs a Procfile's processes only; no program may follow it")
	}
	cfg.Argv = rest
	inv.level = ulog.LevelFor(verbosity)
	if inv.services() {
		// Running services, uno says what it does by default: starts, exits, restarts.
		inv.level = ulog.LevelFor(verbosity + 1)
	}
	return inv, nil
}

// parseCheck reads "uno check [-c FILE | -f Procfile | -C crontab]": the table's -c, -f, -C and -h.
func parseCheck(inv *invocation, args []string, env lookupFunc) (*invocation, error) {
	inv.check = true
	opts := pickOptions(unoOptions(inv, new(int)), "config", "procfile", "crontab", "help")
	if err := applyEnv(opts, env); err != nil {
		return nil, err
	}
	rest, err := parseOptions(getoptOptions(opts), args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("check takes no arguments, got %q", rest[0])
	}
	if countSet(inv.configFile, inv.procfile, inv.crontab) > 1 {
		return nil, usagef("-c, -f and -C cannot be used together")
	}
	if inv.configFile == "" && inv.procfile == "" && inv.crontab == "" {
		inv.configFile = config.DefaultFile
	}
	return inv, nil
}

// countSet counts the values that are not empty.
func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
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

// lookupGroup reads a group name or gid.
func lookupGroup(v string) (int, error) {
	if gid, err := strconv.Atoi(v); err == nil && gid >= 0 {
		return gid, nil
	}
	g, err := user.LookupGroup(v)
	if err != nil {
		return 0, fmt.Errorf("no such group %q", v)
	}
	return strconv.Atoi(g.Gid)
}
