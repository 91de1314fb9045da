// Package spawn starts one program the way an init must: in the process group, session and
// terminal arrangement asked for, through the reaper so that its exit is never lost, and with
// failures to exec turned into the shell's exit codes (127 not found, 126 not executable).
//
// It does not wait for the program (the reaper does) nor decide what happens after.
package spawn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/privs"
	"github.com/uno-init/uno/internal/reaper"
)

// Exit codes for a program that could not be started, as POSIX shells use them.
const (
	CodeNotFound      = 127
	CodeNotExecutable = 126
)

// Spec says how to start a program.
type Spec struct {
	Argv []string
	Env  []string // nil: uno's own environment
	Dir  string

	// Pgroup puts the program in a process group of its own, so that its whole group can be
	// signalled without reaching uno.
	Pgroup bool
	// Foreground additionally makes that group the foreground group of the terminal on fd 0.
	Foreground bool
	// Setsid starts the program in a new session (dumb-init's mode); with Setctty the terminal on
	// fd 0 becomes its controlling terminal.
	Setsid  bool
	Setctty bool
	// OnGroupExit, with Pgroup or Setsid, is done to what the program leaves in its process
	// group when it exits (see reaper.StartGroupLeader).
	OnGroupExit reaper.GroupExit

	Credential *syscall.Credential
	// Privileges, if they change anything, start the program through the privilege shim
	// (shim.go), which applies them and Credential between its fork and the program's exec.
	Privileges *privs.Settings
	// EmptyMask starts the program with no signal blocked; otherwise it gets the caller's mask
	// (as far as Go keeps it: docs/compatibility.md).
	EmptyMask bool

	// Stdio are the program's fds 0, 1 and 2; nil passes uno's own.
	Stdio [3]*os.File
	// Inherited are fds of uno's, 3 and up, passed on under the same numbers even though uno
	// marked them close-on-exec (see KeepInherited).
	Inherited []int
}

// KeepInherited finds the descriptors uno was started with beyond 0, 1 and 2 (a socket-activated
// listener, or a leak of whoever started uno), marks them close-on-exec so that no child gets
// them by accident, and returns them so that the one program that should (the main program) can
// be given them under the same numbers.
func KeepInherited() []int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var fds []int
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue // uno's own (Go opens everything close-on-exec), or the directory read here
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}

// ExecError is a program that could not be started. Code is the exit status a shell would give.
type ExecError struct {
	Path string
	Err  error
	Code int
}

func (e *ExecError) Error() string { return fmt.Sprintf("exec %s: %v", e.Path, e.Err) }
func (e *ExecError) Unwrap() error { return e.Err }

// Start starts spec's program as a child registered with r.
func Start(r *reaper.Reaper, spec Spec) (pid int, exited <-chan reaper.Exit, err error) {
	if len(spec.Argv) == 0 {
		return 0, nil, errors.New("no program given")
	}
	env := spec.Env
	if env == nil {
		env = os.Environ()
	}
	path, err := Find(spec.Argv[0], env, spec.Dir, spec.Credential)
	if err != nil {
		return 0, nil, err
	}
	attr := &syscall.ProcAttr{
		Dir:   spec.Dir,
		Env:   env,
		Files: files(spec.Stdio, spec.Inherited),
		Sys: &syscall.SysProcAttr{
			Setpgid:    spec.Pgroup && !spec.Setsid,
			Foreground: spec.Foreground && !spec.Setsid,
			Setsid:     spec.Setsid,
			Setctty:    spec.Setsid && spec.Setctty,
			Ctty:       0, // fd 0 in uno (Foreground) and in the child (Setctty) alike
			Credential: spec.Credential,
		},
	}
	var onGroupExit reaper.GroupExit
	if spec.Pgroup || spec.Setsid {
		onGroupExit = spec.OnGroupExit
	}
	if spec.Privileges.Any() {
		return startShim(r, spec, path, attr, onGroupExit)
	}
	pid, exited, err = r.StartGroupLeader(onGroupExit, func() (int, error) {
		return forkExec(path, spec.Argv, attr, spec.EmptyMask)
	})
	if errors.Is(err, syscall.ENOEXEC) {
		// A script without "#!": execvp, and so every shell and peer init, runs it with /bin/sh.
		argv := append([]string{"sh", path}, spec.Argv[1:]...)
		pid, exited, err = r.StartGroupLeader(onGroupExit, func() (int, error) {
			return forkExec("/bin/sh", argv, attr, spec.EmptyMask)
		})
	}
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.ENOMEM) {
		// No process could be made (pids.max, memory): not the program's fault, and not the
		// shell's 126 "not executable" either.
		return 0, nil, fmt.Errorf("cannot start %s: no process could be created: %w", spec.Argv[0], err)
	}
	if err != nil {
		return 0, nil, execError(spec.Argv[0], err)
	}
	return pid, exited, nil
}

