package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// benchServicesStartup: from the supervisor's fork and exec to its first service running, and to
// all ten running, for ten services with no checks. Each service tells the benchmark it runs by
// writing one byte to a FIFO the benchmark reads, then sleeps.
func benchServicesStartup(o options, r *report) {
	first := r.metric("startup-services-first", "Start-up, services: exec to the first of 10 services running", "ms", lower, "supervisord")
	all := r.metric("startup-services-all", "Start-up, services: exec to all 10 services running (no checks)", "ms", lower, "supervisord")
	runs := max(o.startupRuns/8, 3)
	gotFirst, gotAll := map[string][]float64{}, map[string][]float64{}
	for range o.rounds {
		for _, s := range shuffled(supervisors(o)) {
			for range runs {
				a, b := servicesStartOnce(s)
				gotFirst[s.name] = append(gotFirst[s.name], a)
				gotAll[s.name] = append(gotAll[s.name], b)
			}
		}
	}
	for _, s := range supervisors(o) {
		note := ""
		if s.name == "s6" {
			note = "s6-svscan, an s6-supervise per service and per logger"
		}
		first.add(s.name, gotFirst[s.name], note)
		all.add(s.name, gotAll[s.name], note)
	}
}

// servicesStartOnce starts s with ten services and returns the milliseconds from its start to the
// first service's mark and to the tenth's.
func servicesStartOnce(s supervisor) (first, all float64) {
	dir, out := tempDirs()
	defer os.RemoveAll(dir)
	defer os.RemoveAll(out)
	fifo := filepath.Join(dir, "started")
	must(syscall.Mkfifo(fifo, 0o600))
	// Read and write: opening never blocks, and the services' writes never meet a FIFO without
	// a reader.
	marks, err := os.OpenFile(fifo, os.O_RDWR, 0)
	must(err)
	defer marks.Close()
	services := map[string][]string{}
	for i := range 10 {
		services[fmt.Sprintf("svc%d", i)] = []string{"/bin/sh", "-c", "echo >> " + fifo + "; exec /bin/sleep 100000"}
	}
	cmd := s.start(dir, services, out)
	start := time.Now()
	must(cmd.Start())
	defer stopAll(cmd)
	buf := make([]byte, 16)
	for n := 0; n < 10; {
		must(marks.SetReadDeadline(time.Now().Add(30 * time.Second)))
		k, err := marks.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			stopAll(cmd) // fatalf exits: no supervisor left behind
			fatalf("%s: %d of 10 services started within 30s", s.name, n)
		}
		must(err)
		if n == 0 {
			first = ms(time.Since(start))
		}
		n += k
	}
	return first, ms(time.Since(start))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchBusy: start-up and signal latency again with two CPU hogs on the machine, where a start-up
// window and a slow hand-off hurt most.
func benchBusy(o options, r *report) {
	var hogs []*exec.Cmd
	for range 2 {
		hog := exec.Command("/bin/sh", "-c", "while :; do :; done")
		must(hog.Start())
		hogs = append(hogs, hog)
	}
	defer func() {
		for _, h := range hogs {
			_ = h.Process.Kill()
			_ = h.Wait()
		}
	}()
	startupMetric(o, r, "startup-busy", "Start-up on a busy machine (two CPU hogs): INIT -- /bin/true, wall time", false)
	signalMetrics(o, r, "-busy", " on a busy machine (two CPU hogs)", max(o.signals/5, o.rounds))
}
