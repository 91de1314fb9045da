package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The log throughput benchmark: 10 services writing lines as fast as they can, through each
// supervisor, to files; uno in three set-ups (its stdout to one file, prefixed; the same in
// JSON; a log_file per service, as supervisord and s6-log write); and, as the ceiling no
// supervisor can pass on this machine, the same 10 programs each piped into cat to its own file.

// logRunner is one way of running the 10 floods.
type logRunner struct {
	name string
	// start starts it with the services, output under outDir.
	start func(dir string, services map[string][]string, outDir string) *exec.Cmd
	// prefixed: each line in the files gets "svcN | ", so the bytes to expect are known.
	prefixed bool
	// exits: it exits once every flood has ended and its output is written; the time is taken
	// then. The others run on, and the time is that of the last byte written.
	exits bool
}

func logRunners(o options) []logRunner {
	var runners []logRunner
	for _, s := range supervisors(o) {
		runners = append(runners, logRunner{name: s.name, start: s.start, prefixed: s.name == "uno", exits: s.name == "uno"})
	}
	unoWith := func(head string, perService func(outDir, name string) string) func(string, map[string][]string, string) *exec.Cmd {
		return func(dir string, services map[string][]string, outDir string) *exec.Cmd {
			conf := head
			for _, name := range sortedKeys(services) {
				conf += fmt.Sprintf("[services.%s]\ncommand = %s\nessential = false\n%s\n", name, tomlArray(services[name]), perService(outDir, name))
			}
			path := filepath.Join(dir, "uno.toml")
			must(os.WriteFile(path, []byte(conf), 0o644))
			cmd := exec.Command(o.uno, "--no-socket", "-c", path)
			cmd.Stdout = create(filepath.Join(outDir, "all.log"))
			return cmd
		}
	}
	none := func(string, string) string { return "" }
	runners = append(runners,
		logRunner{name: "uno (json)", start: unoWith("[uno]\nlog_format = \"json\"\n", none), exits: true},
		logRunner{name: "uno (log_file)", prefixed: true, exits: true, start: unoWith("", func(outDir, name string) string {
			return fmt.Sprintf("log_file = %q\nlog_max_size = 0\n", filepath.Join(outDir, name+".log"))
		})},
		logRunner{name: "10 x cat (ceiling)", exits: true, start: func(dir string, services map[string][]string, outDir string) *exec.Cmd {
			var script strings.Builder
			for _, name := range sortedKeys(services) {
				fmt.Fprintf(&script, "%s | cat > %s &\n", shellJoin(services[name]), shellJoin([]string{filepath.Join(outDir, name+".log")}))
			}
			script.WriteString("wait\n")
			return exec.Command("/bin/sh", "-c", script.String())
		}},
	)
	return runners
}

// benchLogs: each runner o.rounds times, in a new random order each round.
func benchLogs(o options, r *report) {
	rate := r.metric("logs", fmt.Sprintf("Log throughput: 10 services x %d lines through the supervisor to files (median of %d)", o.logLines, o.rounds), "lines/s", higher, "supervisord")
	rate.note = "uno: prefixed lines to its stdout, one file; uno (json): the same in JSON; uno (log_file): a prefixed file per service, as supervisord and s6-log write. " +
		"10 x cat: each program piped into cat, no supervisor: the ceiling on this machine. Taken from the start to the last byte written (uno and cat: to their exit)."
	lost := r.metric("logs-lost", "Lines lost in those runs (worst)", "lines", lower, "supervisord")
	rss := r.metric("logs-rss", "uno's peak resident memory during the flood", "KiB", lower, "uno")
	services := map[string][]string{}
	var expectLines int
	for i := range 10 {
		name := fmt.Sprintf("svc%d", i)
		services[name] = []string{o.self, "helper", "flood", strconv.Itoa(o.logLines), name}
		expectLines += o.logLines
	}
	runners := logRunners(o)
	rates := map[string][]float64{}
	worst := map[string]float64{}
	peaks := map[string][]float64{}
	elapsedOf := map[string][]float64{}
	for range o.rounds {
		for _, s := range shuffled(runners) {
			dir, out := tempDirs()
			want := expectedBytes(o.logLines, s.prefixed)
			cmd := s.start(dir, services, out)
			start := time.Now()
			must(cmd.Start())
			exited := make(chan struct{})
			if s.exits {
				go func() { _ = cmd.Wait(); close(exited) }()
			}
			var end time.Time
			lastGrowth, lastSize := time.Now(), int64(-1)
			peak := 0.0
			for end.IsZero() {
				if s.exits {
					select {
					case <-exited:
						end = time.Now()
						continue
					default:
					}
					if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
						peak = max(peak, kvField(string(st), "VmRSS"))
					}
					if time.Since(start) > 5*time.Minute {
						fatalf("%s: still running after 5 minutes", s.name)
					}
				} else {
					size := outputBytes(out)
					switch {
					case size >= want:
						end = time.Now()
					case size != lastSize:
						lastSize, lastGrowth = size, time.Now()
					case time.Since(lastGrowth) > 5*time.Second:
						end = lastGrowth // lines lost: counted below
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := end.Sub(start)
			if s.exits {
				<-exited
			} else {
				stopAll(cmd)
			}
			lines := countLines(out)
			rates[s.name] = append(rates[s.name], float64(lines)/elapsed.Seconds())
			elapsedOf[s.name] = append(elapsedOf[s.name], elapsed.Seconds())
			worst[s.name] = max(worst[s.name], float64(expectLines-lines))
			if strings.HasPrefix(s.name, "uno") {
				peaks[s.name] = append(peaks[s.name], peak)
			}
			os.RemoveAll(dir)
			os.RemoveAll(out)
		}
	}
	for _, s := range runners {
		rate.add(s.name, rates[s.name], fmt.Sprintf("%.2f s", median(elapsedOf[s.name])))
		lost.add(s.name, []float64{worst[s.name]}, "")
		if p := peaks[s.name]; p != nil {
			rss.add(s.name, p, "")
		}
	}
}

// kvField reads "Key:   123 kB" from a /proc status text.
func kvField(status, key string) float64 {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			if f := strings.Fields(v); len(f) > 0 {
				n, _ := strconv.ParseFloat(f[0], 64)
				return n
			}
		}
	}
	return 0
}

// expectedBytes is the size of what the 10 flood helpers write, with uno's prefixes if asked.
func expectedBytes(lines int, prefixed bool) int64 {
	var total int64
	for i := range 10 {
		tag := fmt.Sprintf("svc%d", i)
		for n := range lines {
			total += int64(len(tag) + 1 + len(strconv.Itoa(n)) + 1)
		}
		if prefixed {
			total += int64(lines) * int64(len(tag)+len(" | "))
		}
	}
	return total
}

// outputBytes is the size of every output file under dir (supervisord's own log aside).
func outputBytes(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, "supervisord.log") && !strings.HasSuffix(path, "/lock") && !strings.HasSuffix(path, "/state") {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// countLines counts the newlines in every file under dir.
func countLines(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "supervisord.log") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		r := bufio.NewReaderSize(f, 1<<20)
		buf := make([]byte, 1<<20)
		for {
			k, err := r.Read(buf)
			for _, b := range buf[:k] {
				if b == '\n' {
					n++
				}
			}
			if err != nil {
				return nil
			}
		}
	})
	return n
}
