package config

import (
	"testing"
	"time"
)

// TestSetGrace: --grace and UNO_GRACE replace [uno] grace after loading, and with it the
// stop_timeout of every service that follows the default (the main program's too); one written
// in the file stays.
func TestSetGrace(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"uno.toml": `[uno]
grace = "1s"
[services.a]
command = "a"
[services.b]
command = "b"
stop_timeout = "2s"
`})
	if err := cfg.AddMain([]string{"m"}, nil); err != nil {
		t.Fatal(err)
	}
	cfg.SetGrace(30 * time.Second)
	want := map[string]time.Duration{"a": 30 * time.Second, "b": 2 * time.Second, MainName: 30 * time.Second}
	for name, d := range want {
		if got := cfg.Service(name).StopTimeout; got != d {
			t.Errorf("%s: stop_timeout %v, want %v", name, got, d)
		}
	}
	if cfg.Grace != 30*time.Second {
		t.Errorf("grace %v", cfg.Grace)
	}
}
