// Decoding a service's privilege keys (no_new_privileges, capabilities, rlimits, umask, nice,
// oom_score_adj) into privs.Settings, and its secrets (secrets, env_file_suffix), checking what
// can be checked before anything starts: names, ranges, and what uno itself holds to give.

package config

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/uno-init/uno/internal/privs"
)

// Secret is an environment variable whose value is read from a file at each start of the
// service. Only the path is known to the configuration: the value is never in it.
type Secret struct {
	Name string
	Path string
	// Key is where it was configured, for messages: services.db.secrets.DB_PASSWORD, or the
	// variable DB_PASSWORD_FILE that env_file_suffix turned into it.
	Key string
}

// privileges decodes s's privilege keys and secrets; env is its environment, from which
// env_file_suffix takes (and removes) the NAME_FILE variables.
func (l *loader) privileges(cfg *Config, file, prefix string, t *table, s *Service, env *environment) {
	key := func(k string) string { return prefix + k }
	p := &privs.Settings{NoNewPrivs: cfg.NoNewPrivileges}
	if v := t.get("no_new_privileges"); v != nil {
		p.NoNewPrivs = l.boolean(file, key("no_new_privileges"), v, p.NoNewPrivs)
	}
	if v := t.get("capabilities"); v != nil {
		p.CapsSet = true
		p.Caps = l.capabilities(file, key("capabilities"), v)
	}
	if v := t.get("rlimits"); v != nil {
		p.Rlimits = l.rlimits(file, key("rlimits"), v)
	}
	if v := t.get("umask"); v != nil {
		if str, ok := l.str(file, key("umask"), v); ok {
			mask, err := privs.ParseUmask(str)
			if err != nil {
				l.errorf(file, v.line, key("umask"), "%v", err)
			}
			p.UmaskSet, p.Umask = true, mask
		}
	}
	if v := t.get("nice"); v != nil {
		p.NiceSet = true
		p.Nice = l.intRange(file, key("nice"), v, -20, 19)
		if cur, ok := ownNice(); ok && p.Nice < cur && !holds(capSysNice) && !niceAllowedByRlimit(p.Nice) {
			l.errorf(file, v.line, key("nice"), "%d is below uno's own %d, and lowering it needs CAP_SYS_NICE, which uno does not hold (or an RLIMIT_NICE of at least %d)", p.Nice, cur, 20-p.Nice)
		}
	}
	if v := t.get("oom_score_adj"); v != nil {
		p.OOMSet = true
		p.OOM = l.intRange(file, key("oom_score_adj"), v, -1000, 1000)
		if cur, err := ownOOMScoreAdj(); err == nil && p.OOM < cur && !holds(capSysResource) {
			l.errorf(file, v.line, key("oom_score_adj"), "%d is below uno's own %d, and lowering it needs CAP_SYS_RESOURCE, which uno does not hold", p.OOM, cur)
		}
	}
	if p.Any() {
		s.Privileges = p
	}

	if v := t.get("secrets"); v != nil {
		if st := l.table(file, key("secrets"), v); st != nil {
			for _, name := range st.keys {
				sv := st.get(name)
				k := key("secrets." + keyName(name))
				if !isEnvName(name) {
					l.errorf(file, sv.line, k, "invalid variable name")
					continue
				}
				path, ok := l.str(file, k, sv)
				if !ok {
					continue
				}
				path = l.expand(file, k, sv.line, path, env)
				l.secret(file, sv.line, k, s, Secret{Name: name, Path: path, Key: k}, env)
			}
		}
	}
	if v := t.get("env_file_suffix"); v != nil {
		suffix, ok := l.str(file, key("env_file_suffix"), v)
		if ok && (suffix == "" || !isEnvName("A"+suffix)) {
			l.errorf(file, v.line, key("env_file_suffix"), "want a variable name ending such as \"_FILE\", got %q", suffix)
			ok = false
		}
		if ok {
			for _, n := range append([]string(nil), env.names...) {
				name, found := strings.CutSuffix(n, suffix)
				if !found || name == "" || !isEnvName(name) {
					continue
				}
				path, _ := env.lookup(n)
				env.unset(n)
				l.secret(file, v.line, key("env_file_suffix"), s, Secret{Name: name, Path: path, Key: "$" + n}, env)
			}
		}
	}
}

