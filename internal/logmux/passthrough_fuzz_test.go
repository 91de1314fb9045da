package logmux

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/uno-init/uno/internal/config"
	"github.com/uno-init/uno/internal/ulog"
)

// FuzzPassthrough: whatever a service writes, its JSON line is one valid JSON object in valid
// UTF-8 with no key twice (unless the service's own object had one twice); uno's four keys are
// there under some name; a valid object's fields are all there with their values; anything else
// comes back as msg.
func FuzzPassthrough(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"time":"x","uno.time":1,"service":[],"stream":{},"pid":null}`, `{}`, ` {"a" : [1, 2.5e3, true, false, null, "\u00e9\ud83d\ude00"]} `,
		`{"\u0074ime":1}`, `{"a":1}x`, `{"a":"\xff"}`, `{"a":01}`, `[`, `{"a":{"b":{"c":[[[]]]}}}`, "{\"a\":\"\x01\"}", `{"a":-0.0E+1}`, "plain text", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if bytes.ContainsAny(text, "\n") {
			return
		}
		c := &copier{bufs: &buffers{}, f: lineFormat{format: config.FormatJSON, passthrough: true, pid: 12,
			jsonName: ulog.AppendString(nil, []byte("api")), jsonStream: ulog.AppendString(nil, []byte("stdout"))}}
		out := c.appendJSON(nil, text, whole, []byte("2026-11-29T18:25:44.123Z"))
		if !bytes.HasSuffix(out, []byte("}\n")) || bytes.Count(out, []byte("\n")) != 1 {
			t.Fatalf("%q: not one line: %q", text, out)
		}
		if !utf8.Valid(out) || !json.Valid(out) {
			t.Fatalf("%q: output is not valid JSON in UTF-8: %q", text, out)
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		trimmed := bytes.TrimSpace(text)
		isObject := json.Valid(text) && utf8.Valid(text) && len(trimmed) > 0 && trimmed[0] == '{'
		// Merged only if a shipper parses it too: numbers within float64 (encoding/json), and
		// no lone surrogate (serde_json).
		var anyValue any
		isObject = isObject && json.Unmarshal(text, &anyValue) == nil && !hasLoneSurrogate(text)
		var in map[string]json.RawMessage
		if isObject {
			if err := json.Unmarshal(text, &in); err != nil {
				t.Fatal(err)
			}
			for k, v := range in {
				// The object's bytes are copied as they came.
				if !bytes.Equal(got[k], v) {
					t.Fatalf("%q: key %q is %s, want %s; out %s", text, k, got[k], v, out)
				}
			}
			if _, ok := got["msg"]; ok && in["msg"] == nil {
				t.Fatalf("%q: merged object has a msg: %s", text, out)
			}
		} else {
			var msg string
			if err := json.Unmarshal(got["msg"], &msg); err != nil {
				t.Fatalf("%q: no msg: %s", text, out)
			}
			want := text
			if len(want) > 0 && want[len(want)-1] == '\r' {
				want = want[:len(want)-1]
			}
			if utf8.Valid(want) && !bytes.ContainsAny(want, "\u2028\u2029") && msg != string(want) {
				t.Fatalf("%q: msg %q", text, msg)
			}
		}
		// uno's keys, each under the first name the object does not use.
		for _, k := range unoKeys {
			name := k
			for in != nil && in[name] != nil {
				name = "uno." + name
			}
			if got[name] == nil {
				t.Fatalf("%q: uno's %s is not under %q: %s", text, k, name, out)
			}
		}
	})
}

// hasLoneSurrogate says whether a \u escape in text is a UTF-16 surrogate not in a pair.
func hasLoneSurrogate(text []byte) bool {
	hex := func(i int) (rune, bool) {
		if i+6 > len(text) || text[i] != '\\' || text[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(text[i+2:i+6]), 16, 32)
		return rune(v), err == nil
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			continue
		}
		r, ok := hex(i)
		if !ok {
			i++ // an escaped character, maybe a backslash
			continue
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			low, ok := hex(i + 6)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}
