package privs

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// This file names capabilities and resources, and reads the values of limits as a configuration
// writes them: counts, sizes ("64MiB") and times ("1h").

// capNames are the capabilities by number, as capabilities(7) names them.
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// ParseCap reads a capability name: CAP_NET_BIND_SERVICE, in any case, with or without CAP_
// (as docker --cap-add takes it).
func ParseCap(name string) (int, error) {
	up := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(up, "CAP_") {
		up = "CAP_" + up
	}
	for i, n := range capNames {
		if n == up {
			return i, nil
		}
	}
	return 0, errors.New("unknown capability " + strconv.Quote(name) + " (see capabilities(7): CAP_NET_BIND_SERVICE, CAP_CHOWN...)")
}

// CapName is the name of capability number c.
func CapName(c int) string {
	if c >= 0 && c < len(capNames) {
		return capNames[c]
	}
	return "CAP_" + strconv.Itoa(c)
}

// CapList names the capabilities of set, comma-separated ("none" for none).
func CapList(set uint64) string {
	var names []string
	for c := 0; c < 64; c++ {
		if set&(1<<c) != 0 {
			names = append(names, CapName(c))
		}
	}
	if names == nil {
		return "none"
	}
	return strings.Join(names, ", ")
}

// valueKind is how a resource's limit is written.
type valueKind int

const (
	count   valueKind = iota
	size              // bytes: 65536, "64MiB"
	seconds           // cpu: 3600, "1h"
	micros            // rttime: microseconds, or "200ms"
)

type resourceName struct {
	name     string
	resource int
	kind     valueKind
}

// resources are the limits of setrlimit(2), by the names prlimit(1) and systemd's Limit* use.
var resources = []resourceName{
	{"as", unix.RLIMIT_AS, size}, {"core", unix.RLIMIT_CORE, size}, {"cpu", unix.RLIMIT_CPU, seconds},
	{"data", unix.RLIMIT_DATA, size}, {"fsize", unix.RLIMIT_FSIZE, size}, {"locks", unix.RLIMIT_LOCKS, count},
	{"memlock", unix.RLIMIT_MEMLOCK, size}, {"msgqueue", unix.RLIMIT_MSGQUEUE, size},
	{"nice", unix.RLIMIT_NICE, count}, {"nofile", unix.RLIMIT_NOFILE, count},
	{"nproc", unix.RLIMIT_NPROC, count}, {"rss", unix.RLIMIT_RSS, size}, {"rtprio", unix.RLIMIT_RTPRIO, count},
	{"rttime", unix.RLIMIT_RTTIME, micros}, {"sigpending", unix.RLIMIT_SIGPENDING, count},
	{"stack", unix.RLIMIT_STACK, size},
}

func rlimitByName(name string) (resourceName, bool) {
	for _, r := range resources {
		if r.name == name {
			return r, true
		}
	}
	return resourceName{}, false
}

// ResourceNumber is the RLIMIT_ number of a resource RlimitNames lists, or -1.
func ResourceNumber(name string) int {
	if r, ok := rlimitByName(name); ok {
		return r.resource
	}
	return -1
}

// RlimitNames are the resources rlimits takes.
func RlimitNames() []string {
	out := make([]string, len(resources))
	for i, r := range resources {
		out[i] = r.name
	}
	return out
}

// Unlimited is RLIM_INFINITY.
const Unlimited = math.MaxUint64

// ParseLimit reads one limit of resource name, written as a string ("64MiB", "1h", "unlimited").
// Integers go through LimitFromInt.
func ParseLimit(name, v string) (uint64, error) {
	r, ok := rlimitByName(name)
	if !ok {
		return 0, errors.New("unknown resource " + strconv.Quote(name))
	}
	v = strings.TrimSpace(v)
	if v == "unlimited" || v == "infinity" {
		return Unlimited, nil
	}
	if r.kind == size {
		return ParseSize(v)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err == nil || r.kind == count {
		if err != nil {
			return 0, errors.New("want a number or \"unlimited\", got " + strconv.Quote(v))
		}
		return n, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, errors.New("want a duration such as \"1h\" or a number, got " + strconv.Quote(v))
	}
	if r.kind == micros {
		return uint64(d / time.Microsecond), nil
	}
	// Rounded up: a limit of "500ms" must not become no time at all.
	return uint64((d + time.Second - 1) / time.Second), nil
}

// ParseSize reads a size in bytes: 65536, "64KiB", "64K", "8MiB", "1GiB", "2T" (powers of 1024,
// as systemd and ulimit count). "64MB" is refused: a reader cannot tell 10^6 from 2^20.
func ParseSize(v string) (uint64, error) {
	v = strings.TrimSpace(v)
	num := strings.TrimRight(v, "BiKMGTPbkmgtp")
	unit := v[len(num):]
	num = strings.TrimSpace(num)
	var shift uint
	switch unit {
	case "", "B":
	case "K", "KiB":
		shift = 10
	case "M", "MiB":
		shift = 20
	case "G", "GiB":
		shift = 30
	case "T", "TiB":
		shift = 40
	case "P", "PiB":
		shift = 50
	default:
		return 0, badSize(v)
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, badSize(v)
	}
	if n > math.MaxUint64>>shift {
		return 0, errors.New("size " + strconv.Quote(v) + " is out of range")
	}
	return n << shift, nil
}

func badSize(v string) error {
	return errors.New("want a size such as 65536, \"64KiB\", \"8MiB\" or \"1GiB\", got " + strconv.Quote(v))
}

// ParseUmask reads an octal umask such as "0027" or "022".
func ParseUmask(v string) (int, error) {
	n, err := strconv.ParseUint(v, 8, 32)
	if err != nil || n > 0o777 || v == "" {
		return 0, errors.New("want an octal mask such as \"0027\", got " + strconv.Quote(v))
	}
	return int(n), nil
}

// Held is the set of capabilities uno holds (its permitted set), which is all it can give.
func Held() (uint64, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, err
	}
	return uint64(data[0].Permitted) | uint64(data[1].Permitted)<<32, nil
}

// CanSetPcap reports whether uno may drop capabilities from a bounding set.
func CanSetPcap() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[0].Effective&(1<<unix.CAP_SETPCAP) != 0
}

// Bounding is uno's bounding set.
func Bounding() uint64 {
	var set uint64
	for c := 0; c < 64; c++ {
		if in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err == nil && in == 1 {
			set |= 1 << c
		}
	}
	return set
}
