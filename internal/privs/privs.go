// Package privs owns what a service may do beyond its user and groups: no_new_privs, its exact
// capability sets, its rlimits, umask, nice value and oom_score_adj. It names them (the parsers
// the configuration uses), carries them to the new process, and applies them there.
//
// Go's fork and exec (syscall.ForkExec) can set none of these between fork and exec, and uno
// cannot set them on itself first: rlimits and the umask are the whole process's, so every other
// child started meanwhile, and uno, would get them. So a service that uses them is started
// through a shim: uno re-executes its own binary (/proc/self/exe) under the name ShimName, which
// applies the settings in the order the kernel needs (privileged steps while still root, then the
// user, then the capability sets, then no_new_privs) on one locked thread, and execs the
// service's program from that thread. A failure of any step, or of the exec, is written to a
// report pipe whose end closes on a successful exec, so that uno learns of it as it learns of
// an exec error from ForkExec. Services without these keys never meet the shim.
//
// The package changes nothing in uno itself; only Shim, in the shim's process, applies anything.
package privs

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
)

// ShimName is argv[0] of uno re-executed as the shim: no user types it, and no personality
// answers to it (cli checks it first).
const ShimName = "uno:privs-shim"

// Settings are a service's privilege settings. The zero value changes nothing.
type Settings struct {
	NoNewPrivs bool
	// Caps, when CapsSet, is the exact set (one bit per capability number) the program runs
	// with: bounding, permitted, effective, inheritable and ambient; everything else is dropped.
	CapsSet bool
	Caps    uint64
	Rlimits []Rlimit
	// Umask is set when UmaskSet.
	UmaskSet bool
	Umask    int
	NiceSet  bool
	Nice     int
	OOMSet   bool
	OOM      int
}

// Rlimit is one resource limit. HardSet false keeps the hard limit the service inherits.
type Rlimit struct {
	Resource int
	Soft     uint64
	Hard     uint64
	HardSet  bool
	Name     string
}

// Any reports whether s changes anything.
func (s *Settings) Any() bool {
	return s != nil && (s.NoNewPrivs || s.CapsSet || len(s.Rlimits) > 0 || s.UmaskSet || s.NiceSet || s.OOMSet)
}

// Identity is who the shim becomes before exec: Go's Credential, applied by the shim rather than
// by ForkExec, because the capability sets must survive the change of user.
type Identity struct {
	Uid, Gid uint32
	Groups   []uint32
}

// ShimArgs is the command line of the shim that applies s, becomes id (nil: stays uno's user),
// sets the signal mask to mask, reports failures on fd report, and execs path as argv. The
// settings travel as one word of comma-separated hexadecimal numbers (see decode), the program's
// path and arguments as they are.
func ShimArgs(s *Settings, id *Identity, mask uint64, report int, path string, argv []string) []string {
	var flags uint64
	for i, set := range []bool{s.NoNewPrivs, s.CapsSet, s.UmaskSet, s.NiceSet, s.OOMSet, id != nil} {
		if set {
			flags |= 1 << i
		}
	}
	v := []uint64{flags, s.Caps, uint64(s.Umask), uint64(int64(s.Nice)), uint64(int64(s.OOM)), mask, uint64(report)}
	if id != nil {
		v = append(v, uint64(id.Uid), uint64(id.Gid), uint64(len(id.Groups)))
		for _, g := range id.Groups {
			v = append(v, uint64(g))
		}
	}
	v = append(v, uint64(len(s.Rlimits)))
	for _, r := range s.Rlimits {
		hardSet := uint64(0)
		if r.HardSet {
			hardSet = 1
		}
		v = append(v, uint64(r.Resource), r.Soft, r.Hard, hardSet)
	}
	v = append(v, wordsEnd)
	out := make([]string, len(v))
	for i, n := range v {
		out[i] = strconv.FormatUint(n, 16)
	}
	return append([]string{ShimName, strings.Join(out, ","), path}, argv...)
}

// shimCall is a decoded shim command line.
type shimCall struct {
	s      Settings
	id     *Identity
	mask   uint64
	report int
	path   string
	argv   []string
}

var errShimArgs = errors.New("bad command line")

func decode(args []string) (*shimCall, error) {
	if len(args) < 3 {
		return nil, errShimArgs
	}
	var w words
	for _, word := range strings.Split(args[0], ",") {
		n, err := strconv.ParseUint(word, 16, 64)
		if err != nil {
			return nil, errShimArgs
		}
		w.v = append(w.v, n)
	}
	c := &shimCall{path: args[1], argv: args[2:]}
	flags := w.next()
	s := &c.s
	s.NoNewPrivs, s.CapsSet, s.UmaskSet, s.NiceSet, s.OOMSet = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0, flags&16 != 0
	s.Caps, s.Umask, s.Nice, s.OOM = w.next(), int(w.next()&0o777), int(int64(w.next())), int(int64(w.next()))
	c.mask, c.report = w.next(), int(int32(w.next()))
	if flags&32 != 0 {
		c.id = &Identity{Uid: uint32(w.next()), Gid: uint32(w.next()), Groups: []uint32{}}
		for n := w.next(); n > 0 && !w.short; n-- {
			c.id.Groups = append(c.id.Groups, uint32(w.next()))
		}
	}
	for n := w.next(); n > 0 && !w.short; n-- {
		r := Rlimit{Resource: int(w.next()), Soft: w.next(), Hard: w.next(), HardSet: w.next() == 1}
		for _, res := range resources {
			if res.resource == r.Resource {
				r.Name = res.name
			}
		}
		s.Rlimits = append(s.Rlimits, r)
	}
	if w.short || len(w.v) != 1 || w.v[0] != wordsEnd {
		return nil, errShimArgs
	}
	return c, nil
}

// words are the settings' numbers as decode takes them, ending in wordsEnd.
type words struct {
	v     []uint64
	short bool // read past the end
}

const wordsEnd = 1<<64 - 1

// next is out of line: decode calls it a dozen times.
//
//go:noinline
func (w *words) next() uint64 {
	if len(w.v) == 0 {
		w.short = true
		return 0
	}
	n := w.v[0]
	w.v = w.v[1:]
	return n
}

// ParseReport reads what the shim wrote on its report pipe, "step\x00errno": ok is false for an
// empty report, a successful exec.
func ParseReport(b []byte) (step string, errno syscall.Errno, ok bool) {
	step, num, _ := strings.Cut(string(b), "\x00")
	n, _ := strconv.Atoi(num)
	if n == 0 {
		n = int(syscall.EIO) // unreadable: still a failure
	}
	return step, syscall.Errno(n), len(b) > 0
}

func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
