// Decoding where and how a service's output is written: its format, timestamps, log file with
// rotation, and rate limit; and the [uno] defaults they start from.

package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LogFormat is how output lines are written.
type LogFormat string

const (
	// FormatPrefix writes "name | line", the default.
	FormatPrefix LogFormat = "prefix"
	// FormatRaw writes the service's bytes as they came (log_prefix = false).
	FormatRaw LogFormat = "raw"
	// FormatJSON writes one JSON object per line, the service named in it.
	FormatJSON LogFormat = "json"
)

// Output is how and where one service's output goes.
type Output struct {
	Format LogFormat
	// Timestamps puts an RFC 3339 UTC time with milliseconds before prefixed lines; JSON lines
	// always have one.
	Timestamps bool
	// Passthrough merges a line that is itself a JSON object into uno's JSON object.
	Passthrough bool

	// File, when set, is where both streams are written, instead of uno's stdout and stderr
	// unless Tee.
	File string
	// MaxSize is the size at which the file is rotated; 0 never rotates.
	MaxSize int64
	// MaxFiles is how many rotated files are kept.
	MaxFiles int
	// Compress gzips rotated files in the background.
	Compress bool
	Tee      bool

	// Rate lines per RatePer are let through, after a burst of Burst lines; 0 is no limit.
	Rate    int
	RatePer time.Duration
	Burst   int
}

// Defaults of a log file.
const (
	DefaultLogMaxSize  = 10 << 20
	DefaultLogMaxFiles = 5
)

// unoOutputKeys are the [uno] keys decoded here, besides grace.
var unoOutputKeys = []string{"log_format", "log_timestamps", "json_passthrough"}

var outputKeys = []string{
	"log_prefix", "log_format", "log_timestamps", "json_passthrough", "log_file", "log_max_size",
	"log_max_files", "log_compress", "log_tee", "log_rate", "log_burst",
}

// logFormat reads a format; "text" is the name [uno] log_format had for "prefix".
func (l *loader) logFormat(file, key string, n *node) LogFormat {
	s := l.oneOf(file, key, n, string(FormatPrefix), string(FormatRaw), string(FormatJSON), "text")
	if s == "text" {
		return FormatPrefix
	}
	return LogFormat(s)
}

// unoOutput decodes [uno]'s log keys into the defaults every service's output starts from.
func (l *loader) unoOutput(cfg *Config, file string, t *table) {
	if v := t.get("log_format"); v != nil {
		cfg.LogFormat = l.logFormat(file, "uno.log_format", v)
	}
	if v := t.get("log_timestamps"); v != nil {
		cfg.LogTimestamps = l.boolean(file, "uno.log_timestamps", v, false)
	}
	if v := t.get("json_passthrough"); v != nil {
		cfg.JSONPassthrough = l.boolean(file, "uno.json_passthrough", v, false)
	}
}

// DefaultOutput is the output of a service that sets none of its log keys.
func (c *Config) DefaultOutput() Output {
	return Output{Format: c.LogFormat, Timestamps: c.LogTimestamps, Passthrough: c.JSONPassthrough}
}

// output decodes a service's log keys.
func (l *loader) output(cfg *Config, file, prefix string, get func(string) *node, env *environment) Output {
	key := func(k string) string { return prefix + k }
	o := cfg.DefaultOutput()
	if v := get("log_format"); v != nil {
		o.Format = l.logFormat(file, key("log_format"), v)
	}
	if v := get("log_prefix"); v != nil {
		// Kept from before log_format: false is raw, true the default.
		if !l.boolean(file, key("log_prefix"), v, true) {
			if f := get("log_format"); f != nil && o.Format != FormatRaw {
				l.errorf(file, v.line, key("log_prefix"), "false contradicts log_format = %q: remove log_prefix", o.Format)
			}
			o.Format = FormatRaw
		}
	}
	if v := get("log_timestamps"); v != nil {
		o.Timestamps = l.boolean(file, key("log_timestamps"), v, o.Timestamps)
	}
	if v := get("json_passthrough"); v != nil {
		o.Passthrough = l.boolean(file, key("json_passthrough"), v, o.Passthrough)
	}
	if v := get("log_file"); v != nil {
		if path, ok := l.str(file, key("log_file"), v); ok {
			o.File = filepath.Clean(l.expand(file, key("log_file"), v.line, path, env))
			if !filepath.IsAbs(o.File) {
				l.errorf(file, v.line, key("log_file"), "must be an absolute path, got %q", path)
			} else if st, err := os.Stat(filepath.Dir(o.File)); err != nil || !st.IsDir() {
				// Not an error: the service runs, its lines go to uno's output until the
				// directory exists (a volume mounted later).
				l.warnings = append(l.warnings, (&PosError{File: file, Line: v.line, Key: key("log_file"),
					Msg: filepath.Dir(o.File) + " is not a directory: the lines go to uno's output until it is"}).Error())
			} else if msg := notRegular(o.File); msg != "" {
				if plantable(filepath.Dir(o.File)) {
					// Someone else may have put it there, and may again to fail every
					// reload: a warning; uno refuses it at run time either way.
					l.warnings = append(l.warnings, (&PosError{File: file, Line: v.line, Key: key("log_file"),
						Msg: msg + "; the lines go to uno's output until it is"}).Error())
				} else {
					l.errorf(file, v.line, key("log_file"), "%s", msg)
				}
			}
		}
		o.MaxSize, o.MaxFiles = DefaultLogMaxSize, DefaultLogMaxFiles
	}
	fileOnly := []string{"log_max_size", "log_max_files", "log_compress", "log_tee"}
	for _, k := range fileOnly {
		if v := get(k); v != nil && o.File == "" {
			l.errorf(file, v.line, key(k), "needs log_file")
		}
	}
	if v := get("log_max_size"); v != nil {
		o.MaxSize = l.size(file, key("log_max_size"), v, o.MaxSize)
		if o.MaxSize > 0 && o.MaxSize < minLogMaxSize {
			l.errorf(file, v.line, key("log_max_size"), "must be 0 (never rotate) or at least 4KiB")
		}
	}
	if v := get("log_max_files"); v != nil {
		o.MaxFiles = l.integer(file, key("log_max_files"), v, o.MaxFiles)
		if o.MaxFiles < 1 || o.MaxFiles > 1000 {
			l.errorf(file, v.line, key("log_max_files"), "must be from 1 to 1000")
		}
	}
	if v := get("log_compress"); v != nil {
		o.Compress = l.boolean(file, key("log_compress"), v, false)
	}
	if v := get("log_tee"); v != nil {
		o.Tee = l.boolean(file, key("log_tee"), v, false)
	}
	if v := get("log_rate"); v != nil {
		o.Rate, o.RatePer = l.rate(file, key("log_rate"), v)
		o.Burst = o.Rate
	}
	if v := get("log_burst"); v != nil {
		if o.Rate == 0 {
			l.errorf(file, v.line, key("log_burst"), "needs log_rate")
		}
		o.Burst = l.integer(file, key("log_burst"), v, o.Burst)
		if o.Burst < 1 {
			l.errorf(file, v.line, key("log_burst"), "must be at least 1")
		}
	}
	return o
}

