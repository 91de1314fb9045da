package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// single is an init for one program.
type single struct {
	name string
	path string
	// args runs prog under the init.
	args func(prog ...string) []string
}

func singles(o options) []single {
	return []single{
		{"uno", o.uno, func(p ...string) []string { return append([]string{o.uno, "--"}, p...) }},
		// -s: registered as subreaper when not PID 1, as uno and catatonit do by themselves
		// (and without it tini warns on every start).
		{"tini", "/usr/bin/tini", func(p ...string) []string { return append([]string{"/usr/bin/tini", "-s", "--"}, p...) }},
		{"tini-static", "/usr/bin/tini-static", func(p ...string) []string {
			return append([]string{"/usr/bin/tini-static", "-s", "--"}, p...)
		}},
		{"dumb-init", "/usr/bin/dumb-init", func(p ...string) []string { return append([]string{"/usr/bin/dumb-init"}, p...) }},
		{"catatonit", "/usr/bin/catatonit", func(p ...string) []string { return append([]string{"/usr/bin/catatonit", "--"}, p...) }},
		// Not a peer: the smallest Go init that keeps uno's rules (bench/gofloor), so that each
		// figure shows what Go itself costs.
		{goFloor, o.gofloor, func(p ...string) []string { return append([]string{o.gofloor, "--"}, p...) }},
	}
}

// goFloor names bench/gofloor in the tables.
const goFloor = "go floor"

// supervisor is an init for several services, set up in a directory of its own.
type supervisor struct {
	name string
	// start starts it with the services (name -> shell-free argv), output to outDir.
	start func(dir string, services map[string][]string, outDir string) *exec.Cmd
	// processes are the supervisor's own processes, for memory and wake-ups.
	processes func(cmd *exec.Cmd) []int
}

func supervisors(o options) []supervisor {
	return []supervisor{
		{name: "uno", start: func(dir string, services map[string][]string, outDir string) *exec.Cmd {
			var conf strings.Builder
			for _, name := range sortedKeys(services) {
				fmt.Fprintf(&conf, "[services.%s]\ncommand = %s\nessential = false\n\n", name, tomlArray(services[name]))
			}
			path := filepath.Join(dir, "uno.toml")
			must(os.WriteFile(path, []byte(conf.String()), 0o644))
			cmd := exec.Command(o.uno, "--no-socket", "-c", path)
			cmd.Stdout = create(filepath.Join(outDir, "all.log"))
			return cmd
		}, processes: func(cmd *exec.Cmd) []int { return []int{cmd.Process.Pid} }},
		{name: "supervisord", start: func(dir string, services map[string][]string, outDir string) *exec.Cmd {
			var conf strings.Builder
			fmt.Fprintf(&conf, "[supervisord]\nnodaemon=true\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\nloglevel=warn\n\n", dir, dir)
			for _, name := range sortedKeys(services) {
				fmt.Fprintf(&conf, "[program:%s]\ncommand=%s\nautorestart=false\nstartsecs=0\nredirect_stderr=true\n"+
					"stdout_logfile=%s/%s.log\nstdout_logfile_maxbytes=0\nstdout_logfile_backups=0\nstopwaitsecs=10\n\n",
					name, shellJoin(services[name]), outDir, name) // shlex-quoted, as supervisord splits it
			}
			path := filepath.Join(dir, "supervisord.conf")
			must(os.WriteFile(path, []byte(conf.String()), 0o644))
			return exec.Command("/usr/bin/supervisord", "-c", path)
		}, processes: func(cmd *exec.Cmd) []int { return []int{cmd.Process.Pid} }},
		{name: "s6", start: func(dir string, services map[string][]string, outDir string) *exec.Cmd {
			scan := filepath.Join(dir, "scan")
			for _, name := range sortedKeys(services) {
				svc := filepath.Join(scan, name)
				must(os.MkdirAll(filepath.Join(svc, "log"), 0o755))
				// A service that ends is restarted by s6-supervise: the benchmark's programs
				// sleep once done instead.
				run := "#!/bin/sh\nexec " + shellJoin(services[name]) + "\n"
				if filepath.Base(services[name][0]) != "sleep" {
					run = "#!/bin/sh\n" + shellJoin(services[name]) + "\nexec sleep 1000000\n"
				}
				must(os.WriteFile(filepath.Join(svc, "run"), []byte(run), 0o755))
				logRun := fmt.Sprintf("#!/bin/sh\nexec s6-log n2 s99999999 %s\n", filepath.Join(outDir, name))
				must(os.WriteFile(filepath.Join(svc, "log", "run"), []byte(logRun), 0o755))
			}
			return exec.Command("/usr/bin/s6-svscan", scan)
		}, processes: func(cmd *exec.Cmd) []int {
			// s6-svscan and its s6-supervise children (of the services and of their loggers);
			// the s6-log processes are counted with the services, as uno's pipes are not.
			pids := []int{cmd.Process.Pid}
			for _, c := range children(cmd.Process.Pid) {
				if comm(c) == "s6-supervise" {
					pids = append(pids, c)
				}
			}
			return pids
		}},
	}
}

func tomlArray(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

func shellJoin(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

// children lists the children of pid (all its threads').
func children(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// descendants lists every process below pid.
func descendants(pid int) []int {
	var out []int
	for _, c := range children(pid) {
		out = append(out, c)
		out = append(out, descendants(c)...)
	}
	return out
}

func comm(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(data))
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(what string, timeout time.Duration, cond func() bool) {
	end := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(end) {
			fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stopAll ends a started command and everything below it.
func stopAll(cmd *exec.Cmd) {
	for _, p := range descendants(cmd.Process.Pid) {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func create(path string) *os.File {
	f, err := os.Create(path)
	must(err)
	return f
}

func must(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}
