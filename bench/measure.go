package main

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchSize: the binaries as installed, and whether they are static.
func benchSize(o options, r *report) {
	m := r.metric("size", "Binary size", "KiB", lower, "tini-static")
	for _, s := range singles(o) {
		st, err := os.Stat(s.path)
		must(err)
		kind := "static"
		if f, err := elf.Open(s.path); err == nil {
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					kind = "dynamic (+ libc)"
				}
			}
			f.Close()
		}
		m.add(s.name, []float64{float64(st.Size()) / 1024}, kind)
	}
}

// benchStartup: wall time of `INIT -- /bin/true`, minus /bin/true's own.
func benchStartup(o options, r *report) {
	startupMetric(o, r, "startup", "Start-up: INIT -- /bin/true, minus /bin/true alone", true)
}

// startupMetric measures benchStartup's figure into the metric id: with subtract, minus
// /bin/true's own median; without (a busy machine, where /bin/true's own time varies more than
// any init adds, and a difference of medians can come out below zero), the whole wall time, with
// /bin/true alone as a row of its own.
func startupMetric(o options, r *report, id, title string, subtract bool) {
	type entry struct {
		name string
		argv []string
	}
	entries := []entry{{"/bin/true alone", []string{"/bin/true"}}}
	for _, s := range singles(o) {
		entries = append(entries, entry{s.name, s.args("/bin/true")})
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	must(err)
	defer devnull.Close()
	samples := map[string][]float64{}
	for range o.rounds {
		for _, e := range shuffled(entries) {
			for range o.startupRuns {
				start := time.Now()
				p, err := os.StartProcess(e.argv[0], e.argv, &os.ProcAttr{Files: []*os.File{devnull, devnull, devnull}})
				must(err)
				st, err := p.Wait()
				must(err)
				if !st.Success() {
					fatalf("%v exited %v", e.argv, st)
				}
				samples[e.name] = append(samples[e.name], float64(time.Since(start).Microseconds())/1000)
			}
		}
	}
	base := median(samples["/bin/true alone"])
	m := r.metric(id, title, "ms", lower, "tini")
	if !subtract {
		m.note = "The whole wall time of each start, /bin/true's own included: on a busy machine /bin/true's own time varies more than what an init adds."
		m.add("/bin/true alone", samples["/bin/true alone"], "no init")
		for _, s := range singles(o) {
			m.add(s.name, samples[s.name], "")
		}
		return
	}
	m.note = fmt.Sprintf("/bin/true alone: %.2f ms (median of %d runs); each figure below has it subtracted.", base, len(samples["/bin/true alone"]))
	for _, s := range singles(o) {
		v := samples[s.name]
		for i := range v {
			v[i] -= base
		}
		m.add(s.name, v, "")
	}
}

// benchMemory: resident and private memory and threads of the idle init with one sleep child;
// and of the supervisors with 10 sleeping services.
func benchMemory(o options, r *report) {
	rss := r.metric("memory", "Memory, idle, one `sleep` child: resident (RSS)", "KiB", lower, "tini")
	priv := r.metric("memory-anon", "Memory, idle, one `sleep` child: anonymous (heap and stacks)", "KiB", lower, "tini")
	priv.note = "Anonymous memory is what each instance adds. The rest of the resident set is the binary's own pages, which every instance on a node shares through the page cache."
	threads := r.metric("threads", "Threads, idle, one `sleep` child", "threads", lower, "tini")
	type sample struct{ rss, priv, threads float64 }
	got := map[string][]sample{}
	for range o.rounds {
		for _, s := range shuffled(singles(o)) {
			cmd := exec.Command(s.args("/bin/sleep", "1000")[0], s.args("/bin/sleep", "1000")[1:]...)
			must(cmd.Start())
			waitFor(s.name+"'s child", 5*time.Second, func() bool { return len(children(cmd.Process.Pid)) > 0 })
			time.Sleep(200 * time.Millisecond) // let it settle: lazy work after the start
			a, b, c := memoryOf([]int{cmd.Process.Pid})
			got[s.name] = append(got[s.name], sample{a, b, c})
			stopAll(cmd)
		}
	}
	for _, s := range singles(o) {
		var a, b, c []float64
		for _, x := range got[s.name] {
			a, b, c = append(a, x.rss), append(b, x.priv), append(c, x.threads)
		}
		rss.add(s.name, a, "")
		priv.add(s.name, b, "")
		threads.add(s.name, c, "")
	}

	svcRSS := r.metric("memory-services", "Memory with 10 sleeping services: resident, all of the supervisor's processes", "KiB", lower, "supervisord")
	svcPriv := r.metric("memory-services-anon", "Memory with 10 sleeping services: anonymous, all of the supervisor's processes", "KiB", lower, "supervisord")
	svcThreads := r.metric("threads-services", "Threads with 10 sleeping services, all of the supervisor's processes", "threads", lower, "supervisord")
	gotSvc := map[string][]sample{}
	for range o.rounds {
		for _, s := range shuffled(supervisors(o)) {
			cmd, dir, out := startSleepers(s, "1000")
			time.Sleep(500 * time.Millisecond)
			a, b, c := memoryOf(s.processes(cmd))
			gotSvc[s.name] = append(gotSvc[s.name], sample{a, b, c})
			stopAll(cmd)
			os.RemoveAll(dir)
			os.RemoveAll(out)
		}
	}
	for _, s := range supervisors(o) {
		var a, b, c []float64
		for _, x := range gotSvc[s.name] {
			a, b, c = append(a, x.rss), append(b, x.priv), append(c, x.threads)
		}
		note := ""
		if s.name == "s6" {
			note = "s6-svscan + 20 s6-supervise (services and their loggers)"
		}
		svcRSS.add(s.name, a, note)
		svcPriv.add(s.name, b, note)
		svcThreads.add(s.name, c, note)
	}
}

// memoryOf sums VmRSS, anonymous memory (smaps_rollup) and threads over pids, in KiB.
// Anonymous rather than "private": a binary's file pages count as private while one process maps
// them, and as dirty until a fresh build is written back, neither of which is what an instance
// costs.
func memoryOf(pids []int) (rss, anon, threads float64) {
	for _, pid := range pids {
		status := readKV(fmt.Sprintf("/proc/%d/status", pid))
		rss += status["VmRSS"]
		threads += status["Threads"]
		rollup := readKV(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		anon += rollup["Anonymous"]
	}
	return
}

// readKV reads "Key:   123 kB" lines.
func readKV(path string) map[string]float64 {
	out := map[string]float64{}
	data, err := os.ReadFile(path)
	must(err)
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if f := strings.Fields(v); len(f) > 0 {
			if n, err := strconv.ParseFloat(f[0], 64); err == nil {
				out[k] = n
			}
		}
	}
	return out
}

func countComm(pid int, name string) int {
	n := 0
	for _, d := range descendants(pid) {
		if comm(d) == name {
			n++
		}
	}
	return n
}

// startSleepers starts supervisor s with 10 services that sleep for the given seconds, and
// returns once all 10 run.
func startSleepers(s supervisor, seconds string) (cmd *exec.Cmd, dir, out string) {
	services := map[string][]string{}
	for i := range 10 {
		services[fmt.Sprintf("svc%d", i)] = []string{"/bin/sleep", seconds}
	}
	dir, out = tempDirs()
	cmd = s.start(dir, services, out)
	must(cmd.Start())
	waitFor(s.name+"'s 10 sleeps", 20*time.Second, func() bool { return countComm(cmd.Process.Pid, "sleep") >= 10 })
	return cmd, dir, out
}

func tempDirs() (string, string) {
	dir, err := os.MkdirTemp("", "uno-bench-")
	must(err)
	out, err := os.MkdirTemp("", "uno-bench-out-")
	must(err)
	return dir, out
}

// benchReaping: orphans that exit at once, reaped by the init as PID 1 of a PID namespace.
func benchReaping(o options, r *report) {
	m := r.metric("reaping", fmt.Sprintf("Reaping %d orphans that exit at once, as PID 1", o.orphans), "ms", lower, "tini")
	got := map[string][]float64{}
	// The figures vary a lot from one run to the next (the kernel's work for 10,000 exits is in
	// each), and they have two modes, about 0.5 s and 1.4 s on the 2-CPU VM, for every init, the
	// Go floor and tini included: three times the rounds of the others, so that the median is
	// not a coin toss between the modes.
	for range 3 * o.rounds {
		for _, s := range shuffled(singles(o)) {
			argv := append([]string{"--pid", "--fork", "--mount-proc"}, s.args(o.self, "helper", "orphans", strconv.Itoa(o.orphans))...)
			out, err := exec.Command("unshare", argv...).Output()
			if err != nil {
				fatalf("%s: reaping: %v\n%s", s.name, err, out)
			}
			var n, us int
			if _, err := fmt.Sscanf(lastLine(string(out)), "reaped %d %d", &n, &us); err != nil {
				fatalf("%s: reaping: %q", s.name, out)
			}
			got[s.name] = append(got[s.name], float64(us)/1000)
		}
	}
	m.note = "From the moment the orphans' pipe closes to the moment /proc shows only the init and the helper; the kernel's own work for 10,000 exits is in every figure."
	for _, s := range singles(o) {
		m.add(s.name, got[s.name], "")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// benchSignals: from kill(init, SIGUSR1) to the program's handler answering.
func benchSignals(o options, r *report) {
	signalMetrics(o, r, "", "", o.signals)
}

// signalMetrics measures benchSignals' figures from n signals per init into the metrics
// signal-p50 and signal-p99 with suffix added to their ids and where to their titles.
func signalMetrics(o options, r *report, suffix, where string, n int) {
	p50 := r.metric("signal-p50"+suffix, fmt.Sprintf("Signal latency%s, kill(init) to the program's handler, median of %d", where, n), "µs", lower, "tini")
	p99 := r.metric("signal-p99"+suffix, fmt.Sprintf("Signal latency%s, 99th percentile of %d", where, n), "µs", lower, "tini")
	got := map[string][]float64{}
	per := max(n/o.rounds, 1)
	for range o.rounds {
		for _, s := range shuffled(singles(o)) {
			argv := s.args(o.self, "helper", "sigrecv")
			cmd := exec.Command(argv[0], argv[1:]...)
			out, err := cmd.StdoutPipe()
			must(err)
			must(cmd.Start())
			buf := make([]byte, 1)
			if _, err := io.ReadFull(out, buf); err != nil || buf[0] != 'r' {
				fatalf("%s: sigrecv did not start: %v", s.name, err)
			}
			for range per {
				start := time.Now()
				must(syscall.Kill(cmd.Process.Pid, syscall.SIGUSR1))
				if _, err := io.ReadFull(out, buf); err != nil {
					fatalf("%s: no answer to a signal: %v", s.name, err)
				}
				got[s.name] = append(got[s.name], float64(time.Since(start).Nanoseconds())/1000)
			}
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	for _, s := range singles(o) {
		v := got[s.name]
		p50.add(s.name, []float64{percentile(v, 50)}, "")
		p99.add(s.name, []float64{percentile(v, 99)}, "")
	}
}

// benchStop: SIGTERM to exit, with 10 services that stop at once on SIGTERM.
func benchStop(o options, r *report) {
	m := r.metric("stop", "Stop: SIGTERM to exit, 10 services that stop promptly", "ms", lower, "supervisord")
	got := map[string][]float64{}
	for range o.rounds {
		for _, s := range shuffled(supervisors(o)) {
			cmd, dir, out := startSleepers(s, "1000")
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			start := time.Now()
			must(cmd.Process.Signal(syscall.SIGTERM))
			select {
			case <-exited:
				got[s.name] = append(got[s.name], float64(time.Since(start).Microseconds())/1000)
			case <-time.After(30 * time.Second):
				fatalf("%s did not exit within 30s of SIGTERM", s.name)
			}
			for _, p := range descendants(cmd.Process.Pid) {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			os.RemoveAll(dir)
			os.RemoveAll(out)
		}
	}
	for _, s := range supervisors(o) {
		m.add(s.name, got[s.name], "")
	}
}

// benchIdle: context switches of idle inits over the same stretch of time.
func benchIdle(o options, r *report) {
	m := r.metric("idle", fmt.Sprintf("Wake-ups when idle: context switches over %v", o.idle), "switches", lower, "tini")
	type watched struct {
		name string
		cmd  *exec.Cmd
		pids func() []int
		dirs []string
	}
	var all []watched
	for _, s := range singles(o) {
		argv := s.args("/bin/sleep", "100000")
		cmd := exec.Command(argv[0], argv[1:]...)
		must(cmd.Start())
		all = append(all, watched{name: s.name, cmd: cmd, pids: func() []int { return []int{cmd.Process.Pid} }})
	}
	for _, s := range supervisors(o) {
		cmd, dir, out := startSleepers(s, "100000")
		procs := s.processes
		all = append(all, watched{name: s.name + " (10 services)", cmd: cmd, pids: func() []int { return procs(cmd) }, dirs: []string{dir, out}})
	}
	time.Sleep(time.Second) // past start-up
	before := map[string]float64{}
	for _, w := range all {
		before[w.name] = switches(w.pids())
	}
	time.Sleep(o.idle)
	for _, w := range all {
		m.add(w.name, []float64{switches(w.pids()) - before[w.name]}, "")
		stopAll(w.cmd)
		for _, d := range w.dirs {
			os.RemoveAll(d)
		}
	}
}

// switches sums voluntary and involuntary context switches over every thread of pids.
func switches(pids []int) float64 {
	total := 0.0
	for _, pid := range pids {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, t := range tasks {
			kv := readKV(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
			total += kv["voluntary_ctxt_switches"] + kv["nonvoluntary_ctxt_switches"]
		}
	}
	return total
}

func median(v []float64) float64 { return percentile(v, 50) }

func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
