package e2e

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Cron jobs (type = "cron") run by the real binary as PID 1. Each run's script appends marks;
// times come from bash's $$EPOCHREALTIME (the wall clock, microseconds), written as the run's
// first command, so that a measured lateness includes uno's wake-up, the fork and bash's exec.

func needBash(t *testing.T) {
	t.Helper()
	if _, err := lookPath("bash"); err != nil {
		t.Skip("bash not installed: make test-deps installs it")
	}
}

// markTimes returns the times of the marks "TAG@EPOCHREALTIME", in file order.
func markTimes(t *testing.T, marks, tag string) []float64 {
	t.Helper()
	var out []float64
	for _, m := range readMarks(t, marks) {
		if v, ok := strings.CutPrefix(m, tag+"@"); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("mark %q: %v", m, err)
			}
			out = append(out, f)
		}
	}
	return out
}

// countMarks counts the marks equal to mark.
func countMarks(t *testing.T, marks, mark string) int {
	t.Helper()
	n := 0
	for _, m := range readMarks(t, marks) {
		if m == mark {
			n++
		}
	}
	return n
}

// TestCronPerSecondOnTime: a job due every second is started (forked by uno) within 100 ms of
// each second, ten seconds in a row, none skipped or run twice. The fork's time is the run's
// process start time (/proc/PID/stat, 10 ms ticks of the boot clock, put on the wall clock by
// the test); the time bash reads once it runs ($EPOCHREALTIME) adds the exec and bash's own
// start, which a loaded machine can stretch past 100 ms without uno being late: it is reported
// and bounded by the second only.
func TestCronPerSecondOnTime(t *testing.T) {
	needRoot(t)
	needBash(t)
	tick := stampScript(t, "tick")
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.tick]
type = "cron"
schedule = "* * * * * *"
command = ["bash", "`+tick+`"]
`)
	stall := watchStalls()
	poll(t, "10 runs", func() bool { return countPrefix(t, marks, "tick@") >= 11 })
	worstStall := stall()
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
	runs := stamps(t, marks, "tick")
	// The first run may have been due in the second uno started in: it is left out.
	runs = runs[1:11]
	worstFork, worstExec := 0.0, 0.0
	for i, r := range runs {
		second := dueSecond(r[0])
		fork, exec := r[0]-second, r[1]-second
		worstFork, worstExec = max(worstFork, fork), max(worstExec, exec)
		// 10 ms for the start time's resolution, and as much for placing it on the wall clock;
		// and what the machine itself delayed the test by meanwhile, three times over (the
		// timer's goroutine, the supervisor's, the fork): a loaded machine delays uno as much,
		// which says nothing of uno.
		if bound := 0.12 + 3*worstStall.Seconds(); fork >= bound || fork < -0.02 {
			t.Errorf("run %d forked %.0f ms after its second (bound %.0f ms with the machine's stalls of up to %v)", i+1, fork*1000, bound*1000, worstStall)
		}
		if i > 0 && second-dueSecond(runs[i-1][0]) != 1 {
			t.Errorf("run %d in second %.0f, the one before in %.0f: want consecutive seconds", i+1, second, dueSecond(runs[i-1][0]))
		}
	}
	t.Logf("10 runs: forked at most %.0f ms after their second (10 ms ticks), bash running at most %.1f ms after it; the test's own worst stall meanwhile %v", worstFork*1000, worstExec*1000, worstStall)
}

// stampScript writes a job that marks "TAG@EXEC@TICKS": the wall time bash reads once it runs,
// and its process's start (the fork) in 10 ms ticks of the boot clock, from /proc/self/stat as
// bash itself reads it.
func stampScript(t *testing.T, tag string) string {
	t.Helper()
	return script(t, t.TempDir(), tag+".sh", `read -r stat < /proc/self/stat
