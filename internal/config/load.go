// Where services come from: the configuration file and its services.d directory (Load), a
// Procfile (LoadProcfile) and the command line (AddMain); and the loader that decodes them,
// collecting every error.

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/uno-init/uno/internal/privs"
)

// DefaultFile is the configuration uno reads when it is started with neither a program nor -c.
const DefaultFile = "/etc/uno/uno.toml"

// ServicesDir is the directory beside the configuration file whose *.toml files each add one
// service, named by the file, so that each image layer can add a service.
const ServicesDir = "services.d"

// isServiceName reports whether s is a valid service name: [A-Za-z0-9][A-Za-z0-9_.-]*.
func isServiceName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || i > 0 && (c == '_' || c == '.' || c == '-') {
			continue
		}
		return false
	}
	return s != ""
}

// Load reads the configuration file at path and the services.d directory beside it. environ is
// the environment the services inherit (uno's own). All errors found are returned, joined.
func Load(path string, environ []string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w", unwrapPath(err, path))
	}
	name := path
	root, err := parseTree(name, data)
	if err != nil {
		return nil, err
	}
	l := &loader{environ: environ, dir: filepath.Dir(path)}
	cfg := &Config{File: path, Grace: DefaultGrace, LogFormat: FormatPrefix}

	l.known(name, "", root, "uno", "services", "crontab", "crontab_user_field")
	if n := root.get("uno"); n != nil {
		if t := l.table(name, "uno", n); t != nil {
			l.known(name, "uno.", t, slices.Concat([]string{"grace", "drain"}, unoOutputKeys, []string{"no_new_privileges"})...)
			if v := t.get("grace"); v != nil {
				cfg.Grace = l.duration(name, "uno.grace", v, cfg.Grace)
			}
			if v := t.get("drain"); v != nil {
				cfg.Drain = l.duration(name, "uno.drain", v, 0)
				if cfg.Drain >= cfg.Grace {
					l.errorf(name, v.line, "uno.drain", "%v leaves nothing of the grace (%v) for the stop: the drain counts inside it", cfg.Drain, cfg.Grace)
				}
			}
			l.unoOutput(cfg, name, t)
			if v := t.get("no_new_privileges"); v != nil {
				cfg.NoNewPrivileges = l.boolean(name, "uno.no_new_privileges", v, false)
			}
		}
	}
	if n := root.get("services"); n != nil {
		if t := l.table(name, "services", n); t != nil {
			for _, svcName := range t.keys {
				v := t.get(svcName)
				key := "services." + keyName(svcName)
				st := l.table(name, key, v)
				if st == nil {
					continue
				}
				if !isServiceName(svcName) {
					l.errorf(name, v.line, key, "invalid service name: use letters, digits, '_', '.' and '-'")
					continue
				}
				if svcName == MainName {
					l.errorf(name, v.line, key, "the name %s is reserved for the program given on the command line", MainName)
					continue
				}
				cfg.Services = append(cfg.Services, l.service(cfg, name, svcName, v.line, st))
			}
		}
	}
	l.servicesDir(cfg, name)
	if n := root.get("crontab"); n != nil {
		if path, ok := l.str(name, "crontab", n); ok {
			if !filepath.IsAbs(path) {
				path = filepath.Join(l.dir, path)
			}
			l.crontab(cfg, name, "crontab", n.line, path, root.get("crontab_user_field"))
		}
	} else if n := root.get("crontab_user_field"); n != nil {
		l.errorf(name, n.line, "crontab_user_field", "needs crontab")
	}
	if len(l.errs) == 0 && len(cfg.Services) == 0 {
		l.errorf(name, 0, "", "no services defined")
	}
	if len(l.errs) == 0 {
		l.validate(cfg)
		l.checkLogFiles(cfg)
	}
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	cfg.Warnings = l.warnings
	return cfg, nil
}

