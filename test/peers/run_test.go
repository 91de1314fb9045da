package peers

// One run of one scenario under one init binary, and what it observed.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mode is where the init runs: on pipes or on a terminal, as a plain child of the test or as
// PID 1 of a new PID namespace.
type mode int

const (
	pipeChild mode = iota // stdin /dev/null, stdout and stderr pipes; its own process group
	pipePID1              // the same, as PID 1 (a session leader, as a container runtime makes it)
	ttyChild              // a session leader whose controlling terminal is a pty (docker run -it)
	ttyPID1               // the same, as PID 1
)

func (m mode) pid1() bool { return m == pipePID1 || m == ttyPID1 }
func (m mode) tty() bool  { return m == ttyChild || m == ttyPID1 }
func (m mode) String() string {
	return [...]string{"pipe", "pipe,pid1", "tty", "tty,pid1"}[m]
}

// setup is the state the caller hands the init (see testprog launch).
type setup struct {
	block, ignore uint64 // signal sets, bit N-1 for signal N
	fds           int    // extra open fds from 10
	listenPid     bool   // LISTEN_PID set to the init's pid, as systemd's socket activation does
}

// kind is what the program is and how the test drives it.
type kind int

const (
	argvProg   kind = iota // argv run as given (or no program: flags only); wait for the exit
	reportProg             // the report script: what the program inherited; then ends as told
	familyProg             // testprog family: each signal sent to the init, recorded by recipient
)

// scenario is one row of the table: the same for uno and for the peer.
type scenario struct {
	name  string
	args  []string // the init's own arguments, before the program
	env   []string
	mode  mode
	setup setup
	kind  kind
	argv  []string         // argvProg: the program; $TESTPROG, $DIR and $NOEXEC are replaced
	end   string           // reportProg: "exit N" or "kill SIG"
	sigs  []syscall.Signal // familyProg: sent to the init one at a time
}

// obs is what one run observed, field by field.
type obs map[string]string

// world is what every run shares.
type world struct {
	testprog string
}

// run runs sc under the init at path, invoked as argv0.
func (w *world) run(t *testing.T, sc scenario, path, argv0 string) obs {
	t.Helper()
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\necho P\\|ran\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	largs := []string{"launch"}
	if sc.setup.block != 0 {
		largs = append(largs, "-block", strconv.FormatUint(sc.setup.block, 16))
	}
	if sc.setup.ignore != 0 {
		largs = append(largs, "-ignore", strconv.FormatUint(sc.setup.ignore, 16))
	}
	if sc.setup.fds != 0 {
		largs = append(largs, "-fds", strconv.Itoa(sc.setup.fds))
	}
	if sc.setup.listenPid {
		largs = append(largs, "-listen-pid")
	}
	if sc.mode.pid1() {
		largs = append(largs, "-proc")
	}
	largs = append(largs, "--", path, argv0)
	largs = append(largs, sc.args...)
	switch sc.kind {
	case reportProg:
		if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
			t.Fatal(err)
		}
		largs = append(largs, "--", "/bin/sh", "-c", reportScript, "report", dir)
	case familyProg:
		largs = append(largs, "--", w.testprog, "family", filepath.Join(dir, "log"))
	default:
		for _, a := range sc.argv {
			a = strings.ReplaceAll(a, "$TESTPROG", w.testprog)
			a = strings.ReplaceAll(a, "$NOEXEC", noexec)
			largs = append(largs, strings.ReplaceAll(a, "$DIR", dir))
		}
	}
	cmd := exec.Command(w.testprog, largs...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), sc.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if sc.mode.pid1() {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWPID | syscall.CLONE_NEWNS
	}
	out := startIO(t, cmd, sc.mode)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	out.started()
	r := &running{t: t, cmd: cmd, dir: dir, o: obs{}, exited: make(chan struct{}), pid1: sc.mode.pid1()}
	go func() { _ = cmd.Wait(); close(r.exited) }()
	defer r.cleanup()

	r.awaitExec(path)
	switch sc.kind {
	case reportProg:
		r.report(sc.end)
	case familyProg:
		r.family(sc.sigs)
	default:
		r.signalInit(sc.sigs)
	}
	r.wait()
	r.killLeft()
	out.collect(r.o, dir)
	return r.o
}

