package privs

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseCap(t *testing.T) {
	for i := range capNames {
		for _, name := range []string{CapName(i), strings.ToLower(CapName(i)), strings.TrimPrefix(CapName(i), "CAP_"), " " + strings.ToLower(strings.TrimPrefix(CapName(i), "CAP_")) + " "} {
			if got, err := ParseCap(name); err != nil || got != i {
				t.Errorf("ParseCap(%q) = %d, %v; want %d", name, got, err, i)
			}
		}
	}
	for _, bad := range []string{"", "CAP_", "CAP_ALL", "ALL", "CAP_NET_BIND_SERVICES", "cap-net-raw", "41"} {
		if _, err := ParseCap(bad); err == nil {
			t.Errorf("ParseCap(%q) accepted", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]uint64{"0": 0, "65536": 65536, "64K": 64 << 10, "64KiB": 64 << 10, "8M": 8 << 20, "8MiB": 8 << 20,
		"1G": 1 << 30, "1GiB": 1 << 30, "2T": 2 << 40, "1P": 1 << 50, "10B": 10, "16383P": 16383 << 50}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "M", "64MB", "64kb", "64 K iB", "-1", "1.5G", "64m", "16384P", "18446744073709551616", "0x10"} {
		if got, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, accepted", bad, got)
		}
	}
}

func TestParseLimit(t *testing.T) {
	good := []struct {
		name, in string
		want     uint64
	}{
		{"cpu", "1h", 3600}, {"cpu", "90", 90}, {"cpu", "500ms", 1}, {"cpu", "unlimited", Unlimited},
		{"rttime", "200ms", 200000}, {"rttime", "5", 5}, {"nofile", "1024", 1024}, {"nofile", "infinity", Unlimited},
		{"memlock", "64MiB", 64 << 20},
	}
	for _, g := range good {
		if got, err := ParseLimit(g.name, g.in); err != nil || got != g.want {
			t.Errorf("ParseLimit(%s, %q) = %d, %v; want %d", g.name, g.in, got, err, g.want)
		}
	}
	for _, bad := range [][2]string{{"cpu", "-1s"}, {"nofile", "1K"}, {"files", "1"}, {"stack", "8MB"}, {"cpu", ""}} {
		if _, err := ParseLimit(bad[0], bad[1]); err == nil {
			t.Errorf("ParseLimit(%q) accepted", bad)
		}
	}
}

func TestParseUmask(t *testing.T) {
	for in, want := range map[string]int{"0027": 0o27, "022": 0o22, "0": 0, "777": 0o777, "0777": 0o777} {
		if got, err := ParseUmask(in); err != nil || got != want {
			t.Errorf("ParseUmask(%q) = %o, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0o27", "1000", "8", "-1", " 022"} {
		if _, err := ParseUmask(bad); err == nil {
			t.Errorf("ParseUmask(%q) accepted", bad)
		}
	}
}

// TestShimArgsRoundTrip: what uno puts on the shim's command line is what the shim reads.
func TestShimArgsRoundTrip(t *testing.T) {
	s := Settings{NoNewPrivs: true, CapsSet: true, Caps: 1<<10 | 1<<40, UmaskSet: true, Umask: 0o27,
		NiceSet: true, Nice: -3, OOMSet: true, OOM: -1000,
		Rlimits: []Rlimit{{Resource: 7, Name: "nofile", Soft: 10, Hard: 20, HardSet: true}, {Resource: 4, Name: "core", Soft: Unlimited}}}
	id := &Identity{Uid: 1000, Gid: 100, Groups: []uint32{1, 2}}
	args := ShimArgs(&s, id, 0x4001, 5, "/bin/x", []string{"x", "--", "nnp", "report=9"})
	c, err := decode(args[1:])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.s, s) || !reflect.DeepEqual(c.id, id) || c.mask != 0x4001 || c.report != 5 || c.path != "/bin/x" ||
		!reflect.DeepEqual(c.argv, []string{"x", "--", "nnp", "report=9"}) {
		t.Errorf("round trip:\n%+v\n%+v", c, s)
	}
	c, err = decode(ShimArgs(&Settings{CapsSet: true}, &Identity{Groups: []uint32{}}, 0, 3, "p", []string{"p"})[1:])
	if err != nil || !c.s.CapsSet || c.s.Caps != 0 || len(c.id.Groups) != 0 {
		t.Errorf("empty sets: %+v %v", c, err)
	}
	good := ShimArgs(&s, id, 0, 3, "p", []string{"p"})[1]
	for _, bad := range [][]string{{}, {good, "p"}, {"zz", "p", "p"}, {"", "p", "p"}, {good + ",1", "p", "p"}, {good[:strings.LastIndexByte(good, ',')], "p", "p"}, {"1,2", "p", "p"}} {
		if _, err := decode(bad); err == nil {
			t.Errorf("decode(%q) accepted", bad)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64MiB", "8M", "1", "16383P", "64MB", "", "18446744073709551615", "1KiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		// What it accepts is a decimal number and a unit, and means number << unit.
		num := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), "BiKMGTP"))
		base, perr := strconv.ParseUint(num, 10, 64)
		if perr != nil || base > n && n != 0 || n%max(base, 1) != 0 && base != 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range [][2]string{{"cpu", "1h"}, {"nofile", "1024"}, {"stack", "8MiB"}, {"rttime", "200ms"}, {"as", "unlimited"}, {"cpu", "-5m"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, v string) {
		n, err := ParseLimit(name, v)
		if err == nil && ResourceNumber(name) < 0 {
			t.Fatalf("ParseLimit(%q, %q) = %d for an unknown resource", name, v, n)
		}
	})
}

