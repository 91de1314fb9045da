package jsonwire_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/jsonwire"
)

// encoding/json is the specification: every value of the protocol's types must encode to the
// same bytes, and every input must be accepted or refused alike and decode to the same value.

// randString mixes what escaping must get right: quotes, controls, HTML characters, invalid
// UTF-8, U+2028, astral runes.
func randString(r *rand.Rand) string {
	pieces := []string{"", "a", "api", `"`, `\`, "/", "\n", "\t", "\b", "\f", "\r", "\x00", "\x1f", "\x7f",
		"<", ">", "&", "\u2028", "\u2029", "é", "日本", "😀", "\xff", "\xed\xa0\x80", "\xe2\x82", "\ufffd", " ", "\u00ad"}
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randTime(r *rand.Rand) time.Time {
	switch r.IntN(4) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(r.Int64N(1<<33), r.Int64N(1e9)).UTC()
	case 2:
		return time.Unix(r.Int64N(1<<33), 0).In(time.FixedZone("", (r.IntN(48)-24)*1800))
	default:
		return time.Unix(r.Int64N(1<<33), r.Int64N(1e9)/1000*1000).In(time.FixedZone("X", 3600))
	}
}

func randFloat(r *rand.Rand) float64 {
	switch r.IntN(6) {
	case 0:
		return 0
	case 1:
		return float64(r.IntN(100000)) / 1000
	case 2:
		return r.Float64() * 1e-7
	case 3:
		return r.Float64() * 1e22
	case 4:
		return math.Copysign(0, -1)
	default:
		return r.NormFloat64() * 1e6
	}
}

func randNames(r *rand.Rand) []string {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	n := make([]string, 1+r.IntN(3))
	for i := range n {
		n[i] = randString(r)
	}
	return n
}

func randInt(r *rand.Rand) int {
	switch r.IntN(4) {
	case 0:
		return 0
	case 1:
		return math.MaxInt64
	case 2:
		return math.MinInt64
	}
	return r.IntN(2000) - 1000
}

func randRequest(r *rand.Rand) control.Request {
	return control.Request{Version: randInt(r), Command: randString(r), Names: randNames(r), Signal: randString(r),
		DryRun: r.IntN(2) == 0, NoWait: r.IntN(2) == 0, Lines: randInt(r), Follow: r.IntN(2) == 0,
		Files: r.IntN(2) == 0, Reopen: r.IntN(2) == 0}
}

func randStatus(r *rand.Rand) control.ServiceStatus {
	s := control.ServiceStatus{Name: randString(r), Type: randString(r), State: randString(r), Ready: r.IntN(2) == 0,
		Essential: r.IntN(2) == 0, Pid: randInt(r), StartedAt: randTime(r), UptimeSeconds: randFloat(r), Restarts: randInt(r)}
	if r.IntN(2) == 0 {
		s.LastExit = &control.Exit{Code: randInt(r), Description: randString(r), At: randTime(r)}
	}
	return s
}

func randReply(r *rand.Rand) control.Reply {
	rep := control.Reply{Version: randInt(r), OK: r.IntN(2) == 0, Error: randString(r), Message: randString(r),
		Line: randString(r), Done: r.IntN(2) == 0}
	if n := r.IntN(4); n > 0 {
		rep.Services = make([]control.ServiceStatus, n-1)
		for i := range rep.Services {
			rep.Services[i] = randStatus(r)
		}
	}
	return rep
}

func sameEncoding(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := jsonwire.Marshal(v)
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("Marshal(%#v)\n got %s (%v)\nwant %s (%v)", v, got, err, want, wantErr)
	}
	wantIndent, _ := json.MarshalIndent(v, "", "  ")
	gotIndent, _ := jsonwire.MarshalIndent(v, "", "  ")
	if !bytes.Equal(gotIndent, wantIndent) {
		t.Fatalf("MarshalIndent(%#v)\n got %s\nwant %s", v, gotIndent, wantIndent)
	}
}

// sameDecoding decodes data into fresh values of new()'s type with both and compares.
func sameDecoding[T any](t *testing.T, data []byte) (T, bool) {
	t.Helper()
	var want, got T
	wantErr := json.Unmarshal(data, &want)
	err := jsonwire.Unmarshal(data, &got)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("Unmarshal(%q) into %T: got error %v, encoding/json %v", data, got, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Unmarshal(%q) into %T:\n got %#v\nwant %#v", data, got, got, want)
	}
	return got, err == nil
}

func TestRandomValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		req, rep := randRequest(r), randReply(r)
		sameEncoding(t, req)
		sameEncoding(t, rep)
		// What the probe endpoint and `uno ctl status --json` write.
		sameEncoding(t, map[string]any{"version": control.Version, "services": rep.Services})
		sameEncoding(t, map[string]any{"ok": rep.OK, "reason": rep.Message})
		data, _ := json.Marshal(req)
		sameDecoding[control.Request](t, data)
		data, _ = json.Marshal(rep)
		sameDecoding[control.Reply](t, data)
		indented, _ := json.MarshalIndent(rep, "  ", "\t")
		sameDecoding[control.Reply](t, indented)
	}
}

// tagged covers the tag forms a field added by a later issue may use.
type tagged struct {
	Plain   string
	Skipped int `json:"-"`
	hidden  int
	Named   int                `json:"named"`
	Empty   []string           `json:"empty,omitempty"`
	Zero    time.Time          `json:"zero,omitzero"`
	ZeroPtr *control.Exit      `json:"zero_ptr,omitzero"`
	Both    float64            `json:"both,omitempty,omitzero"`
	NoName  bool               `json:",omitempty"`
	Map     map[string]float64 `json:"map,omitempty"`
	//lint:ignore SA5008 a trailing comma is a tag encoding/json accepts, checked here
	Trailing string            `json:"trailing,"`
	Strs     map[string]string `json:"strs,omitempty"`
	Nested   []map[string]int  `json:"nested,omitempty"`
}

func TestEncodeTable(t *testing.T) {
	sameEncoding(t, tagged{hidden: 1})
	sameEncoding(t, tagged{Plain: "p", Skipped: 1, Named: 2, Empty: []string{"e"}, Zero: time.Unix(1, 1), ZeroPtr: &control.Exit{},
		Both: 1, NoName: true, Map: map[string]float64{"z": 0, "a": 1.5, "<": 1e-9}, Trailing: "t"})
	sameDecoding[tagged](t, []byte(`{"Plain":"p","Skipped":1,"hidden":2,"named":3,"NAMED":4,"empty":["x"],"zero":"2026-01-02T03:04:05Z","noname":true,"trailing":"t"}`))
	for _, in := range []string{
		`{"strs":{"a":"x"},"strs":{"b":"y"}}`, `{"strs":null}`, `{"strs":[]}`, `{"strs":{}}`, `{"nested":[{"a":1},null]}`,
		`{"strs":{"a":"x","a":"y"}}`, `{"strs":{"a":1}}`, `{"strs":{"a":null}}`, `{"nested":[{"a":1},{"b":2}],"nested":[{"c":3}]}`,
		`{"nested":[{"a":1.5}]}`, `{"map":null}`,
	} {
		sameDecoding[tagged](t, []byte(in))
	}
	var x any
	if err := jsonwire.Unmarshal([]byte(`{}`), &x); err == nil {
		t.Error("decoded into an interface: want an error until jsonwire supports it")
	}
	type embedded struct{ tagged }
	type quoted struct {
		N int `json:"n,string"`
	}
	if _, err := jsonwire.Marshal(embedded{}); err == nil {
		t.Error("an embedded struct encoded: want an error until jsonwire supports them")
	}
	if err := jsonwire.Unmarshal([]byte(`{"n":"1"}`), &quoted{}); err == nil {
		t.Error(`the ",string" option decoded: want an error until jsonwire supports it`)
	}
	for _, v := range []any{
		nil, true, 0, -1, 1.5, 1e21, 1e-7, 123456789.0, 1e20, float32(1e-7), float32(3.4e38), "", "<a&b>",
		[]string(nil), []string{}, []int{1, 2}, map[string]any{}, map[string]any(nil), map[string]any{"b": 1, "a": []any{}, "c": map[string]any{}},
		&control.Exit{}, (*control.Exit)(nil), control.ServiceStatus{}, []control.ServiceStatus{{}, {Name: "x"}},
		control.Exit{At: time.Date(2026, 12, 1, 20, 0, 0, 1, time.UTC)},
		control.Exit{At: time.Date(2026, 12, 1, 20, 0, 0, 120000000, time.FixedZone("", -3*3600-1800))},
		control.Reply{Services: []control.ServiceStatus{}}, [2]int{1, 2}, uint8(200), struct{}{},
	} {
		sameEncoding(t, v)
	}
	for _, v := range []any{math.NaN(), math.Inf(1), []byte("x"), func() {}, map[int]int{1: 1}, control.Exit{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}} {
		if b, err := jsonwire.Marshal(v); err == nil {
			t.Errorf("Marshal(%#v) = %s, want an error", v, b)
		}
	}
}

func TestDecodeTable(t *testing.T) {
	deep := func(n int) string { return `{"x":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + "}" }
	for _, in := range []string{
		``, ` `, `null`, ` null `, `{}`, `[]`, `"x"`, `1`, `true`, `{"v":1}x`, `{"v":1} {}`, `{"v":1}` + "\n",
		`{"v":1,"cmd":"status"}`, `{"V":1,"CMD":"stop"}`, `{"Cmd":"a","cmd":"b"}`, `{"cmd":"b","Cmd":"a"}`,
		`{"ſignal":"HUP"}`, `{"\u212aey":1}`, `{"dry_run":true,"DRY_RUN":false}`,
		`{"v":1,"v":2}`, `{"names":["a","b"],"names":["c"]}`, `{"names":["a"],"names":null}`, `{"names":[]}`,
		`{"names":null}`, `{"cmd":null,"v":null,"follow":null}`, `{"unknown":{"a":[1,{"b":null}],"c":"\u0000"}}`,
		`{"v":1.0}`, `{"v":1e2}`, `{"v":-0}`, `{"v":01}`, `{"v":-}`, `{"v":1.}`, `{"v":.5}`, `{"v":1e}`, `{"v":9223372036854775808}`,
		`{"v":-9223372036854775808}`, `{"v":"1"}`, `{"cmd":1}`, `{"cmd":true}`, `{"cmd":{}}`, `{"cmd":[]}`, `{"names":"a"}`,
		`{"names":[1]}`, `{"follow":"true"}`, `{"follow":1}`, `{"v":tru}`, `{"v":nul}`, `{"v":1,}`, `{"v":1`, `{"v"1}`, `{v:1}`,
		`{"cmd":"\ud83d\ude00"}`, `{"cmd":"\ud83d"}`, `{"cmd":"\ude00\ud83d"}`, `{"cmd":"\ud83d\u0041"}`, `{"cmd":"\ud83d\ud83d\ude00"}`,
		`{"cmd":"\ud83dx"}`, `{"cmd":"\u00e9\/\b\f\n\r\t\"\\"}`, `{"cmd":"\x"}`, `{"cmd":"\u12"}`, `{"cmd":"\u12G4"}`,
		"{\"cmd\":\"\xff\xfe\"}", "{\"cmd\":\"a\xe2\x82\"}", "{\"cmd\":\"\xed\xa0\x80\"}", "{\"cmd\":\"\t\"}", "{\"cmd\":\"\x7f\"}",
		"{\"n\xffames\":[\"a\"]}", "\ufeff{}", "{\"v\":1}\x00", `{"a":1e400}`, `{"v":1e400}`,
		deep(10000), deep(10001), `[` + strings.Repeat(`{"a":`, 5) + `1` + strings.Repeat(`}`, 5) + `]`,
	} {
		sameDecoding[control.Request](t, []byte(in))
		sameDecoding[control.Reply](t, []byte(in))
	}
	for _, in := range []string{
		`{"services":[{"name":"a","started_at":"2026-12-01T20:00:00.000000001Z","last_exit":{"code":1,"at":"2026-12-01T20:00:00+01:30"}}]}`,
		`{"services":[{"started_at":null,"last_exit":null}]}`, `{"services":[{"started_at":"x"}]}`, `{"services":[{"started_at":1}]}`,
		`{"services":[{"started_at":"2026-12-01T20:00:00\u005a"}]}`, `{"services":[{"started_at":"2026-12-01 20:00:00Z"}]}`,
		`{"services":[{"started_at":"10000-01-01T00:00:00Z"}]}`, `{"services":[{"started_at":"2026-12-01T20:00:00.Z"}]}`,
		`{"services":[{"last_exit":{"code":1},"last_exit":{"description":"x"}}]}`,
		`{"services":[{"name":"a","pid":1},{"name":"b"}],"services":[{"restarts":2}]}`,
		`{"services":[{"uptime_seconds":1.5e3}]}`, `{"services":[{"uptime_seconds":1e999}]}`, `{"services":{}}`, `{"services":[[]]}`,
	} {
		sameDecoding[control.Reply](t, []byte(in))
	}
	for _, in := range []string{`"a"`, `"\u0061\ud800"`, `null`, `1`, `"a" "b"`, "\"\xc3\x28\""} {
		sameDecoding[string](t, []byte(in))
	}
}

// TestDecodeHostile: decoding deep or long hostile input ends in an error or a value, quickly,
// without exhausting the stack.
func TestDecodeHostile(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("[", control.MaxMessage), strings.Repeat(`{"a":`, control.MaxMessage/5),
		`{"names":[` + strings.Repeat(`"a",`, control.MaxMessage/4) + `"b"]}`, `"` + strings.Repeat(`\ud800`, control.MaxMessage/6) + `"`,
	} {
		var req control.Request
		_ = jsonwire.Unmarshal([]byte(in), &req)
		sameDecoding[control.Request](t, []byte(in))
	}
}

// FuzzUnmarshal: on any input, jsonwire accepts what encoding/json accepts, decodes it to the
// same Request and Reply, and encodes those to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for _, seed := range []string{
		`{"v":1,"cmd":"status","names":["a"]}`, `{"v":1,"ok":true,"services":[{"name":"a","started_at":"2026-12-01T20:00:00.5Z","last_exit":{"code":1,"at":"2026-12-01T20:00:00Z"}}]}`,
		`{"CMD":"x","cmd":"y","unknown":[{"a":null}]}`, `{"strs":{"k":"v","K":"w","k":"x"},"nested":[{"n":1}]}`, `{"line":"\ud83d\ude00\ud800\u0041\/"}`, "{\"line\":\"\xff\"}", `{"v":1e2}`, `null`, `[1]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if req, ok := sameDecoding[control.Request](t, data); ok {
			sameEncoding(t, req)
		}
		if rep, ok := sameDecoding[control.Reply](t, data); ok {
			sameEncoding(t, rep)
		}
		sameDecoding[string](t, data)
		if v, ok := sameDecoding[tagged](t, data); ok {
			sameEncoding(t, v)
		}
	})
}
