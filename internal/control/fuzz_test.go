package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// FuzzReadMessage: whatever a peer sends, reading a request never panics, never returns more
// than MaxMessage bytes, and what it accepts is a Request that encodes again.
func FuzzReadMessage(f *testing.F) {
	for _, seed := range []string{
		`{"v":1,"cmd":"status"}` + "\n",
		`{"v":1,"cmd":"logs","names":["api"],"lines":10,"follow":true}` + "\n",
		`{"v":2,"cmd":"restart","names":["a","b"],"no_wait":true}` + "\n",
		`{"v":1,"cmd":"signal","signal":"HUP","names":["x"]}`,
		"not json\n",
		"\n",
		`{"v":1e400}` + "\n",
		`{"names":[` + strings.Repeat(`"a",`, 100) + `"b"]}` + "\n",
		"\x00\xff\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req Request
		r := bufio.NewReaderSize(bytes.NewReader(data), 4096)
		if err := readMessage(r, &req); err != nil {
			return
		}
		if _, err := json.Marshal(req); err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", data, err)
		}
	})
}

// FuzzCheckHTTPAddr: any address is either refused or is HOST:PORT, and a non-loopback one is
// never accepted without public.
func FuzzCheckHTTPAddr(f *testing.F) {
	for _, seed := range []string{"127.0.0.1:9000", "[::1]:80", "localhost:1", "0.0.0.0:9000", ":9000", "10.0.0.1:80", "x", "127.0.0.1:99999", "[::ffff:127.0.0.1]:80"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if err := CheckHTTPAddr(addr, false); err == nil {
			if err := CheckHTTPAddr(addr, true); err != nil {
				t.Fatalf("%q accepted as private but refused as public: %v", addr, err)
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatalf("%q accepted but is not HOST:PORT: %v", addr, err)
			}
			if ip, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !ip.IsLoopback()) {
				t.Fatalf("%q accepted without --http-public", addr)
			}
		}
	})
}
