// Package cli is uno's command line. It picks the personality from the name uno was invoked
// under (uno, tini or docker-init, dumb-init, catatonit or podman-init), reads that tool's flags
// and environment variables into one configuration, and runs it.
//
// Every mistake on the command line or in the environment is reported here, once, as one line
// "uno: ..." with a short usage, and exit status 2, before anything starts.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/privs"
	"github.com/uno-init/uno/internal/program"
	"github.com/uno-init/uno/internal/signals"
	"github.com/uno-init/uno/internal/stdio"
	"github.com/uno-init/uno/internal/ulog"
)

// version is set at build time (-ldflags "-X github.com/uno-init/uno/internal/cli.version=...");
// otherwise the module version recorded in the binary is used.
var version = ""

// Version is uno's version string.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "dev"
}

// invocation is what a command line asks for.
type invocation struct {
	cfg   program.Config
	level ulog.Level
	// print and printErr, when set, are written to stdout and stderr and uno exits 0 (--version,
	// --help: each tool has its own habit of where they go).
	print, printErr string
	// pause runs no program and waits for one of these signals to exit 0 (catatonit -P).
	pause []syscall.Signal

	// configFile or procfile, when set, run services (the program, if any, as the main one).
	configFile, procfile string
	// crontab, when set, runs a crontab's jobs (uno -C FILE), as supercronic does.
	crontab string
	// graceSet says --grace or UNO_GRACE was given, and overrides the configuration's grace.
	graceSet bool
	// drainSet says --drain or UNO_DRAIN was given, and overrides the configuration's drain.
	drainSet bool
	// check validates the configuration and prints the start order instead of running it.
	check bool
	// startDir is uno's directory at start, where services without working_dir run; uno itself
	// moves to / (see absolutePaths).
	startDir string

	// socket is the control socket's path ("" for none: --no-socket, or a peer's personality);
	// socketGroup a gid with read-only access, or -1. httpAddr serves probes over HTTP.
	socket      string
	noSocket    bool
	socketGroup int
	httpAddr    string
	httpPublic  bool
}

func (inv *invocation) services() bool {
	return inv.configFile != "" || inv.procfile != "" || inv.crontab != ""
}

// personality reads a command line and environment into an invocation.
type personality struct {
	name  string
	parse func(args []string, env lookupFunc) (*invocation, error)
	usage func() string
	// usageExit is the exit status for a usage error: uno's 2, or the peer's own.
	usageExit int
}

type lookupFunc func(key string) (string, bool)

func personalityFor(argv0 string) personality {
	switch filepath.Base(argv0) {
	case "tini", "docker-init", "tini-static":
		return tiniPersonality
	case "dumb-init":
		return dumbInitPersonality
	case "catatonit", "podman-init":
		return catatonitPersonality
	}
	return unoPersonality
}

// Main runs uno with the given arguments (args[0] included) and environment, and returns the
// exit status.
func Main(args []string, env lookupFunc, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"uno"}
	}
	if args[0] == privs.ShimName {
		// uno re-executed by itself to start a service with privilege settings.
		return privs.Shim(args[1:])
	}
	p := personalityFor(args[0])
	if p.name == "uno" && len(args) > 1 && args[1] == "ctl" {
		return ctl(args[2:], env, stdout, stderr)
	}
	early := signals.Begun() // started by internal/earlycatch's init, in the binary
	// A run that starts nothing gives the signals back first: Ctrl-C ends it as any command.
	giveBack := func() {
		if early != nil {
			early.Stop()
		}
	}
	inv, err := p.parse(args[1:], env)
	if err != nil {
		giveBack()
		fmt.Fprintf(stderr, "%s: %v\n", p.name, err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprint(stderr, p.usage())
		}
		return p.usageExit
	}
	if inv.print != "" || inv.printErr != "" {
		giveBack()
		fmt.Fprint(stdout, inv.print)
		fmt.Fprint(stderr, inv.printErr)
		return 0
	}
	if inv.check {
		giveBack()
		return check(inv, stdout, stderr)
	}
	// From here on uno runs something. Every catchable signal is caught first, before anything
	// that takes time: none sent from now on is lost or kills uno, and one that comes before the
	// program exists waits in sigs until it does (docs/compatibility.md, "Signals at start-up").
	var caught chan os.Signal
	if early != nil {
		early.Wait(!inv.cfg.ResetSignals)
		caught = early.C
	} else {
		caught = make(chan os.Signal, signalQueue)
		signals.CatchAll(caught, !inv.cfg.ResetSignals)
	}
	// uno's loops read through the relay, so that a loop busy with a burst never makes
	// os/signal drop a signal (a SIGTERM behind a flood of reloads was lost so).
	sigs := signals.Relay(caught)
	// uno moves to / once its programs run, so that it never holds a mount busy (as dumb-init);
	// whatever is relative is made absolute first.
	if err := inv.absolutePaths(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", p.name, err)
		return p.usageExit
	}
	// uno's own lines never raise a SIGPIPE it would pass on (see stdio), and never hold up
	// reaping, signals or the exit when nobody reads them (see ulog.Async).
	stdout, stderr = pipeSafe(stdout), pipeSafe(stderr)
	if inv.services() {
		return runServices(inv, sigs, stdout, stderr)
	}
	logOut := ulog.NewAsync(stderr, logQueue)
	defer logOut.Close(logDrain)
	inv.cfg.Log = ulog.New(logOut, p.name, inv.level)
	inv.cfg.Signals = sigs
	inv.cfg.Socket, inv.cfg.SocketGroup, inv.cfg.HTTPAddr = inv.socket, inv.socketGroup, inv.httpAddr
	if inv.pause != nil {
		return program.Pause(inv.cfg, inv.pause...)
	}
	inv.cfg.Version = Version()
	return program.Run(inv.cfg)
}

const (
	// signalQueue is how many signals may wait for uno's loop before os/signal drops one: a
	// burst before the program exists, or while uno is busy.
	signalQueue = 1024
	// logQueue is how many of uno's own lines may wait for a slow stderr before they are counted
	// and dropped.
	logQueue = 4096
	// logDrain bounds the wait for uno's last lines to reach a stderr nobody reads, at exit.
	logDrain = 500 * time.Millisecond
)

// absolutePaths makes the socket's path absolute, and records uno's directory at start, before
// uno leaves it for /. The configuration's path stays as given for the first load, whose errors
// name it so; reloads read it through startDir.
func (inv *invocation) absolutePaths() error {
	dir, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("cannot tell the current directory: %w", err)
	}
	inv.startDir = dir
	for _, p := range []*string{&inv.socket} {
		if *p == "" || filepath.IsAbs(*p) {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("%s: %w", *p, err)
		}
		*p = abs
	}
	return nil
}

// pipeSafe wraps uno's own stdout or stderr in a stdio.Writer.
func pipeSafe(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return stdio.New(f)
	}
	return w
}

// Environ looks variables up in uno's own environment.
func Environ(key string) (string, bool) { return os.LookupEnv(key) }