// forkExec is syscall.ForkExec, with an empty signal mask in the child if asked.
func forkExec(path string, argv []string, attr *syscall.ProcAttr, emptyMask bool) (int, error) {
	if emptyMask {
		var empty unix.Sigset_t
		return forkExecMasked(path, argv, attr, &empty)
	}
	return syscall.ForkExec(path, argv, attr)
}

// forkExecMasked is syscall.ForkExec with the child's signal mask set to mask. The child gets the
// mask of the thread that forks it (the runtime saves it before fork and restores it in the
// child): so that thread's mask is set for the fork, on a thread of its own while it is.
func forkExecMasked(path string, argv []string, attr *syscall.ProcAttr, mask *unix.Sigset_t) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, mask, &old); err != nil {
		return 0, os.NewSyscallError("rt_sigprocmask", err)
	}
	defer func() { _ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil) }()
	return syscall.ForkExec(path, argv, attr)
}

func files(stdio [3]*os.File, inherited []int) []uintptr {
	fds := []uintptr{0, 1, 2}
	for i, f := range stdio {
		if f != nil {
			fds[i] = f.Fd()
		}
	}
	for _, fd := range inherited {
		for len(fds) <= fd {
			fds = append(fds, ^uintptr(0)) // a gap: closed in the child
		}
		fds[fd] = uintptr(fd)
	}
	return fds
}

// ForegroundTerminal reports whether fd 0 is the caller's controlling terminal, which is when a
// program can be given its foreground (Spec.Foreground).
func ForegroundTerminal() bool {
	_, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return err == nil
}

// Find finds the file execvp would run for argv0 in a program started with env, in dir, as cred:
// the service's $PATH (execvp's default when it has none), and a relative path or $PATH entry
// taken from dir, where the program is once it has changed to it. dir "" is uno's directory;
// cred nil is uno's identity.
func Find(argv0 string, env []string, dir string, cred *syscall.Credential) (string, error) {
	return lookPath(argv0, SearchPath(env), dir, cred)
}

// SearchPath is the $PATH of env, or execvp's default when env has none.
func SearchPath(env []string) string {
	if search, ok := lookupEnv(env, "PATH"); ok {
		return search
	}
	return defaultPath
}

// LookPath finds the file execvp would run for name, searching path (a $PATH value) when name
// has no slash. It reports failures as *ExecError, with execvp's precedence: a file that exists
// but cannot be executed is reported as such only if no later directory has an executable one.
func LookPath(name, path string) (string, error) { return lookPath(name, path, "", nil) }

func lookPath(name, path, dir string, cred *syscall.Credential) (string, error) {
	if strings.Contains(name, "/") {
		file := inDir(dir, name)
		if err := checkExecutable(file, cred); err != nil {
			return "", execError(name, err)
		}
		return file, nil
	}
	if name == "" {
		return "", &ExecError{Path: name, Err: fs.ErrNotExist, Code: CodeNotFound}
	}
	var denied error
	for _, entry := range filepath.SplitList(path) {
		if entry == "" {
			entry = "." // an empty $PATH entry is the current directory
		}
		candidate := inDir(dir, filepath.Join(entry, name))
		err := checkExecutable(candidate, cred)
		if err == nil {
			return candidate, nil
		}
		if denied == nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			denied = err
		}
	}
	if denied != nil {
		return "", execError(name, denied)
	}
	return "", &ExecError{Path: name, Err: syscall.ENOENT, Code: CodeNotFound}
}

// inDir is path as seen from dir.
func inDir(dir, path string) string {
	if dir == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// checkExecutable checks that cred may execute path. For another user than uno's it goes by the
// mode bits, as the kernel would for that user (ACLs and the directories on the way aside).
func checkExecutable(path string, cred *syscall.Credential) error {
	st, err := os.Stat(path)
	if err != nil {
		return unwrapPathError(err)
	}
	if st.IsDir() {
		return syscall.EISDIR
	}
	if cred == nil || int(cred.Uid) == os.Geteuid() {
		return unix.Access(path, unix.X_OK)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	var bits fs.FileMode
	switch {
	case cred.Uid == 0:
		bits = 0o111 // root may execute a file anyone may
	case cred.Uid == sys.Uid:
		bits = 0o100
	case cred.Gid == sys.Gid || slices.Contains(cred.Groups, sys.Gid):
		bits = 0o010
	default:
		bits = 0o001
	}
	if st.Mode().Perm()&bits == 0 {
		return syscall.EACCES
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func execError(path string, err error) error {
	err = unwrapPathError(err)
	code := CodeNotExecutable
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
		code = CodeNotFound
	}
	return &ExecError{Path: path, Err: err, Code: code}
}

// defaultPath is what execvp searches when PATH is not set at all.
const defaultPath = "/bin:/usr/bin"

func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}
