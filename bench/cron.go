package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The cron part: uno running a crontab (uno -C) against supercronic running the same one, from
// the Go module proxy (make bench-deps installs it in bin/tools). Both get the same 10 jobs.

// cronRunner is one scheduler, started on a crontab file.
type cronRunner struct {
	name string
	// start runs it on the crontab; seconds says the file's lines have a seconds field, which
	// each writes its own way.
	start func(crontab string) *exec.Cmd
	// everySecond is the schedule of a job due every second, in the runner's syntax.
	everySecond string
}

func cronRunners(o options) []cronRunner {
	supercronic := filepath.Join(filepath.Dir(o.uno), "tools", "supercronic")
	if _, err := os.Stat(supercronic); err != nil {
		fatalf("no %s: make bench-deps installs it (go install github.com/aptible/supercronic)", supercronic)
	}
	devnull := func(cmd *exec.Cmd) *exec.Cmd { cmd.Stdout, cmd.Stderr = nil, nil; return cmd }
	return []cronRunner{
		{"uno", func(tab string) *exec.Cmd { return devnull(exec.Command(o.uno, "--no-socket", "-C", tab)) }, "* * * * * *"},
		// Its parser takes seconds first and a year last in a 7-field line.
		{"supercronic", func(tab string) *exec.Cmd { return devnull(exec.Command(supercronic, "-quiet", tab)) }, "* * * * * * *"},
	}
}

// writeCrontab writes a crontab of lines into a new directory.
func writeCrontab(lines []string) (dir, path string) {
	dir, err := os.MkdirTemp("", "uno-bench-cron-")
	must(err)
	path = filepath.Join(dir, "crontab")
	must(os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return dir, path
}

// benchCron: memory and wake-ups with 10 jobs not due, and how late a job due every second
// starts.
func benchCron(o options, r *report) {
	rss := r.metric("cron-memory", "Cron, 10 jobs not due: resident memory (RSS)", "KiB", lower, "supercronic")
	anon := r.metric("cron-memory-anon", "Cron, 10 jobs not due: anonymous memory", "KiB", lower, "supercronic")
	idle := r.metric("cron-idle", fmt.Sprintf("Cron, 10 jobs not due: wake-ups (context switches) over %v", o.idle), "switches", lower, "supercronic")
	late := r.metric("cron-latency", "Cron: start of a job due every second, after its second (wall clock, bash's $EPOCHREALTIME)", "ms", lower, "supercronic")
	late.note = "Includes the fork and bash's exec (a few ms here); the same for both."

	var quiet []string
	for i := range 10 {
		quiet = append(quiet, fmt.Sprintf("%d 3 * * * /bin/true", i))
	}
	dir, tab := writeCrontab(quiet)
	defer os.RemoveAll(dir)
	type sample struct{ rss, anon float64 }
	got := map[string][]sample{}
	for range o.rounds {
		for _, c := range shuffled(cronRunners(o)) {
			cmd := c.start(tab)
			must(cmd.Start())
			time.Sleep(500 * time.Millisecond) // past start-up
			a, b, _ := memoryOf([]int{cmd.Process.Pid})
			got[c.name] = append(got[c.name], sample{a, b})
			stopAll(cmd)
		}
	}
	for _, c := range cronRunners(o) {
		var a, b []float64
		for _, s := range got[c.name] {
			a, b = append(a, s.rss), append(b, s.anon)
		}
		rss.add(c.name, a, "")
		anon.add(c.name, b, "")
	}

	// Wake-ups: both watched over the same stretch of time.
	var cmds []*exec.Cmd
	for _, c := range cronRunners(o) {
		cmd := c.start(tab)
		must(cmd.Start())
		cmds = append(cmds, cmd)
	}
	time.Sleep(time.Second)
	before := make([]float64, len(cmds))
	for i, cmd := range cmds {
		before[i] = switches([]int{cmd.Process.Pid})
	}
	time.Sleep(o.idle)
	for i, c := range cronRunners(o) {
		idle.add(c.name, []float64{switches([]int{cmds[i].Process.Pid}) - before[i]}, "")
		stopAll(cmds[i])
	}

	// Latency: 10 runs of each, one scheduler at a time.
	for _, c := range cronRunners(o) {
		dir, err := os.MkdirTemp("", "uno-bench-cron-")
		must(err)
		stamps := filepath.Join(dir, "stamps")
		_, tab := writeCrontab([]string{c.everySecond + " bash -c 'echo $EPOCHREALTIME >> " + stamps + "'"})
		cmd := c.start(tab)
		must(cmd.Start())
		waitFor(c.name+"'s 11 runs", 60*time.Second, func() bool { return len(readStamps(stamps)) >= 11 })
		stopAll(cmd)
		var ms []float64
		for _, at := range readStamps(stamps)[1:11] { // the first may be a partial second
			ms = append(ms, (at-math.Floor(at))*1000)
		}
		late.add(c.name, ms, "")
		os.RemoveAll(dir)
		os.RemoveAll(filepath.Dir(tab))
	}
}

func readStamps(path string) []float64 {
	data, _ := os.ReadFile(path)
	var out []float64
	for _, f := range strings.Fields(string(data)) {
		if v, err := strconv.ParseFloat(f, 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}
