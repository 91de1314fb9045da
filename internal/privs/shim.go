package privs

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file is the shim's side: Shim runs in uno re-executed as ShimName, applies the settings
// and execs the service's program. It runs before anything else of uno's does.

// Exit statuses of a shim that could not exec, as a shell's (spawn reads the report instead).
const (
	codeNotFound      = 127
	codeNotExecutable = 126
	codeFailed        = 1
)

// Shim applies the settings on its command line (args after argv[0]) and execs the program; it
// returns only when that fails, with the exit status.
func Shim(args []string) int {
	c, err := decode(args)
	if err != nil {
		// Only a uno of another version could write what this one cannot read. uno takes the
		// silence of the report pipe for a start, and the service's stderr shows this.
		os.Stderr.WriteString("uno: privilege shim: " + err.Error() + "\n")
		return codeFailed
	}
	// Capabilities, no_new_privs, the nice value and the credentials below are the calling
	// thread's: the exec that follows must come from the same thread.
	runtime.LockOSThread()
	if c.report >= 0 {
		syscall.CloseOnExec(c.report)
	}
	step, err := c.apply()
	if err == nil {
		step = "exec " + c.argv[0]
		waitForHandlers() // handlers.go
		err = exec(c.path, c.argv)
	}
	errno, ok := err.(syscall.Errno)
	if !ok {
		errno = syscall.EINVAL
	}
	if c.report >= 0 {
		msg := step + "\x00" + strconv.Itoa(int(errno))
		_, _ = syscall.Write(c.report, []byte(msg))
	} else {
		os.Stderr.WriteString("uno: " + step + ": " + err.Error() + "\n")
	}
	if step == "exec "+c.argv[0] {
		if errno == syscall.ENOENT || errno == syscall.ENOTDIR {
			return codeNotFound
		}
		return codeNotExecutable
	}
	return codeFailed
}

// exec execs path, and a script without "#!" with /bin/sh as execvp would.
func exec(path string, argv []string) error {
	err := syscall.Exec(path, argv, os.Environ())
	if err == syscall.ENOEXEC {
		sh := append([]string{"sh", path}, argv[1:]...)
		err = syscall.Exec("/bin/sh", sh, os.Environ())
	}
	return err
}

// apply applies the settings in the order the kernel allows: what needs privilege (raising hard
// limits, lowering oom_score_adj or the nice value) while uno's privilege is still there; the
// bounding set while CAP_SETPCAP is; then the user, keeping the capabilities across it; then the
// exact sets; no_new_privs last, as nothing after it gains privilege. It returns the step that
// failed, as the message says it.
func (c *shimCall) apply() (string, error) {
	s := &c.s
	if s.UmaskSet {
		syscall.Umask(s.Umask)
	}
	if s.OOMSet {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(s.OOM)), 0); err != nil {
			return "oom_score_adj = " + strconv.Itoa(s.OOM) + privilegeHint(err, "lowering it needs CAP_SYS_RESOURCE"), unwrapErrno(err)
		}
	}
	if s.NiceSet {
		// who 0 is the calling thread, whose value the exec keeps.
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, s.Nice); err != nil {
			return "nice = " + strconv.Itoa(s.Nice) + privilegeHint(err, "lowering it needs CAP_SYS_NICE"), err
		}
	}
	// rlimits after the steps that open files (oom_score_adj, cap_last_cap): a small nofile must
	// bind the program, not the shim. Still before the user changes, so that a hard limit can be
	// raised.
	last := 0
	if s.CapsSet {
		last = lastCap()
	}
	for _, r := range s.Rlimits {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(r.Resource, &lim); err != nil {
			return "rlimits." + r.Name, err
		}
		lim.Cur = r.Soft
		if r.HardSet {
			lim.Max = r.Hard
		} else if lim.Cur > lim.Max && lim.Max != Unlimited {
			return "rlimits." + r.Name + ": soft limit " + limit(r.Soft) + " is above the hard limit " + limit(lim.Max) + " (give [soft, hard])", syscall.EINVAL
		}
		// syscall.Setrlimit, not unix's: for nofile it also stops syscall.Exec from putting back
		// the soft limit Go had at start.
		if err := syscall.Setrlimit(r.Resource, &lim); err != nil {
			return "rlimits." + r.Name + " = [" + limit(lim.Cur) + ", " + limit(lim.Max) + "]" + privilegeHint(err, "raising a hard limit needs CAP_SYS_RESOURCE"), err
		}
	}
	if s.CapsSet {
		for cp := 0; cp <= last; cp++ {
			if s.Caps&(1<<cp) != 0 {
				continue
			}
			if in, _ := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(cp), 0, 0, 0); in != 1 {
				continue // not there to drop: needs no CAP_SETPCAP
			}
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(cp), 0, 0, 0); err != nil {
				return "capabilities: drop " + CapName(cp) + " from the bounding set" + privilegeHint(err, "that needs CAP_SETPCAP"), err
			}
		}
	}
	if id := c.id; id != nil {
		if err := setgroups(id.Groups); err != nil {
			return "setgroups", err
		}
		if err := rawSyscall(unix.SYS_SETRESGID, uintptr(id.Gid)); err != nil {
			return "setgid " + strconv.Itoa(int(id.Gid)), err
		}
		if s.CapsSet {
			if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
				return "keep capabilities across setuid", err
			}
		}
		if err := rawSyscall(unix.SYS_SETRESUID, uintptr(id.Uid)); err != nil {
			return "setuid " + strconv.Itoa(int(id.Uid)), err
		}
	}
	if s.CapsSet {
		if err := setCaps(s.Caps); err != nil {
			return "capabilities: set " + CapList(s.Caps), err
		}
	}
	if s.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return "no_new_privileges", err
		}
	}
	set := unix.Sigset_t{}
	*(*uint64)(unsafe.Pointer(&set.Val[0])) = c.mask
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &set, nil); err != nil {
		return "signal mask", err
	}
	return "", nil
}

// setCaps makes set the thread's permitted, effective, inheritable and ambient sets.
func setCaps(set uint64) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	lo, hi := uint32(set), uint32(set>>32)
	data := [2]unix.CapUserData{
		{Effective: lo, Permitted: lo, Inheritable: lo},
		{Effective: hi, Permitted: hi, Inheritable: hi},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return err
	}
	for cp := 0; cp < 64; cp++ {
		if set&(1<<cp) != 0 {
			if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(cp), 0, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// setgroups and rawSyscall change this thread's credentials only (glibc's and Go's setuid change
// every thread's): the exec comes from this thread, and only its capabilities were kept.
func setgroups(groups []uint32) error {
	var p uintptr
	if len(groups) > 0 {
		p = uintptr(unsafe.Pointer(&groups[0]))
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), p, 0); e != 0 {
		return e
	}
	return nil
}

func rawSyscall(trap uintptr, id uintptr) error {
	if _, _, e := syscall.RawSyscall(trap, id, id, id); e != 0 {
		return e
	}
	return nil
}

// lastCap is the highest capability number this kernel knows.
func lastCap() int {
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n < 64 {
			return n
		}
	}
	return len(capNames) - 1
}

func limit(v uint64) string {
	if v == Unlimited {
		return "unlimited"
	}
	return utoa(v)
}

func privilegeHint(err error, hint string) string {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return " (" + hint + ")"
	}
	return ""
}

func unwrapErrno(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}
