package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOutputKeys(t *testing.T) {
	tests := []struct {
		name, toml string
		want       Output
	}{
		{"default", "", Output{Format: FormatPrefix}},
		{"log_prefix false is raw", "log_prefix = false\n", Output{Format: FormatRaw}},
		{"log_prefix true is the default", "log_prefix = true\n", Output{Format: FormatPrefix}},
		{"json", "log_format = \"json\"\njson_passthrough = true\n", Output{Format: FormatJSON, Passthrough: true}},
		{"text is prefix", "log_format = \"text\"\nlog_timestamps = true\n", Output{Format: FormatPrefix, Timestamps: true}},
		{"file defaults", "log_file = \"/var/log/${NAME}.log\"\n", Output{Format: FormatPrefix, File: "/var/log/a.log", MaxSize: 10 << 20, MaxFiles: 5}},
		{"file", "log_file = \"/l/a.log\"\nlog_max_size = \"1MiB\"\nlog_max_files = 2\nlog_compress = true\nlog_tee = true\n",
			Output{Format: FormatPrefix, File: "/l/a.log", MaxSize: 1 << 20, MaxFiles: 2, Compress: true, Tee: true}},
		{"size in bytes, never rotate", "log_file = \"/l/a.log\"\nlog_max_size = 0\n", Output{Format: FormatPrefix, File: "/l/a.log", MaxFiles: 5}},
		{"rate", "log_rate = \"600/m\"\n", Output{Format: FormatPrefix, Rate: 600, RatePer: time.Minute, Burst: 600}},
		{"rate and burst", "log_rate = \"10/s\"\nlog_burst = 100\n", Output{Format: FormatPrefix, Rate: 10, RatePer: time.Second, Burst: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustLoadService(t, "[services.a]\ncommand = \"a\"\nenv.NAME = \"a\"\n"+tt.toml, nil)
			if !reflect.DeepEqual(s.Output, tt.want) {
				t.Errorf("got %+v\nwant %+v", s.Output, tt.want)
			}
			if s.LogPrefix != (tt.want.Format != FormatRaw) {
				t.Errorf("LogPrefix %v for format %s", s.LogPrefix, tt.want.Format)
			}
		})
	}
}

// TestUnoOutputDefaults: [uno] sets every service's default format, timestamps and
// passthrough; a service overrides them.
func TestUnoOutputDefaults(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"uno.toml": "[uno]\nlog_format = \"json\"\nlog_timestamps = true\njson_passthrough = true\n" +
		"[services.a]\ncommand = \"a\"\n[services.b]\ncommand = \"b\"\nlog_format = \"prefix\"\njson_passthrough = false\n"})
	if cfg.LogFormat != FormatJSON || !cfg.LogTimestamps || !cfg.JSONPassthrough {
		t.Errorf("config %s %v %v", cfg.LogFormat, cfg.LogTimestamps, cfg.JSONPassthrough)
	}
	if a := cfg.Services[0].Output; a != (Output{Format: FormatJSON, Timestamps: true, Passthrough: true}) {
		t.Errorf("a: %+v", a)
	}
	if b := cfg.Services[1].Output; b != (Output{Format: FormatPrefix, Timestamps: true}) {
		t.Errorf("b: %+v", b)
	}
}