// secret adds one secret to s, once its variable is known not to be set some other way too.
func (l *loader) secret(file string, line int, key string, s *Service, sec Secret, env *environment) {
	if !strings.HasPrefix(sec.Path, "/") {
		l.errorf(file, line, key, "%s: want an absolute path, got %q", sec.Name, sec.Path)
		return
	}
	if _, set := env.lookup(sec.Name); set {
		// The secret's value replaces it at start, as a later setting replaces an earlier one.
		l.warnings = append(l.warnings, file+":"+strconv.Itoa(line)+": "+key+": "+sec.Name+" is also set in the environment; the secret's value replaces it")
		env.unset(sec.Name)
	}
	for _, other := range s.Secrets {
		if other.Name == sec.Name {
			l.errorf(file, line, key, "%s is already a secret (%s)", sec.Name, other.Key)
			return
		}
	}
	s.Secrets = append(s.Secrets, sec)
}

// capabilities reads a list of capability names into a set, each checked against what uno holds:
// a capability uno does not have cannot be given, and narrowing the bounding set needs
// CAP_SETPCAP unless it is already as narrow.
func (l *loader) capabilities(file, key string, n *node) uint64 {
	if n.kind != kindArray {
		l.wrongType(file, key, n, "an array of capability names")
		return 0
	}
	var set uint64
	for _, e := range n.array {
		if e.kind != kindString {
			l.wrongType(file, key, e, "capability names in the array")
			return 0
		}
		c, err := privs.ParseCap(e.str)
		if err != nil {
			l.errorf(file, e.line, key, "%v", err)
			continue
		}
		set |= 1 << c
	}
	held, err := privs.Held()
	if err != nil {
		l.errorf(file, n.line, key, "cannot read uno's own capabilities: %v", err)
		return set
	}
	if missing := set &^ held; missing != 0 {
		l.errorf(file, n.line, key, "uno does not hold %s, so it cannot give it (uno runs as uid %d with %s)",
			privs.CapList(missing), os.Geteuid(), privs.CapList(held))
	}
	if drop := privs.Bounding() &^ set; drop != 0 && !privs.CanSetPcap() {
		l.errorf(file, n.line, key, "uno cannot narrow the bounding set to these without CAP_SETPCAP (it would drop %s); run uno with CAP_SETPCAP, or with no more than these", privs.CapList(drop))
	}
	return set
}

// rlimits reads { name = soft, name = [soft, hard] }.
func (l *loader) rlimits(file, key string, n *node) []privs.Rlimit {
	t := l.table(file, key, n)
	if t == nil {
		return nil
	}
	l.known(file, key+".", t, privs.RlimitNames()...)
	var out []privs.Rlimit
	for _, name := range t.keys {
		v := t.get(name)
		k := key + "." + keyName(name)
		r := privs.Rlimit{Name: name, Resource: privs.ResourceNumber(name)}
		if r.Resource < 0 {
			continue // reported by known
		}
		var ok bool
		switch v.kind {
		case kindArray:
			if len(v.array) != 2 {
				l.errorf(file, v.line, k, "want a limit or [soft, hard], got %d values", len(v.array))
				continue
			}
			var okSoft, okHard bool
			r.Soft, okSoft = l.limit(file, k, name, v.array[0])
			r.Hard, okHard = l.limit(file, k, name, v.array[1])
			r.HardSet, ok = true, okSoft && okHard
			if ok && r.Soft > r.Hard {
				l.errorf(file, v.line, k, "soft limit %s is above the hard limit %s", limitString(r.Soft), limitString(r.Hard))
				ok = false
			}
		default:
			r.Soft, ok = l.limit(file, k, name, v)
		}
		if ok && l.rlimitStartable(file, v.line, k, r) {
			out = append(out, r)
		}
	}
	return out
}

