package cli

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/ulog"
)

const defaultGrace = 5 * time.Second

const unoUsage = `usage: uno [options] [--] program [args...]
       uno [options] -c FILE [-- program [args...]]
       uno [options] -f Procfile
       uno check [-c FILE | -f Procfile]
       uno ctl COMMAND ...   (uno ctl --help)

  -c, --config FILE     run the services FILE describes (TOML; see docs/services.md),
                        and program, if given, as the main service
  -f, --procfile FILE   run a Procfile's processes; any exit stops all

  -g, --pgroup          forward signals to the program's whole process group
  -e, --exit-zero CODE  report exit status CODE as 0 (repeatable)
  -r, --rewrite FROM:TO rewrite a forwarded signal; TO 0 drops it (repeatable)
  -p, --pdeathsig SIG   signal uno receives when its parent exits
      --grace DURATION  time leftover processes get between SIGTERM and SIGKILL
                        once the program has exited (default 5s; 0: no sweep)
      --socket PATH     control socket for uno ctl (default /run/uno/uno.sock)
      --socket-group GRP  let group GRP read status and probes through the socket
      --no-socket       no control socket
      --http ADDR       serve /readyz, /healthz and /status on ADDR (loopback only
                        unless --http-public)
  -w, --warn-orphans    log every reaped orphan
  -v, --verbose         log more (repeatable)
      --version         print the version
  -h, --help            print this help

Each option has an environment variable, read before the command line:
UNO_PGROUP, UNO_EXIT_ZERO, UNO_REWRITE, UNO_PDEATHSIG, UNO_GRACE,
UNO_WARN_ORPHANS, UNO_VERBOSITY, UNO_CONFIG, UNO_SOCKET, UNO_SOCKET_GROUP,
UNO_NO_SOCKET, UNO_HTTP, UNO_HTTP_PUBLIC (lists are comma-separated).
With no program and no -c, uno runs ` + config.DefaultFile + ` if it exists.
`

var unoPersonality = personality{name: "uno", parse: parseUno, usage: unoUsage, usageExit: 2}

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
	setConfig := func(v string) error { inv.configFile = v; return nil }
	setProcfile := func(v string) error { inv.procfile = v; return nil }
	setWarn := func(string) error { cfg.LogOrphans = true; return nil }
	setSocket := func(v string) error { inv.socket = v; return nil }
	setNoSocket := func(string) error { inv.noSocket = true; return nil }
	setSocketGroup := func(v string) (err error) {
		inv.socketGroup, err = lookupGroup(v)
		return err
	}
	setHTTP := func(v string) error { inv.httpAddr = v; return nil }
	setHTTPPublic := func(string) error { inv.httpPublic = true; return nil }

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
		{"UNO_CONFIG", setConfig},
		{"UNO_SOCKET", setSocket},
		{"UNO_SOCKET_GROUP", setSocketGroup},
		{"UNO_NO_SOCKET", boolEnv(setNoSocket)},
		{"UNO_HTTP", setHTTP},
		{"UNO_HTTP_PUBLIC", boolEnv(setHTTPPublic)},
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
		{short: 'c', long: "config", hasValue: true, set: setConfig},
		{short: 'f', long: "procfile", hasValue: true, set: setProcfile},
		{long: "socket", hasValue: true, set: setSocket},
		{long: "socket-group", hasValue: true, set: setSocketGroup},
		{long: "no-socket", set: setNoSocket},
		{long: "http", hasValue: true, set: setHTTP},
		{long: "http-public", set: setHTTPPublic},
		{short: 'g', long: "pgroup", set: setPgroup},
		{short: 'e', long: "exit-zero", hasValue: true, set: addExitZero},
		{short: 'r', long: "rewrite", hasValue: true, set: addRewrite},
		{short: 'p', long: "pdeathsig", hasValue: true, set: setPdeathsig},
		{long: "grace", hasValue: true, set: setGrace},
		{short: 'w', long: "warn-orphans", set: setWarn},
		{short: 'v', long: "verbose", set: func(string) error { verbosity++; return nil }},
		{long: "version", set: func(string) error { inv.print = "uno " + Version() + dockerCommit(); return nil }},
		{short: 'h', long: "help", set: func(string) error { inv.print = unoUsage; return nil }},
	}
	rest, err := parseOptions(opts, args)
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
	if inv.configFile != "" && inv.procfile != "" {
		return nil, usagef("-c and -f cannot be used together")
	}
	if len(rest) == 0 && inv.configFile == "" && inv.procfile == "" {
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

// parseCheck reads "uno check [-c FILE | -f Procfile]".
func parseCheck(inv *invocation, args []string, env lookupFunc) (*invocation, error) {
	inv.check = true
	if v, ok := env("UNO_CONFIG"); ok && v != "" {
		inv.configFile = v
	}
	opts := []option{
		{short: 'c', long: "config", hasValue: true, set: func(v string) error { inv.configFile = v; return nil }},
		{short: 'f', long: "procfile", hasValue: true, set: func(v string) error { inv.procfile = v; return nil }},
		{short: 'h', long: "help", set: func(string) error { inv.print = unoUsage; return nil }},
	}
	rest, err := parseOptions(opts, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("check takes no arguments, got %q", rest[0])
	}
	if inv.configFile == "" && inv.procfile == "" {
		inv.configFile = config.DefaultFile
	}
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