func TestOutputErrors(t *testing.T) {
	const svc = "[services.a]\ncommand = \"a\"\n"
	tests := []struct{ toml, want string }{
		{"log_format = \"xml\"\n", `uno.toml:3: services.a.log_format: want one of prefix, raw, json, text, got "xml"`},
		{"log_format = \"json\"\nlog_prefix = false\n", `uno.toml:4: services.a.log_prefix: false contradicts log_format = "json": remove log_prefix`},
		{"log_file = \"rel.log\"\n", `uno.toml:3: services.a.log_file: must be an absolute path, got "rel.log"`},
		{"log_max_size = \"1MiB\"\n", "uno.toml:3: services.a.log_max_size: needs log_file"},
		{"log_tee = true\n", "uno.toml:3: services.a.log_tee: needs log_file"},
		{"log_file = \"/a\"\nlog_max_size = \"ten\"\n", `uno.toml:4: services.a.log_max_size: want a size such as "10MiB" or "512KiB", got "ten"`},
		{"log_file = \"/a\"\nlog_max_size = 100\n", "uno.toml:4: services.a.log_max_size: must be 0 (never rotate) or at least 4KiB"},
		{"log_file = \"/a\"\nlog_max_files = 0\n", "uno.toml:4: services.a.log_max_files: must be from 1 to 1000"},
		{"log_rate = \"fast\"\n", `uno.toml:3: services.a.log_rate: want lines per time such as "1000/s", "600/m" or "3600/h", got "fast"`},
		{"log_rate = \"0/s\"\n", `uno.toml:3: services.a.log_rate: want lines per time such as "1000/s", "600/m" or "3600/h", got "0/s"`},
		{"log_burst = 5\n", "uno.toml:3: services.a.log_burst: needs log_rate"},
		{"log_rate = \"1/s\"\nlog_burst = 0\n", "uno.toml:4: services.a.log_burst: must be at least 1"},
		{"log_timestamps = \"yes\"\n", "uno.toml:3: services.a.log_timestamps: want true or false, got a string"},
	}
	for _, tt := range tests {
		dir, _, err := loadFiles(t, map[string]string{"uno.toml": svc + tt.toml})
		if got := errorLines(dir, err); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("%q:\n got %s\nwant %s", tt.toml, strings.Join(got, "\n     "), tt.want)
		}
	}
	dir, _, err := loadFiles(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\nlog_file = \"/l/x.log\"\n[services.b]\ncommand = \"b\"\nlog_file = \"/l/../l/x.log\"\n"})
	if got := errorLines(dir, err); !slices.Equal(got, []string{"uno.toml:4: services.b.log_file: /l/x.log is also the log_file of a"}) {
		t.Errorf("shared log_file: %q", got)
	}
}

func TestLogFileDirectoryMissingWarns(t *testing.T) {
	_, cfg, err := loadFiles(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\nlog_file = \"/nonexistent/dir/a.log\"\n"})
	if err != nil {
		t.Fatal(err)
	}
	want := "uno.toml:3: services.a.log_file: /nonexistent/dir is not a directory: the lines go to uno's output until it is"
	if len(cfg.Warnings) != 1 || !strings.HasSuffix(cfg.Warnings[0], want) {
		t.Errorf("warnings %q, want %q", cfg.Warnings, want)
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "4096": 4096, "10MiB": 10 << 20, "512KiB": 512 << 10, "1GiB": 1 << 30, "100KB": 100000, "10M": 10 << 20, "7B": 7, "2 MiB": 2 << 20} {
		if got, ok := ParseSize(s); !ok || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "MiB", "-1", "1.5MiB", "1TiB", "99999999999GiB"} {
		if _, ok := ParseSize(s); ok {
			t.Errorf("ParseSize(%q) succeeded", s)
		}
	}
}

// TestLogFileMustBeARegularFile: a log_file that exists as something else than a regular file is
// an error, found by uno check: uno rotates by renaming (log_file = "/dev/null" as root would
// rename the container's /dev/null away at the first rotation) and never follows a symlink.
func TestLogFileMustBeARegularFile(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(filepath.Join(dir, "target.log"), link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	regular := filepath.Join(dir, "regular.log")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/null":   "/dev/null is a character device, not a regular file: uno rotates a log file by renaming it",
		"/dev/stdout": "/dev/stdout is a symlink, which uno does not follow at a log path: name the file itself (without log_file, lines go to uno's stdout)",
		link:          link + " is a symlink, which uno does not follow at a log path: name the file itself (without log_file, lines go to uno's stdout)",
		fifo:          fifo + " is a named pipe, not a regular file: uno rotates a log file by renaming it",
		dir:           dir + " is a directory, not a regular file: uno rotates a log file by renaming it",
	} {
		d, _, err := loadFiles(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\nlog_file = \"" + path + "\"\n"})
		if got := errorLines(d, err); !slices.Equal(got, []string{"uno.toml:3: services.a.log_file: " + want}) {
			t.Errorf("%s:\n got %q\nwant %q", path, got, want)
		}
	}
	if _, _, err := loadFiles(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\nlog_file = \"" + regular + "\"\n"}); err != nil {
		t.Errorf("a regular file: %v", err)
	}
	// In a directory another user owns, that user may have planted it, and could fail every
	// reload so: a warning (uno refuses it at run time).
	if os.Geteuid() != 0 {
		return
	}
	theirs := filepath.Join(dir, "theirs")
	if err := os.Mkdir(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(theirs, "api.log")
	if err := os.Symlink("/etc/passwd", planted); err != nil {
		t.Fatal(err)
	}
	_, cfg, err := loadFiles(t, map[string]string{"uno.toml": "[services.a]\ncommand = \"a\"\nlog_file = \"" + planted + "\"\n"})
	if err != nil {
		t.Fatalf("a symlink in another user's directory: %v", err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], planted+" is a symlink") {
		t.Errorf("warnings %q", cfg.Warnings)
	}
}
