package supervisor

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/spawn"
)

// What uno can tell about a configuration before it runs it, beyond what package config checks
// alone: where the notify sockets will be (every load), and whether each command can be run
// (uno check only: a oneshot may yet create a program or a directory).

// maxSocketPath is the longest path a unix socket address holds: sun_path's 108 bytes, less the
// NUL that C clients (sd_notify among them) copy with it.
const maxSocketPath = 107

// notifyDirWorst is the name of the notify sockets' directory at its longest: makeNotifyDir
// has os.MkdirTemp add up to ten digits to "uno-notify-".
const notifyDirWorst = "uno-notify-XXXXXXXXXX"

// CheckNotifySockets reports each service whose notify socket's path would not fit a socket
// address, which would make every start of it fail. runtimeDir is Options.RuntimeDir.
func CheckNotifySockets(cfg *config.Config, runtimeDir string) error {
	base := runtimeDir
	if base == "" {
		base = filepath.Dir(control.RuntimeDir())
	}
	var errs []error
	for _, s := range cfg.Services {
		if !s.UsesNotify() {
			continue
		}
		line, key := 0, "health.watchdog"
		if s.Health != nil && s.Health.Kind == config.HealthWatchdog {
			line = s.Health.Line
		}
		if s.Ready != nil && s.Ready.Kind == config.ReadyNotify {
			line, key = s.Ready.Line, "ready.notify"
		}
		path := filepath.Join(base, notifyDirWorst, s.Name+".sock")
		if len(path) > maxSocketPath {
			errs = append(errs, &config.PosError{File: s.File, Line: line, Key: s.Key(key),
				Msg: fmt.Sprintf("the notify socket's path %s is up to %d bytes: a socket address holds %d; shorten the service's name",
					path, len(path), maxSocketPath)})
		}
	}
	return errors.Join(errs...)
}

// CheckCommands reports each command, and each exec readiness check's, that its service could
// not run as things are now: looked up as the service will be, from its working_dir, on its
// $PATH, as its user; and a secret file its start could not read (the value is dropped).
func CheckCommands(cfg *config.Config) error {
	var errs []error
	for _, s := range cfg.Services {
		if _, err := readSecrets(s.Secrets); err != nil {
			errs = append(errs, &config.PosError{File: s.File, Line: s.Line, Key: s.Key("secrets"), Msg: err.Error()})
		}
		if err := checkCommand(s, "command", s.CommandLine, s.Command); err != nil {
			errs = append(errs, err)
		}
		if h := s.Health; h != nil && h.Kind == config.ReadyExec {
			if err := checkCommand(s, "health.exec", h.Line, h.Argv); err != nil {
				errs = append(errs, err)
			}
		}
		if r := s.Ready; r != nil && r.Kind == config.ReadyExec {
			if err := checkCommand(s, "ready.exec", r.Line, r.Argv); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func checkCommand(s *config.Service, key string, line int, argv []string) error {
	var cred *syscall.Credential
	if s.User != nil {
		cred = s.User.Credential()
	}
	_, err := spawn.Find(argv[0], s.Env, s.Dir, cred)
	var ee *spawn.ExecError
	if !errors.As(err, &ee) {
		return nil
	}
	what, why := argv[0], ee.Err.Error()
	switch {
	case !strings.Contains(what, "/"):
		if errors.Is(ee.Err, syscall.ENOENT) {
			why = "not found in PATH " + spawn.SearchPath(s.Env)
		}
	case !filepath.IsAbs(what) && s.Dir != "":
		what += " in " + s.Dir
	}
	if s.User != nil && errors.Is(ee.Err, syscall.EACCES) {
		// Permissions depend on who tries: say who.
		what += " as user " + s.User.Name
	}
	return &config.PosError{File: s.File, Line: line, Key: s.Key(key), Msg: "cannot run " + what + ": " + why}
}