// rlimitStartable reports whether the shim could set r as uno is now, and says why not: the
// service inherits uno's hard limit, so a soft limit alone above it fails every start, as does a
// hard limit raised without CAP_SYS_RESOURCE, or a nofile above the kernel's fs.nr_open (for
// root too). Checked here so that uno check and a load say so, not each start.
func (l *loader) rlimitStartable(file string, line int, key string, r privs.Rlimit) bool {
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(r.Resource, &cur); err != nil {
		return true // the start will say
	}
	switch {
	case r.Resource == syscall.RLIMIT_NOFILE && max(r.Soft, r.Hard) > nrOpen():
		l.errorf(file, line, key, "%s is above the kernel's maximum of open files, %d (fs.nr_open)", limitString(max(r.Soft, r.Hard)), nrOpen())
	case !r.HardSet && cur.Max != privs.Unlimited && r.Soft > cur.Max:
		l.errorf(file, line, key, "soft limit %s is above the hard limit %s the service inherits from uno; give [soft, hard] to raise that too", limitString(r.Soft), limitString(cur.Max))
	case r.HardSet && cur.Max != privs.Unlimited && r.Hard > cur.Max && !holds(capSysResource):
		l.errorf(file, line, key, "hard limit %s is above uno's own %s, and raising it needs CAP_SYS_RESOURCE, which uno does not hold", limitString(r.Hard), limitString(cur.Max))
	default:
		return true
	}
	return false
}

// nrOpen is the kernel's bound on any nofile limit (/proc/sys/fs/nr_open), or the largest one
// when it cannot be read.
func nrOpen() uint64 {
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		return privs.Unlimited - 1
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return privs.Unlimited - 1
	}
	return n
}

func (l *loader) limit(file, key, name string, n *node) (uint64, bool) {
	var v uint64
	var err error
	switch n.kind {
	case kindInteger:
		if n.num < 0 {
			l.errorf(file, n.line, key, "must not be negative (\"unlimited\" for no limit)")
			return 0, false
		}
		v = uint64(n.num)
	case kindString:
		v, err = privs.ParseLimit(name, n.str)
	default:
		l.wrongType(file, key, n, "a number or a string such as \"64MiB\", \"1h\" or \"unlimited\"")
		return 0, false
	}
	if err != nil {
		l.errorf(file, n.line, key, "%v", err)
		return 0, false
	}
	return v, true
}

//go:noinline
func limitString(v uint64) string {
	if v == privs.Unlimited {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

func (l *loader) intRange(file, key string, n *node, lo, hi int64) int {
	if n.kind != kindInteger || n.num < lo || n.num > hi {
		l.errorf(file, n.line, key, "want an integer from %d to %d", lo, hi)
		return 0
	}
	return int(n.num)
}

// capSysResource and capSysNice are those capabilities' numbers.
const (
	capSysResource = 24
	capSysNice     = 23
)

// ownNice is uno's nice value (the kernel's getpriority answers 20 - nice).
func ownNice() (int, bool) {
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	return 20 - raw, err == nil
}

// niceAllowedByRlimit reports whether RLIMIT_NICE lets an unprivileged process go down to nice:
// its soft limit allows down to 20 - limit.
func niceAllowedByRlimit(nice int) bool {
	var lim syscall.Rlimit
	return syscall.Getrlimit(privs.ResourceNumber("nice"), &lim) == nil && uint64(20-nice) <= lim.Cur
}

func holds(c int) bool {
	held, err := privs.Held()
	return err == nil && held&(1<<c) != 0
}

func ownOOMScoreAdj() (int, error) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
