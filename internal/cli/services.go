package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/logmux"
	"github.com/uno-init/uno/internal/supervisor"
	"github.com/uno-init/uno/internal/ulog"
)

// exitBadConfig is uno's status when the configuration is wrong: nothing has started.
const exitBadConfig = 2

// loadConfig reads the services inv asks for, with the program on the command line as the main
// service.
func loadConfig(inv *invocation) (*config.Config, error) {
	environ := os.Environ()
	var cfg *config.Config
	var err error
	switch {
	case inv.procfile != "":
		cfg, err = config.LoadProcfile(inv.procfile, environ)
	case inv.crontab != "":
		cfg, err = config.LoadCrontab(inv.crontab, environ)
	default:
		cfg, err = config.Load(inv.configFile, environ)
	}
	if err != nil {
		return nil, err
	}
	if inv.graceSet {
		cfg.SetGrace(inv.cfg.Grace)
	}
	if inv.drainSet {
		cfg.Drain = inv.cfg.Drain
	}
	if cfg.Drain > 0 && cfg.Drain >= cfg.Grace {
		return nil, fmt.Errorf("drain (%v) leaves nothing of the grace (%v) for the stop: the drain counts inside it", cfg.Drain, cfg.Grace)
	}
	if len(inv.cfg.Argv) > 0 {
		if err := cfg.AddMain(inv.cfg.Argv, environ); err != nil {
			return nil, err
		}
	}
	if err := supervisor.CheckNotifySockets(cfg, ""); err != nil {
		return nil, err
	}
	if inv.startDir != "" {
		// uno itself moves to / once services run; a service without working_dir still starts
		// where uno was started, as it would under a shell.
		for _, s := range cfg.Services {
			if s.Dir == "" {
				s.Dir = inv.startDir
			}
		}
	}
	return cfg, nil
}

// reportErrors writes each error of a joined set on a line of its own.
func reportErrors(w io.Writer, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			fmt.Fprintf(w, "uno: %v\n", e)
		}
		return
	}
	fmt.Fprintf(w, "uno: %v\n", err)
}

func runServices(inv *invocation, sigs chan os.Signal, stdout, stderr io.Writer) int {
	// Before the configuration reads uno's environment: the services must not inherit it.
	upstream, _ := supervisor.TakeUpstream()
	cfg, err := loadConfig(inv)
	if err != nil {
		reportErrors(stderr, err)
		return exitBadConfig
	}
	mux := logmux.New(stdout, stderr, logmux.Options{Color: isTerminal(stdout), Names: supervisor.Names(cfg)})
	// uno's own lines go through the services' stderr lock, so neither cuts into the other, and
	// through a queue, so that a stderr nobody reads never blocks uno: see ulog.Async.
	logOut := ulog.NewAsync(mux.Writer(logmux.Stderr), 4096)
	// The supervisor closes it within its exit budget (Options.CloseLog); this is for the paths
	// that return before that, and returns at once after it.
	defer logOut.Close(logDrain)
	// uno's own lines are in the services' default format, so that a log pipeline reading
	// uno's stderr meets one format.
	log := ulog.NewWith(logOut, "uno", inv.level, ulog.Options{JSON: cfg.LogFormat == config.FormatJSON, Timestamps: cfg.LogTimestamps})
	if cfg.LogFormat == config.FormatJSON {
		logOut.SetJSON()
	}
	mux.SetLog(log)
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	// Every path is absolute by now, and each service starts in its own directory: uno leaves
	// its own so that it never holds a mount busy, as dumb-init does.
	if err := os.Chdir("/"); err != nil {
		log.Debug("cannot change directory to /", "err", err)
	}
	// Reloads read the same files from /: their paths must not depend on where uno was.
	for _, p := range []*string{&inv.configFile, &inv.procfile, &inv.crontab} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(inv.startDir, *p)
		}
	}
	return supervisor.Run(supervisor.Options{
		Config:      cfg,
		Log:         log,
		Signals:     sigs,
		CloseLog:    logOut.Close,
		Mux:         mux,
		Socket:      inv.socket,
		SocketGroup: inv.socketGroup,
		HTTPAddr:    inv.httpAddr,
		Version:     Version(),
		Upstream:    upstream,
		Reload:      func() (*config.Config, error) { return loadConfig(inv) },
	})
}

// check validates the configuration and prints the order services start in.
func check(inv *invocation, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(inv)
	if err == nil {
		err = supervisor.CheckCommands(cfg)
	}
	if cfg != nil {
		for _, w := range cfg.Warnings {
			fmt.Fprintf(stderr, "uno: warning: %s\n", w)
		}
	}
	if err != nil {
		reportErrors(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d services, in start order:\n", cfg.File, len(cfg.Services))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for i, s := range cfg.StartOrder() {
		var notes []string
		if s.Type == config.Oneshot {
			notes = append(notes, "oneshot")
		}
		if s.Cron != nil {
			notes = append(notes, cronNotes(s.Cron, time.Now()))
		}
		if len(s.DependsOn) > 0 {
			var deps []string
			for _, d := range s.DependsOn {
				deps = append(deps, d.Name+" "+string(d.Condition))
			}
			notes = append(notes, "after "+strings.Join(deps, ", "))
		}
		if r := s.Ready; r != nil {
			target := r.Target
			if r.Kind == config.ReadyExec {
				target = strings.Join(r.Argv, " ")
			}
			notes = append(notes, strings.TrimSpace("ready: "+string(r.Kind)+" "+target))
		}
		if s.User != nil {
			notes = append(notes, fmt.Sprintf("user %s (%d:%d)", s.User.Name, s.User.Uid, s.User.Gid))
		}
		if s.Restart != config.RestartNo {
			notes = append(notes, "restart "+string(s.Restart))
		}
		if !s.Essential {
			notes = append(notes, "not essential")
		}
		fmt.Fprintf(tw, "  %d.\t%s\t%s\n", i+1, s.Name, strings.Join(notes, "; "))
	}
	tw.Flush()
	return 0
}

func isTerminal(w io.Writer) bool {
	if sw, ok := w.(interface{ File() *os.File }); ok {
		w = sw.File()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
