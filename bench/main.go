// Command bench measures uno side by side with the peers it replaces (tini, dumb-init,
// catatonit for one program; supervisord and s6 for several services), in one run, interleaved,
// over several rounds, and writes docs/benchmarks.md and its chart.
//
// It is also the program the inits run ("bench helper ..."), so that every init runs the same
// code. `make bench` builds it, installs the peers from Debian, and runs it as root (the
// reaping benchmark needs a PID namespace).
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

type options struct {
	uno, self   string
	gofloor     string
	rounds      int
	startupRuns int
	orphans     int
	signals     int
	logLines    int
	idle        time.Duration
	out, chart  string
	only        string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "helper" {
		runHelper(os.Args[2:])
		return
	}
	var o options
	flag.StringVar(&o.uno, "uno", "bin/uno", "the uno binary to measure")
	flag.StringVar(&o.gofloor, "gofloor", "bin/gofloor", "bench/gofloor, the smallest Go init, built as uno is")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds; the inits take turns in a new random order each round")
	flag.IntVar(&o.startupRuns, "startup-runs", 40, "start-ups of each init per round")
	flag.IntVar(&o.orphans, "orphans", 10000, "orphans to reap at once")
	flag.IntVar(&o.signals, "signals", 10000, "signals per init for the latency")
	flag.IntVar(&o.logLines, "log-lines", 1000000, "lines per service (10 services) for the log throughput")
	flag.DurationVar(&o.idle, "idle", 60*time.Second, "how long the idle inits are watched")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "the report")
	flag.StringVar(&o.chart, "chart", "docs/benchmarks.svg", "the chart")
	flag.StringVar(&o.only, "only", "", "run only this benchmark (size, startup, startup-services, memory, reaping, signals, stop, logs, idle, cron, busy)")
	flag.Parse()
	self, err := os.Executable()
	if err != nil {
		fatalf("%v", err)
	}
	o.self = self
	if o.uno, err = filepath.Abs(o.uno); err != nil {
		fatalf("%v", err)
	}
	if o.gofloor, err = filepath.Abs(o.gofloor); err != nil {
		fatalf("%v", err)
	}
	// uno's control socket (opened 20 ms after the program starts) in a directory of the run's
	// own: at the default /run/uno/uno.sock, other uno ctl clients on a shared machine reach the
	// uno under measurement (seen: 285 idle wake-ups a minute, all of them accept(2)s).
	sockDir, err := os.MkdirTemp("", "uno-bench-sock-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(sockDir)
	os.Setenv("UNO_SOCKET", filepath.Join(sockDir, "uno.sock"))
	if os.Geteuid() != 0 {
		fatalf("run as root: the reaping benchmark needs a PID namespace (make bench does)")
	}
	// A binary fresh from the build has dirty page-cache pages, which inflate its memory figures.
	syscall.Sync()
	began := time.Now()
	r := &report{machine: describeMachine(o)}
	steps := []struct {
		name string
		run  func(options, *report)
	}{
		{"size", benchSize},
		{"startup", benchStartup},
		{"startup-services", benchServicesStartup},
		{"memory", benchMemory},
		{"reaping", benchReaping},
		{"signals", benchSignals},
		{"stop", benchStop},
		{"logs", benchLogs},
		{"idle", benchIdle},
		{"cron", benchCron},
		{"busy", benchBusy},
	}
	for _, s := range steps {
		if o.only != "" && o.only != s.name {
			continue
		}
		t := time.Now()
		fmt.Fprintf(os.Stderr, "bench: %s...\n", s.name)
		s.run(o, r)
		fmt.Fprintf(os.Stderr, "bench: %s done in %v\n", s.name, time.Since(t).Round(time.Millisecond))
	}
	r.duration = time.Since(began)
	if o.only != "" {
		r.print(os.Stdout)
		return
	}
	if err := r.write(o.out, o.chart); err != nil {
		fatalf("%v", err)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s and %s in %v\n", o.out, o.chart, r.duration.Round(time.Second))
}

// shuffled returns the items in a new random order, so that no init always runs first (cold
// caches) or right after another (its leftovers).
func shuffled[T any](items []T) []T {
	out := append([]T(nil), items...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
