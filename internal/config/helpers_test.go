// Helpers for the tests of Load: configuration files written to a temporary directory, loaded,
// and their errors and services made easy to compare.

package config

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// testEnviron stands for uno's own environment; GOMAXPROCS and LANG are there to be overridden.
var testEnviron = []string{"PATH=/usr/bin:/bin", "HOME=/root", "GOMAXPROCS=8", "LANG=C.UTF-8"}

// writeFiles creates files (paths relative to a new directory, "/" separated; a path ending in
// "/" is a directory) and returns the directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadFiles writes files and loads their uno.toml.
func loadFiles(t *testing.T, files map[string]string) (dir string, cfg *Config, err error) {
	t.Helper()
	dir = writeFiles(t, files)
	cfg, err = Load(filepath.Join(dir, "uno.toml"), testEnviron)
	return dir, cfg, err
}

func mustLoad(t *testing.T, files map[string]string) *Config {
	t.Helper()
	_, cfg, err := loadFiles(t, files)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// mustLoadService loads a uno.toml holding one service and returns it.
func mustLoadService(t *testing.T, toml string, extra map[string]string) *Service {
	t.Helper()
	files := map[string]string{"uno.toml": toml}
	for k, v := range extra {
		files[k] = v
	}
	cfg := mustLoad(t, files)
	if len(cfg.Services) != 1 {
		t.Fatalf("want one service, got %d", len(cfg.Services))
	}
	return cfg.Services[0]
}

// errorLines splits a joined error into its lines, with the temporary directory taken out of
// the paths so that they read as they would for a configuration in the current directory.
func errorLines(dir string, err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), "\n")
}

// needRoot skips tests that set a user: uno refuses a user switch it cannot make.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: uno refuses to switch users otherwise")
	}
}

func lookupNobody(t *testing.T) *user.User {
	t.Helper()
	needRoot(t)
	u, err := user.Lookup("nobody")
	if err != nil || u.Uid != "65534" || u.Gid != "65534" {
		t.Skipf("no nobody with uid and gid 65534 in /etc/passwd: %v", err)
	}
	return u
}

func describeService(s *Service) string {
	if s == nil {
		return "<nil>"
	}
	c := *s
	out := fmt.Sprintf("%+v", c)
	if s.User != nil {
		out += fmt.Sprintf("\n    user %+v", *s.User)
	}
	if s.Ready != nil {
		out += fmt.Sprintf("\n    ready %+v", *s.Ready)
	}
	return out
}

func serviceNames(services []*Service) []string {
	var names []string
	for _, s := range services {
		names = append(names, s.Name)
	}
	return names
}
