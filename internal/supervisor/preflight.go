package supervisor

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/spawn"
)

// What uno can tell about a configuration before it runs it, beyond what package config checks
// alone: whether each command can be run (uno check only: a oneshot may yet create a program or
// a directory).

// CheckCommands reports each command, and each exec readiness check's, that its service could
// not run as things are now: looked up as the service will be, from its working_dir, on its
// $PATH, as its user.
func CheckCommands(cfg *config.Config) error {
	var errs []error
	for _, s := range cfg.Services {
		if err := checkCommand(s, "command", s.CommandLine, s.Command); err != nil {
			errs = append(errs, err)
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