f=(${stat##*) })
echo "`+tag+`@$EPOCHREALTIME@${f[19]}" >> "$MARKS"
`)
}

// stamps reads stampScript's marks as [fork, exec] wall times, in file order.
func stamps(t *testing.T, marks, tag string) [][2]float64 {
	t.Helper()
	// The boot clock's offset from the wall clock, to place the start ticks.
	var boot unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot); err != nil {
		t.Fatal(err)
	}
	offset := float64(time.Now().UnixNano())/1e9 - float64(boot.Nano())/1e9
	var runs [][2]float64
	for _, m := range readMarks(t, marks) {
		parts := strings.Split(m, "@")
		if len(parts) != 3 || parts[0] != tag {
			continue
		}
		exec, err1 := strconv.ParseFloat(parts[1], 64)
		ticks, err2 := strconv.ParseFloat(parts[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("mark %q", m)
		}
		runs = append(runs, [2]float64{ticks/100 + offset, exec})
	}
	return runs
}

// watchStalls measures how late the machine wakes the test from 5 ms sleeps, until the returned
// function is called, which gives the worst lateness seen: a bound on timing that a loaded
// machine would break for any program.
func watchStalls() func() time.Duration {
	stop := make(chan struct{})
	worst := make(chan time.Duration)
	go func() {
		var w time.Duration
		for {
			select {
			case <-stop:
				worst <- w
				return
			default:
			}
			start := time.Now()
			time.Sleep(5 * time.Millisecond)
			w = max(w, time.Since(start)-5*time.Millisecond)
		}
	}()
	return func() time.Duration { close(stop); return <-worst }
}

// dueSecond is the second a run forked at fork (as stamps places it, within 20 ms) was due in:
// a fork is never early, so one that appears a little before a second belongs to it.
func dueSecond(fork float64) float64 { return math.Floor(fork + 0.03) }

// countPrefix counts the marks that start with prefix.
func countPrefix(t *testing.T, marks, prefix string) int {
	t.Helper()
	n := 0
	for _, m := range readMarks(t, marks) {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// TestCronConcurrency runs a job that outlasts its 1 s period under each policy.
func TestCronConcurrency(t *testing.T) {
	needRoot(t)
	needBash(t)
	_, marks, socket, _ := startControlled(t, `
[uno]
grace = "5s"

[services.forbid]
type = "cron"
schedule = "* * * * * *"
command = ["bash", "-c", "echo f-start >> $MARKS; sleep 2.5; echo f-end >> $MARKS"]

[services.allow]
type = "cron"
schedule = "* * * * * *"
concurrency = "allow"
command = ["bash", "-c", "echo a-start >> $MARKS; sleep 2.5; echo a-end >> $MARKS"]

[services.replace]
type = "cron"
schedule = "* * * * * *"
concurrency = "replace"
command = ["bash", "-c", "trap 'echo r-term >> $MARKS; exit 0' TERM; echo r-start >> $MARKS; sleep 5 & wait; echo r-end >> $MARKS"]
`)
	poll(t, "two forbid runs and three replace runs", func() bool {
		return countMarks(t, marks, "f-end") >= 2 && countMarks(t, marks, "r-start") >= 3
	})
	got := readMarks(t, marks)
	// forbid: runs never overlap.
	going := 0
	for _, m := range got {
		switch m {
		case "f-start":
			going++
			if going > 1 {
				t.Errorf("forbid: two runs at once: %q", got)
			}
		case "f-end":
			going--
		}
	}
	st := statusOf(t, socket)["forbid"]
	if st.Cron == nil || st.Cron.Skips < 2 {
		t.Errorf("forbid: want at least 2 skips counted, got %+v", st.Cron)
	}
	// allow: a second run starts while the first goes.
	if i := slices.Index(got, "a-end"); i < 0 || countMarks(t, marks, "a-start") < 2 ||
		!slices.Contains(got[:max(i, 0)], "a-start") || slices.Index(got[slices.Index(got, "a-start")+1:], "a-start") > i {
		t.Errorf("allow: want a second a-start before the first a-end: %q", got)
	}
	// replace: each run is stopped (TERM) before the next starts, and none ends by itself.
	var rs []string
	for _, m := range got {
		if strings.HasPrefix(m, "r-") {
			rs = append(rs, m)
		}
	}
	for i := 1; i < len(rs); i++ {
		if rs[i] == "r-start" && rs[i-1] != "r-term" {
			t.Errorf("replace: a run started while the last one went: %q", rs)
		}
	}
	if slices.Contains(rs, "r-end") {
		t.Errorf("replace: a run ended by itself, so it was not replaced: %q", rs)
	}
}

// TestCronTimeout: a run past its timeout gets its stop signal and, ignoring it, SIGKILL after
// stop_timeout, with its children; it counts as a timeout and a failure.
func TestCronTimeout(t *testing.T) {
	needRoot(t)
	needBash(t)
	dir := t.TempDir()
	job := script(t, dir, "hung.sh", `
trap '' TERM
bash -c 'trap "" TERM; `+hostPid+` > `+dir+`/child; exec sleep 1000' &
`+hostPid+` > `+dir+`/job
echo started >> "$MARKS"
wait
`)
	p, marks, socket, _ := startControlled(t, `
[uno]
grace = "5s"

[services.hung]
type = "cron"
schedule = "@yearly"
run_on_start = true
timeout = "500ms"
stop_timeout = "500ms"
command = ["bash", "`+job+`"]
`)
	waitMark(t, marks, "started")
	jobPid := readPid(t, filepath.Join(dir, "job"))
	child := readPid(t, filepath.Join(dir, "child"))
	if !alive(child) {
		t.Fatalf("the job's child %d is not running: the test cannot tell that the timeout killed it", child)
	}
	st := waitState(t, socket, "hung", "scheduled")
	if alive(jobPid) {
		t.Errorf("the job's process %d is still alive", jobPid)
	}
	// Both ignore SIGTERM: only the SIGKILL to the run's process group, at stop_timeout, ends
	// the child (a zombie until uno reaps it counts as dead).
	poll(t, "the job's child gone", func() bool { return !alive(child) })
	if st.Cron == nil || st.Cron.Timeouts != 1 || st.Cron.Failures != 1 || st.Cron.LastRun == nil ||
		!strings.Contains(st.Cron.LastRun.Result, "SIGKILL") {
		t.Errorf("want one timeout, one failure, a last run killed by SIGKILL: %+v %+v", st.Cron, st.Cron.LastRun)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
	if !strings.Contains(p.stderr.String(), "cron run timed out; stopping it") {
		t.Errorf("no timeout line in uno's log:\n%s", p.stderr.String())
	}
}

// hostPid is bash that prints the shell's own pid as the host sees it (the first field of NSpid):
// the test's /proc is the host's, read here by bash itself through a redirection (a child such as
// grep reading /proc/self would give its own pid).
const hostPid = `while read -r k v rest; do if [ "$k" = NSpid: ]; then echo "$v"; fi; done < /proc/self/status`

// script writes a shell script for a job to run, and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// readPid reads a pid a job wrote (as the host sees it: NSpid's first field).
func readPid(t *testing.T, path string) int {
	t.Helper()
	var data []byte
	poll(t, path, func() bool {
		var err error
		data, err = os.ReadFile(path)
		return err == nil && strings.HasSuffix(string(data), "\n")
	})
	return atoiT(t, strings.TrimSpace(string(data)))
}

// TestCronOrphansReapedBeforeNextRun: what a run leaves behind in a session of its own (out of
// reach of the group's SIGTERM) is reaped by uno once it exits, before the next run.
func TestCronOrphansReapedBeforeNextRun(t *testing.T) {
	needRoot(t)
	needBash(t)
	if _, err := lookPath("setsid"); err != nil {
		t.Skip("setsid not installed (util-linux)")
	}
	both(t, func(t *testing.T, m mode) {
		dir := t.TempDir()
		leaver := script(t, dir, "leaver.sh", `
for pid in $(cat `+dir+`/orphans 2>/dev/null); do
  echo checked >> "$MARKS"
  state=$(cut -d' ' -f3 /proc/$pid/stat 2>/dev/null) && echo "left-$pid-$state" >> "$MARKS"
done
: > `+dir+`/orphans
for i in 1 2 3; do setsid bash -c '`+hostPid+` >> `+dir+`/orphans; exec sleep 0.2' & done
# Until the three are in sessions of their own: the run's end sends its group SIGTERM.
while [ "$(wc -l < `+dir+`/orphans)" -lt 3 ]; do sleep 0.01; done
# The pids are the host's, of the orphans themselves (bash, or the sleep it became).
for pid in $(cat `+dir+`/orphans); do read -r c < /proc/$pid/comm && echo "comm-$c" >> "$MARKS"; done
echo run >> "$MARKS"
`)
		p, marks := startServices(t, startOpts{mode: m}, `
[services.leaver]
type = "cron"
schedule = "* * * * * *"
command = ["bash", "`+leaver+`"]
`)
		poll(t, "5 runs", func() bool { return countMarks(t, marks, "run") >= 5 })
		p.signal(syscall.SIGTERM)
		p.expectExit(0)
		noBug(t, p)
		if n := countMarks(t, marks, "comm-bash") + countMarks(t, marks, "comm-sleep"); n < 9 {
			t.Errorf("%d orphans seen as bash or sleep when they were started, want 9 (3 a run, in 3 of the 5 runs at least: an orphan may be gone already): %q", n, readMarks(t, marks))
		}
		if n := countMarks(t, marks, "checked"); n < 12 {
			t.Errorf("the runs checked %d orphans of the runs before them, want at least 12: %q", n, readMarks(t, marks))
		}
		for _, mark := range readMarks(t, marks) {
			if strings.HasPrefix(mark, "left-") {
				if strings.HasSuffix(mark, "-Z") {
					t.Errorf("an orphan of the last run was an unreaped zombie when the next run started: %s", mark)
				} else {
					t.Logf("an orphan still ran when the next run started (a slow machine): %s", mark)
				}
			}
		}
	})
}

// TestCronSIGTERMDuringRun: SIGTERM to uno while a run goes sends the run its stop signal, and
// uno waits for it; no job starts once the stop began, although one is due every second.
func TestCronSIGTERMDuringRun(t *testing.T) {
	needRoot(t)
	needBash(t)
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[uno]
grace = "10s"

[services.long]
type = "cron"
schedule = "@yearly"
run_on_start = true
command = ["bash", "-c", "trap 'sleep 1.5; echo long-term >> $MARKS; exit 3' TERM; echo long-start >> $MARKS; sleep 1000 & wait"]

[services.tick]
type = "cron"
schedule = "* * * * * *"
command = ["bash", "-c", "echo tick >> $MARKS"]
`)
	waitMark(t, marks, "long-start")
	waitMark(t, marks, "tick")
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
	if countMarks(t, marks, "long-term") != 1 {
		t.Errorf("the run did not get its stop signal: %q", readMarks(t, marks))
	}
	log := p.stderr.String()
	i := strings.Index(log, "stopping services")
	if i < 0 {
		t.Fatalf("no stop in the log:\n%s", log)
	}
	if strings.Contains(log[i:], "service started") {
		t.Errorf("a run started once the stop began:\n%s", log[i:])
	}
	if !regexp.MustCompile(`service stopped service=long .*status="exit 3"`).MatchString(log) {
		t.Errorf("the run's end is not logged with its status:\n%s", log)
	}
}

