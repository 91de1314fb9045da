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
// sets the signal mask to mask, reports failures on fd report, and execs path as argv.
func ShimArgs(s *Settings, id *Identity, mask uint64, report int, path string, argv []string) []string {
	args := []string{ShimName}
	args = append(args, s.encode()...)
	if id != nil {
		groups := make([]string, len(id.Groups))
		for i, g := range id.Groups {
			groups[i] = strconv.FormatUint(uint64(g), 10)
		}
		args = append(args, "id="+utoa(uint64(id.Uid))+":"+utoa(uint64(id.Gid))+":"+strings.Join(groups, ","))
	}
	args = append(args, "mask="+strconv.FormatUint(mask, 16), "report="+strconv.Itoa(report), "--", path)
	return append(args, argv...)
}

func (s *Settings) encode() []string {
	if s == nil {
		return nil
	}
	var out []string
	if s.NoNewPrivs {
		out = append(out, "nnp")
	}
	if s.CapsSet {
		out = append(out, "caps="+strconv.FormatUint(s.Caps, 16))
	}
	for _, r := range s.Rlimits {
		hard := "-"
		if r.HardSet {
			hard = strconv.FormatUint(r.Hard, 10)
		}
		out = append(out, "rlimit="+r.Name+":"+utoa(r.Soft)+":"+hard)
	}
	if s.UmaskSet {
		out = append(out, "umask="+strconv.FormatInt(int64(s.Umask), 8))
	}
	if s.NiceSet {
		out = append(out, "nice="+strconv.Itoa(s.Nice))
	}
	if s.OOMSet {
		out = append(out, "oom="+strconv.Itoa(s.OOM))
	}
	return out
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

func decode(args []string) (*shimCall, error) {
	c := &shimCall{report: -1}
	for i, a := range args {
		if a == "--" {
			if len(args) < i+3 {
				return nil, errors.New("no program after --")
			}
			c.path, c.argv = args[i+1], args[i+2:]
			return c, nil
		}
		k, v, _ := strings.Cut(a, "=")
		var err error
		switch k {
		case "nnp":
			c.s.NoNewPrivs = true
		case "caps":
			c.s.CapsSet = true
			c.s.Caps, err = strconv.ParseUint(v, 16, 64)
		case "rlimit":
			err = c.rlimit(v)
		case "umask":
			var n uint64
			n, err = strconv.ParseUint(v, 8, 12)
			c.s.UmaskSet, c.s.Umask = true, int(n)
		case "nice":
			c.s.NiceSet = true
			c.s.Nice, err = strconv.Atoi(v)
		case "oom":
			c.s.OOMSet = true
			c.s.OOM, err = strconv.Atoi(v)
		case "id":
			c.id, err = decodeIdentity(v)
		case "mask":
			c.mask, err = strconv.ParseUint(v, 16, 64)
		case "report":
			c.report, err = strconv.Atoi(v)
		default:
			err = errors.New("unknown setting")
		}
		if err != nil {
			return nil, errors.New(strconv.Quote(a) + ": " + err.Error())
		}
	}
	return nil, errors.New("no -- before the program")
}

func (c *shimCall) rlimit(v string) error {
	parts := strings.Split(v, ":")
	if len(parts) != 3 {
		return errors.New("want name:soft:hard")
	}
	res, ok := rlimitByName(parts[0])
	if !ok {
		return errors.New("unknown resource")
	}
	r := Rlimit{Resource: res.resource, Name: parts[0]}
	var err error
	if r.Soft, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
		return err
	}
	if parts[2] != "-" {
		r.HardSet = true
		if r.Hard, err = strconv.ParseUint(parts[2], 10, 64); err != nil {
			return err
		}
	}
	c.s.Rlimits = append(c.s.Rlimits, r)
	return nil
}

func decodeIdentity(v string) (*Identity, error) {
	parts := strings.Split(v, ":")
	if len(parts) != 3 {
		return nil, errors.New("want uid:gid:groups")
	}
	uid, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return nil, err
	}
	id := &Identity{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	if parts[2] != "" {
		for _, g := range strings.Split(parts[2], ",") {
			n, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, err
			}
			id.Groups = append(id.Groups, uint32(n))
		}
	}
	return id, nil
}

// Failure is what the shim reports when a step fails: the step, and the error number.
type Failure struct {
	Step  string
	Errno syscall.Errno
}

func (f *Failure) Error() string { return f.Step + ": " + f.Errno.Error() }
func (f *Failure) Unwrap() error { return f.Errno }

// ParseReport reads what the shim wrote on its report pipe; empty is success.
func ParseReport(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	step, num, ok := strings.Cut(string(b), "\x00")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return errors.New("privilege shim: unreadable report " + strconv.Quote(string(b)))
	}
	return &Failure{Step: step, Errno: syscall.Errno(n)}
}

func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
