// A service's environment: the ordered set of NAME=value it is given, env files read into it,
// and ${VAR} expansion against it with warnings for variables that are not set.

package config

import (
	"path/filepath"
	"strings"
)

// environment is an ordered set of NAME=value, later settings replacing earlier ones.
type environment struct {
	names  []string
	values map[string]string
}

// isEnvName reports whether s is a shell variable name: [A-Za-z_][A-Za-z0-9_]*. Written out
// rather than a regexp, which would cost the binary ~100 KB and start-up its compilation.
func isEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return s != ""
}

func newEnv(environ []string) *environment {
	e := &environment{values: map[string]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e.set(k, v)
		}
	}
	return e
}

func (e *environment) set(k, v string) {
	if _, ok := e.values[k]; !ok {
		e.names = append(e.names, k)
	}
	e.values[k] = v
}

//go:noinline
func (e *environment) unset(k string) {
	if _, ok := e.values[k]; !ok {
		return
	}
	delete(e.values, k)
	for i, n := range e.names {
		if n == k {
			e.names = append(e.names[:i], e.names[i+1:]...)
			break
		}
	}
}

func (e *environment) lookup(k string) (string, bool) {
	v, ok := e.values[k]
	return v, ok
}

func (e *environment) list() []string {
	out := make([]string, 0, len(e.names))
	for _, k := range e.names {
		out = append(out, k+"="+e.values[k])
	}
	return out
}

func (l *loader) expand(file, key string, line int, s string, env *environment) string {
	out, err := expandReporting(s, env.lookup, func(name string) {
		l.warnings = append(l.warnings, (&PosError{File: file, Line: line, Key: key,
			Msg: "$" + name + " is not set and expands to nothing (write $$" + name + " for a literal $" + name + ", or ${" + name + ":-default})"}).Error())
	})
	if err != nil {
		l.errorf(file, line, key, "%v", err)
		return s
	}
	return out
}

// envFile applies the env file at path, already expanded: the Procfile's .env path is a real
// path, in which a $ is no reference.
func (l *loader) envFile(file, key string, line int, path string, env *environment) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(l.dir, path)
	}
	data, err := readFile(path)
	if err != nil {
		l.errorf(file, line, key, "%v", unwrapPath(err, path))
		return
	}
	vars, err := ParseDotenv(path, data)
	if err != nil {
		l.errs = append(l.errs, err)
		return
	}
	for _, v := range vars {
		value, err := Expand(v.Value, env.lookup)
		if err != nil {
			l.errs = append(l.errs, &PosError{File: path, Line: v.Line, Key: v.Name, Msg: err.Error()})
			continue
		}
		env.set(v.Name, value)
	}
}