// running is an init the test drives.
type running struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	o      obs
	exited chan struct{}
	seen   []int // descendants seen, killed at the end if still there
	pid1   bool
}

func (r *running) pid() int { return r.cmd.Process.Pid }

func (r *running) done() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// wait waits for the init to exit and records how.
func (r *running) wait() {
	select {
	case <-r.exited:
	case <-time.After(deadline):
		r.o["exit"] = "still running"
		_ = r.cmd.Process.Kill()
		<-r.exited
		return
	}
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		r.o["exit"] = fmt.Sprintf("killed by %s", sigName(ws.Signal()))
	default:
		r.o["exit"] = strconv.Itoa(ws.ExitStatus())
	}
}

// killLeft records what the init left running (a plain child's leftovers outlive it; in a PID
// namespace the kernel kills them) and kills it.
func (r *running) killLeft() {
	var left []string
	for _, pid := range r.seen {
		if s := procState(pid); s != "" && s != "Z" {
			left = append(left, r.role(pid))
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if left != nil {
		r.o["left running"] = strings.Join(left, ",")
	}
}

// role names a descendant in the fields.
func (r *running) role(pid int) string {
	if len(r.seen) > 0 && pid == r.seen[0] {
		return "prog"
	}
	return "member"
}

func (r *running) cleanup() {
	for _, pid := range r.seen {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if !r.done() {
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// poll waits until cond holds or the init has exited; it reports whether cond held.
func (r *running) poll(cond func() bool) bool {
	end := time.Now().Add(deadline)
	for !cond() {
		if r.done() || time.Now().After(end) {
			return cond()
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// awaitExec waits until the launcher has become the init (or exited trying).
func (r *running) awaitExec(path string) {
	want, _ := filepath.EvalSymlinks(path)
	r.poll(func() bool {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", r.pid()))
		return exe == want
	})
}

// signalInit sends sigs to an init that runs no program of the test's (catatonit -P), each once
// the init is idle; "SIG" records whether the init was still there after it.
func (r *running) signalInit(sigs []syscall.Signal) {
	for _, sig := range sigs {
		settle(r.pid())
		if r.done() {
			r.o[sigName(sig)] = "init gone"
			continue
		}
		_ = syscall.Kill(r.pid(), sig)
	}
}

// report drives the report script: it waits for the report, records the init's own state once
// the init is idle, then tells the script how to end.
func (r *running) report(end string) {
	file := filepath.Join(r.dir, "report")
	if !r.poll(func() bool { _, err := os.Stat(file); return err == nil }) {
		r.o["report"] = "none"
		return
	}
	data, _ := os.ReadFile(file)
	parseReport(r.o, string(data), r.dir)
	settle(r.pid())
	r.initState()
	// The script blocks opening the fifo until this end opens it.
	f, err := os.OpenFile(filepath.Join(r.dir, "fifo"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	for err != nil && errors.Is(err, syscall.ENXIO) && !r.done() {
		time.Sleep(time.Millisecond)
		f, err = os.OpenFile(filepath.Join(r.dir, "fifo"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	}
	if err == nil {
		fmt.Fprintln(f, end)
		f.Close()
	}
}

// initState records the init's cwd, process group and session as the test sees them.
func (r *running) initState() {
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", r.pid()))
	if err != nil {
		return
	}
	r.o["init cwd"] = normPath(cwd, r.dir)
	f := statFields(r.pid())
	if len(f) > 3 {
		r.o["init pgrp"] = r.relInit(f[2])
		r.o["init sid"] = r.relInit(f[3])
	}
}

func (r *running) relInit(v string) string {
	switch {
	case v == strconv.Itoa(r.pid()):
		return "init"
	case v == strconv.Itoa(syscall.Getpgrp()):
		return "caller's group"
	}
	return "other"
}

// family drives testprog family: once the program and its group member are ready and the init
// idle, each signal goes to the init, and the field "SIG" records who got it. Then the program
// is killed; "after" records what the member got as the init went, and "left running" whether
// it outlived the init.
func (r *running) family(sigs []syscall.Signal) {
	log := filepath.Join(r.dir, "log")
	ready := func() bool {
		data, _ := os.ReadFile(log)
		return strings.Contains(string(data), "prog ready") && strings.Contains(string(data), "member ready")
	}
	if !r.poll(ready) {
		r.o["family"] = "not ready"
		return
	}
	prog := children(r.pid())
	if len(prog) != 1 {
		r.o["family"] = fmt.Sprintf("init has %d children", len(prog))
		return
	}
	member := children(prog[0])
	r.seen = append(prog, member...)
	all := append([]int{r.pid()}, r.seen...)
	settle(all...)
	read := 0
	news := func() string {
		data, _ := os.ReadFile(log)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		got := lines[read:]
		read = len(lines)
		return summarize(got)
	}
	news()
	for _, sig := range sigs {
		if r.done() {
			r.o[sigName(sig)] = "init gone"
			continue
		}
		_ = syscall.Kill(r.pid(), sig)
		settle(all...)
		v := news()
		if st := states(all); st != "" {
			v += " (" + st + ")"
		}
		r.o[sigName(sig)] = v
	}
	// The end: the program dies; a stopped init (dumb-init stops itself on TSTP) is woken.
	_ = syscall.Kill(prog[0], syscall.SIGKILL)
	for end := time.Now().Add(deadline); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if s := procState(prog[0]); s == "" || s == "Z" {
			break
		}
	}
	if procState(r.pid()) == "T" {
		_ = syscall.Kill(r.pid(), syscall.SIGCONT)
	}
	select {
	case <-r.exited:
	case <-time.After(deadline):
		return
	}
	for _, m := range member {
		if s := procState(m); s == "T" {
			_ = syscall.Kill(m, syscall.SIGCONT)
		}
	}
	// In a PID namespace the kernel SIGKILLs the member as the init goes, racing whatever
	// else it was sent; on its own the member gets what the init sends as it exits, in an
	// order that depends on which the init noticed first (the program's end or a SIGCONT).
	if r.pid1 {
		return
	}
	settle(member...)
	if v := news(); v != "none" {
		list := strings.Fields(v)
		sort.Strings(list)
		r.o["after"] = strings.Join(list, " ")
	}
}

// summarize turns log lines "ROLE got N" into "ROLE:SIG ...", the program's first, each in
// the order received ("none" for none): which of the two got a group's signal first is chance.
func summarize(lines []string) string {
	sort.SliceStable(lines, func(i, j int) bool {
		return strings.HasPrefix(lines[i], "prog ") && !strings.HasPrefix(lines[j], "prog ")
	})
	var out []string
	for _, l := range lines {
		role, n, ok := strings.Cut(l, " got ")
		if !ok {
			continue
		}
		num, _ := strconv.Atoi(n)
		out = append(out, role+":"+sigName(syscall.Signal(num)))
	}
	if out == nil {
		return "none"
	}
	return strings.Join(out, " ")
}

// states lists the processes that are stopped or gone, "" if all run.
func states(pids []int) string {
	var out []string
	for i, pid := range pids {
		name := [...]string{"init", "prog", "member"}[min(i, 2)]
		switch s := procState(pid); s {
		case "T", "t":
			out = append(out, name+" stopped")
		case "", "Z":
			out = append(out, name+" gone")
		}
	}
	return strings.Join(out, ", ")
}