func FuzzParseCap(f *testing.F) {
	for _, s := range []string{"CAP_NET_BIND_SERVICE", "net_raw", "Cap_Chown", "CAP_", "ALL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCap(s)
		if err != nil {
			return
		}
		if c < 0 || c >= len(capNames) || !strings.EqualFold(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CAP_"), strings.TrimPrefix(CapName(c), "CAP_")) {
			t.Fatalf("ParseCap(%q) = %d (%s)", s, c, CapName(c))
		}
	})
}

// FuzzShimArgs: any settings survive the trip through the shim's command line.
func FuzzShimArgs(f *testing.F) {
	f.Add(true, uint64(1<<10), "nofile", uint64(10), uint64(20), 0o27, -5, 300, uint32(1000), "x")
	f.Fuzz(func(t *testing.T, nnp bool, caps uint64, res string, soft, hard uint64, umask, nice, oom int, uid uint32, arg string) {
		r, ok := rlimitByName(res)
		if !ok {
			return
		}
		s := Settings{NoNewPrivs: nnp, CapsSet: true, Caps: caps, UmaskSet: true, Umask: umask & 0o777, NiceSet: true, Nice: nice, OOMSet: true, OOM: oom,
			Rlimits: []Rlimit{{Resource: r.resource, Name: res, Soft: soft, Hard: hard, HardSet: true}}}
		id := &Identity{Uid: uid, Gid: uid, Groups: []uint32{uid}}
		c, err := decode(ShimArgs(&s, id, caps, 3, "/p", []string{arg})[1:])
		if err != nil || !reflect.DeepEqual(c.s, s) || !reflect.DeepEqual(c.id, id) || c.argv[0] != arg {
			t.Fatalf("round trip of %+v: %+v, %v", s, c, err)
		}
	})
}

// FuzzShimDecode: no command line makes the shim's decoder panic or loop.
func FuzzShimDecode(f *testing.F) {
	f.Add(ShimArgs(&Settings{NoNewPrivs: true, Rlimits: []Rlimit{{Resource: 7, Soft: 1}}}, &Identity{Groups: []uint32{1}}, 0, 3, "/p", []string{"p"})[1])
	f.Add("21,0,0,0,0,0,3,0,0,ffffffffffffffff,0,ffffffffffffffff")
	f.Fuzz(func(t *testing.T, words string) {
		_, _ = decode([]string{words, "/p", "p"})
	})
}