// servicesDir adds one service for each services.d/NAME.toml, in name order.
func (l *loader) servicesDir(cfg *Config, mainFile string) {
	dir := filepath.Join(l.dir, ServicesDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("cannot read %s: %w", dir, unwrapPath(err, dir)))
		return
	}
	for _, e := range entries {
		svcName, ok := strings.CutSuffix(e.Name(), ".toml")
		if !ok || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		key := "services." + keyName(svcName)
		if !isServiceName(svcName) {
			l.errorf(file, 0, key, "invalid service name: use letters, digits, '_', '.' and '-'")
			continue
		}
		if prev := cfg.Service(svcName); prev != nil {
			l.errorf(file, 0, key, "already defined in %s:%d", prev.File, prev.Line)
			continue
		}
		data, err := readFile(file)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("cannot read %s: %w", file, unwrapPath(err, file)))
			continue
		}
		t, err := parseTree(file, data)
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		cfg.Services = append(cfg.Services, l.service(cfg, file, svcName, 1, t))
	}
}

// loader decodes the tree, collecting every error rather than stopping at the first, so that
// one run of `uno check` shows them all.
type loader struct {
	environ  []string
	dir      string
	errs     []error
	warnings []string
}

// errorf is kept out of line: inlined, its append and Sprintf were copied into each of the
// hundred places that report an error, 14 KB of the binary.
//
//go:noinline
func (l *loader) errorf(file string, line int, key, format string, args ...any) {
	l.errs = append(l.errs, &PosError{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// unwrapPath keeps the cause of a file error and the path as the user wrote it.
func unwrapPath(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return err
}

// LoadProcfile reads a Procfile ("name: command" per line) into services with foreman's
// semantics: each command runs under /bin/sh -c, no service restarts, and any exit stops all.
// A .env file beside the Procfile, as foreman reads it, is added to every service's environment.
func LoadProcfile(path string, environ []string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read Procfile: %w", unwrapPath(err, path))
	}
	entries, err := ParseProcfile(filepath.Base(path), data)
	if err != nil {
		return nil, err
	}
	l := &loader{environ: environ, dir: filepath.Dir(path)}
	env := newEnv(environ)
	dotenv := filepath.Join(l.dir, ".env")
	if _, err := os.Stat(dotenv); err == nil {
		l.envFile(filepath.Base(path), "", 0, dotenv, env)
	}
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	cfg := &Config{File: path, Grace: DefaultGrace, LogFormat: FormatPrefix}
	for _, e := range entries {
		cfg.Services = append(cfg.Services, &Service{
			Name: e.Name, File: filepath.Base(path), Line: e.Line,
			Type: Simple, Command: []string{"/bin/sh", "-c", e.Command}, Env: env.list(),
			Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: cfg.Grace, KillMode: KillGroup,
			Essential: true, LogPrefix: true, Output: cfg.DefaultOutput(),
		})
	}
	return cfg, nil
}

// AddMain adds the program given on uno's command line as the main service: it starts once
// every other essential service has reached its default condition, and its exit ends the
// container.
func (c *Config) AddMain(argv []string, environ []string) error {
	if s := c.Service(MainName); s != nil {
		return &PosError{File: s.File, Line: s.Line, Key: "services." + MainName,
			Msg: "the name " + MainName + " is reserved for the program given on the command line"}
	}
	main := &Service{
		Name: MainName, Main: true, File: "command line",
		Type: Simple, Command: argv, Env: environ,
		Restart: RestartNo, StopSignal: syscall.SIGTERM, StopTimeout: c.Grace, KillMode: KillGroup,
		Essential: true,
	}
	if c.NoNewPrivileges {
		main.Privileges = &privs.Settings{NoNewPrivs: true}
	}
	for _, s := range c.Services {
		// A non-essential service may fail without stopping the container, so it must not
		// keep the main program from starting either.
		if s.Essential && s.Type != Cron {
			main.DependsOn = append(main.DependsOn, Dependency{Name: s.Name, Condition: DefaultCondition(s)})
		}
	}
	c.Services = append(c.Services, main)
	return nil
}