const minLogMaxSize = 4 << 10

// size reads a number of bytes, or a string such as "10MiB", "512KiB", "1GiB", "100KB".
func (l *loader) size(file, key string, n *node, def int64) int64 {
	if n.kind == kindInteger {
		if n.num < 0 {
			l.errorf(file, n.line, key, "must not be negative")
			return def
		}
		return n.num
	}
	s, ok := l.str(file, key, n)
	if !ok {
		return def
	}
	v, ok := ParseSize(s)
	if !ok {
		l.errorf(file, n.line, key, "want a size such as \"10MiB\" or \"512KiB\", got %q", s)
		return def
	}
	return v
}

// ParseSize reads "10MiB", "512KiB", "1GiB", "100KB", "10M" or a plain count of bytes.
func ParseSize(s string) (int64, bool) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, false
	}
	return v * mult, true
}

// rate reads "1000/s", "60/m" or "3600/h".
func (l *loader) rate(file, key string, n *node) (int, time.Duration) {
	s, ok := l.str(file, key, n)
	if !ok {
		return 0, 0
	}
	count, unit, found := strings.Cut(s, "/")
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	v, err := strconv.Atoi(count)
	if !found || per == 0 || err != nil || v < 1 {
		l.errorf(file, n.line, key, "want lines per time such as \"1000/s\", \"600/m\" or \"3600/h\", got %q", s)
		return 0, 0
	}
	return v, per
}

// checkLogFiles reports two services writing the same log file: their rotations would fight.
func (l *loader) checkLogFiles(cfg *Config) {
	seen := map[string]*Service{}
	for _, s := range cfg.Services {
		if s.Output.File == "" {
			continue
		}
		if prev := seen[s.Output.File]; prev != nil {
			l.errorf(s.File, s.Line, s.Key("log_file"), "%s is also the log_file of %s", s.Output.File, prev.Name)
			continue
		}
		seen[s.Output.File] = s
	}
}

// notRegular says why an existing path cannot be a log file, or "" if it can (or does not exist
// yet). uno rotates a log file by renaming it (as root, log_file = "/dev/null" would rename the
// container's /dev/null away) and, at run time, refuses symlinks and anything not a regular file.
func notRegular(path string) string {
	st, err := os.Lstat(path)
	if err != nil || st.Mode().IsRegular() {
		return ""
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return path + " is a symlink, which uno does not follow at a log path: name the file itself (without log_file, lines go to uno's stdout)"
	}
	kind := "not a regular file"
	switch t := st.Mode().Type(); {
	case t&fs.ModeDir != 0:
		kind = "a directory"
	case t&fs.ModeCharDevice != 0:
		kind = "a character device"
	case t&fs.ModeDevice != 0:
		kind = "a block device"
	case t&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case t&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return path + " is " + kind + ", not a regular file: uno rotates a log file by renaming it"
}

// plantable says whether someone other than uno's user may create files in dir: it belongs to
// another user, or others may write to it.
func plantable(dir string) bool {
	st, err := os.Stat(dir)
	if err != nil {
		return true
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return !ok || int(sys.Uid) != os.Geteuid() || st.Mode().Perm()&0o022 != 0
}