// TestCronCtlRun: uno ctl run starts a run now; it refuses a service that is not a job, and a
// second run of a forbid job while one goes.
func TestCronCtlRun(t *testing.T) {
	needRoot(t)
	needBash(t)
	p, marks, socket, _ := startControlled(t, `
[services.report]
type = "cron"
schedule = "0 3 * * *"
timezone = "Europe/Warsaw"
command = ["bash", "-c", "echo report >> $MARKS; sleep 1"]

[services.web]
command = ["sleep", "1000"]
`)
	st := waitState(t, socket, "report", "scheduled")
	if st.Cron == nil || st.Cron.NextRun.IsZero() || st.Cron.Timezone != "Europe/Warsaw" {
		t.Fatalf("status of a scheduled job: %+v", st.Cron)
	}
	if warsaw, err := time.LoadLocation("Europe/Warsaw"); err == nil {
		if next := st.Cron.NextRun.In(warsaw); next.Hour() != 3 || next.Minute() != 0 {
			t.Errorf("next run %v, want 03:00 in Warsaw", next)
		}
	}
	r := runCtl(t, socket, "run", "report")
	if r.code != 0 || !strings.Contains(r.stdout, "started a run of report") {
		t.Fatalf("ctl run: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runCtl(t, socket, "run", "report")
	if r.code != 1 || !strings.Contains(r.stderr, "concurrency is forbid") {
		t.Errorf("a second ctl run during a forbid run: %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitMark(t, marks, "report")
	st = waitState(t, socket, "report", "scheduled")
	if st.Cron.Runs != 1 || st.Cron.Failures != 0 || st.Cron.LastRun == nil || st.Cron.LastRun.Result != "success" {
		t.Errorf("after one run: %+v %+v", st.Cron, st.Cron.LastRun)
	}
	r = runCtl(t, socket, "run", "web")
	if r.code != 1 || !strings.Contains(r.stderr, "not a cron job") {
		t.Errorf("ctl run of a simple service: %d %q", r.code, r.stderr)
	}
	r = runCtl(t, socket, "status")
	if !regexp.MustCompile(`(?m)^report\s+0 3 \* \* \* \(Europe/Warsaw\)\s+\S+ \d\d:\d\d:\d\d\s+\S+ \S+\s+\S+\s+success\s+1\s+0\s+0\s+0$`).MatchString(r.stdout) {
		t.Errorf("ctl status lacks the job's table:\n%s", r.stdout)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
}

// TestCronCrontab: uno -C runs a plain crontab: environment lines, "# name:" comments, a
// seconds field, commands under /bin/sh; and crontab = in a configuration file does the same.
func TestCronCrontab(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	marks := filepath.Join(dir, "marks")
	tab := filepath.Join(dir, "jobs.crontab")
	if err := os.WriteFile(tab, []byte(`# a comment
GREETING = "hello world"
# name: greet
* * * * * * echo "$GREETING" | tr ' ' - >> `+marks+`
@every 1s echo every >> `+marks+`
`), 0o644); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(socketDir(t), "uno.sock")
	p := startUno(t, startOpts{mode: asPID1}, "-C", tab, "--socket", socket)
	waitMark(t, marks, "hello-world")
	waitMark(t, marks, "every")
	st := statusOf(t, socket)
	if _, ok := st["greet"]; !ok {
		t.Errorf("no job named greet: %v", st)
	}
	if _, ok := st["jobs-5"]; !ok {
		t.Errorf("no job named jobs-5 (file and line): %v", st)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)

	// crontab = "FILE" in uno.toml, beside a service.
	cfgPath, marks2 := servicesSetup(t, `
crontab = "tab"

[services.web]
command = ["sleep", "1000"]
`)
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfgPath), "tab"), []byte("* * * * * * echo from-tab >> $MARKS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = startUno(t, startOpts{mode: asPID1, env: []string{"MARKS=" + marks2}}, "-c", cfgPath, "--no-socket")
	waitMark(t, marks2, "from-tab")
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
}

// TestCronRunOnStartAndJitter: run_on_start runs at once; jitter delays each run by up to its
// bound (measured from the second the run was due), and does spread them.
func TestCronRunOnStartAndJitter(t *testing.T) {
	needRoot(t)
	needBash(t)
	start := float64(time.Now().UnixMicro()) / 1e6
	spreadJob := stampScript(t, "spread")
	p, marks := startServices(t, startOpts{mode: asPID1}, `
[services.first]
type = "cron"
schedule = "@yearly"
run_on_start = true
command = ["bash", "-c", "echo first@$$EPOCHREALTIME >> $MARKS"]

[services.spread]
type = "cron"
schedule = "* * * * * *"
jitter = "400ms"
command = ["bash", "`+spreadJob+`"]
`)
	stall := watchStalls()
	poll(t, "8 jittered runs", func() bool { return countPrefix(t, marks, "spread@") >= 9 })
	worstStall := stall()
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
	first := markTimes(t, marks, "first")
	if len(first) != 1 {
		t.Fatalf("run_on_start: want one run of a yearly job, got %v", first)
	}
	t.Logf("run_on_start ran %.0f ms after uno was started", (first[0]-start)*1000)
	spread := 0.0
	for _, r := range stamps(t, marks, "spread")[1:9] {
		late := r[0] - dueSecond(r[0])
		// 400 ms of jitter, and the bound of TestCronPerSecondOnTime.
		if bound := 0.52 + 3*worstStall.Seconds(); late >= bound {
			t.Errorf("a run forked %.0f ms after its second, past jitter + 100 ms (bound %.0f ms with the machine's stalls of up to %v)", late*1000, bound*1000, worstStall)
		}
		spread = max(spread, late)
	}
	if spread < 0.05 {
		t.Errorf("8 runs all forked within 50 ms of their second: the jitter did not spread them")
	}
	t.Logf("8 jittered runs forked up to %.0f ms after their second", spread*1000)
}

// TestCronIdleWakeUps: with jobs scheduled but none due, uno sleeps: its threads switch (almost)
// never. A timer ticking each second, or one goroutine per job polling, would switch at least
// once a second.
func TestCronIdleWakeUps(t *testing.T) {
	needRoot(t)
	var conf strings.Builder
	for i := range 10 {
		conf.WriteString("[services.job" + strconv.Itoa(i) + "]\ntype = \"cron\"\nschedule = \"" + strconv.Itoa(i) + " 3 1 1 *\"\ncommand = \"true\"\n")
	}
	p, _ := startServices(t, startOpts{mode: asPID1}, conf.String())
	poll(t, "10 jobs scheduled", func() bool { return strings.Count(p.stderr.String(), "cron job scheduled") == 10 })
	pid := p.cmd.Process.Pid
	// Something that polls switches in every window; start-up's lazy work (the runtime's first
	// GC cycle, uno's own log queue) or a loaded machine's delays in one or two. So the test
	// watches up to five windows and fails only if none of them is quiet.
	const watch = 3 * time.Second
	var seen []int
	for range 5 {
		before := contextSwitches(t, pid)
		time.Sleep(watch)
		n := contextSwitches(t, pid) - before
		seen = append(seen, n)
		if n < 3 {
			break
		}
	}
	if n := seen[len(seen)-1]; n >= 3 {
		t.Errorf("uno switched %v times in each of %d windows of %v with no job due: something polls", seen, len(seen), watch)
	} else {
		t.Logf("context switches per %v window: %v", watch, seen)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
	noBug(t, p)
}

// contextSwitches sums the voluntary and involuntary context switches of pid's threads.
func contextSwitches(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, task := range tasks {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				total += n
			}
		}
	}
	return total
}

// noBug fails the test if uno logged a bug of its own (an illegal state change, for one).
func noBug(t *testing.T, p *proc) {
	t.Helper()
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(line, "bug:") {
			t.Errorf("uno logged a bug: %s", line)
		}
	}
}
