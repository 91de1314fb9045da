package ulog

import (
	"bytes"
	"log/slog"
	"testing"
)

func TestFormat(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, "uno", LevelFor(1))
	log.Debug("hidden")
	log.Info("started program", "pid", 7, "argv", []string{"sh", "-c", "x y"})
	log.Warn("reaped orphan", "status", "exit 0")
	log.With("service", "api").Error("exec /app: no such file or directory")
	log.WithGroup("g").Info("grouped", slog.Group("a", "b", 1), "empty", "")
	want := `uno: started program pid=7 argv="[sh -c x y]"
uno: warning: reaped orphan status="exit 0"
uno: exec /app: no such file or directory service=api
uno: grouped g.a.b=1 g.empty=""
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestLevelFor(t *testing.T) {
	for v, want := range map[int]slog.Level{-1: slog.LevelWarn, 0: slog.LevelWarn, 1: slog.LevelInfo, 2: slog.LevelDebug, 5: slog.LevelDebug} {
		if got := LevelFor(v); got != want {
			t.Errorf("LevelFor(%d) = %v, want %v", v, got, want)
		}
	}
}
