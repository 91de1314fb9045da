package main

import (
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// notesPath is the hand-written part of the report.
const notesPath = "bench/notes.md"

type direction int

const (
	lower direction = iota
	higher
)

type metric struct {
	id, title, unit string
	better          direction
	ref             string // the peer each figure is compared with
	rows            []row
	note            string
}

type row struct {
	name        string
	median      float64
	lo, hi      float64 // 10th and 90th percentile of the samples (or min and max when few)
	samples     int
	description string
}

type report struct {
	machine  []string
	metrics  []*metric
	duration time.Duration
}

func (r *report) metric(id, title, unit string, better direction, ref string) *metric {
	m := &metric{id: id, title: title, unit: unit, better: better, ref: ref}
	r.metrics = append(r.metrics, m)
	return m
}

func (m *metric) add(name string, samples []float64, description string) {
	m.rows = append(m.rows, row{
		name: name, median: median(samples), lo: percentile(samples, 10), hi: percentile(samples, 90),
		samples: len(samples), description: description,
	})
}

func (m *metric) refValue() float64 {
	for _, r := range m.rows {
		if r.name == m.ref || strings.HasPrefix(r.name, m.ref+" ") {
			return r.median
		}
	}
	return 0
}

func format(v float64) string {
	switch a := abs(v); {
	case a >= 10000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// ratio is "1.23x" of v to the reference, or "" when there is none.
func (m *metric) ratio(v float64) string {
	ref := m.refValue()
	if ref == 0 {
		if v == 0 {
			return "="
		}
		return ""
	}
	if q := v / ref; q < 0.1 && q > 0 {
		return fmt.Sprintf("1/%.0fx", 1/q)
	}
	return fmt.Sprintf("%.2fx", v/ref)
}

func (m *metric) table(w io.Writer) {
	fmt.Fprintf(w, "| | median | spread (p10-p90) | vs %s | |\n|---|---:|---:|---:|---|\n", m.ref)
	for _, r := range m.rows {
		spread := format(r.lo) + " - " + format(r.hi)
		if r.samples < 3 {
			spread = ""
		}
		name := r.name
		if name == "uno" || strings.HasPrefix(name, "uno ") {
			name = "**" + name + "**"
		}
		fmt.Fprintf(w, "| %s | %s %s | %s | %s | %s |\n", name, format(r.median), m.unit, spread, m.ratio(r.median), r.description)
	}
	if m.note != "" {
		fmt.Fprintf(w, "\n%s\n", m.note)
	}
	fmt.Fprintln(w)
}

// print writes the tables alone (bench -only).
func (r *report) print(w io.Writer) {
	for _, m := range r.metrics {
		fmt.Fprintf(w, "### %s\n\n", m.title)
		m.table(w)
	}
}

func (r *report) write(mdPath, svgPath string) error {
	var b strings.Builder
	b.WriteString(`# Benchmarks

uno measured side by side with tini, dumb-init and catatonit (one program) and with supervisord
and s6 (several services), by ` + "`make bench`" + ` (` + "`bench/`" + `): every init in the same run, in a new
random order each round, on the machine below. Figures are medians; the spread is the 10th to
90th percentile of the samples; ratios compare medians with the peer named in each table (tini
for one program, supervisord for several). This file and the chart are written by the harness:
do not edit them by hand, run ` + "`make bench`" + `.

![uno and its peers, as ratios](benchmarks.svg)

`)
	b.WriteString("Machine: " + strings.Join(r.machine, "; ") + ". The run took " + r.duration.Round(time.Second).String() + ".\n\n")
	for _, m := range r.metrics {
		fmt.Fprintf(&b, "## %s\n\n", m.title)
		m.table(&b)
	}
	// The reading of the figures (what was done about each, and why some targets are missed)
	// is written by people, in bench/notes.md, and kept in the report.
	if notes, err := os.ReadFile(notesPath); err == nil {
		b.WriteString("\n")
		b.Write(notes)
	}
	if err := os.WriteFile(mdPath, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(svgPath, []byte(r.svg()), 0o644)
}

// svg draws one panel per metric: a bar per init, its length the median relative to the largest
// in the panel, labelled with the value and the ratio to the reference.
func (r *report) svg() string {
	const (
		width     = 760
		labelW    = 170
		barMax    = 420
		rowH      = 18
		panelGap  = 22
		titleH    = 20
		marginTop = 36
	)
	var b strings.Builder
	var panels []*metric
	for _, m := range r.metrics {
		if m.id == "logs-lost" {
			continue
		}
		panels = append(panels, m)
	}
	height := marginTop
	for _, m := range panels {
		height += titleH + rowH*len(m.rows) + panelGap
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="15" font-weight="bold">uno and its peers (make bench): shorter is better unless marked ↑</text>`+"\n")
	y := marginTop
	for _, m := range panels {
		arrow := ""
		if m.better == higher {
			arrow = " ↑ longer is better"
		}
		fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">%s (%s)%s</text>`+"\n", y+14, html.EscapeString(m.title), html.EscapeString(m.unit), arrow)
		y += titleH
		maxV := 0.0
		for _, row := range m.rows {
			maxV = max(maxV, row.median)
		}
		for _, row := range m.rows {
			w := 0.0
			if maxV > 0 {
				w = row.median / maxV * barMax
			}
			color := "#9aa5b1"
			if row.name == "uno" || strings.HasPrefix(row.name, "uno ") {
				color = "#2f7fd8"
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-6, y+13, html.EscapeString(row.name))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", labelW, y+3, max(w, 1), rowH-5, color)
			label := format(row.median) + " " + m.unit
			if ratio := m.ratio(row.median); ratio != "" && ratio != "=" {
				label += "  (" + ratio + ")"
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(labelW)+max(w, 1)+6, y+13, html.EscapeString(label))
			y += rowH
		}
		y += panelGap
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func describeMachine(o options) []string {
	var out []string
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				out = append(out, strings.TrimSpace(v))
				break
			}
		}
	}
	out = append(out, fmt.Sprintf("%d CPUs", runtime.NumCPU()))
	// The machine may be shared: its load says how far to trust the absolute figures (the ratios
	// within one run hold up better).
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			out = append(out, "load average "+strings.Join(f[:3], " ")+" at the start")
		}
	}
	if kv := readKV("/proc/meminfo"); kv["MemTotal"] > 0 {
		out = append(out, fmt.Sprintf("%.0f GiB RAM", kv["MemTotal"]/1024/1024))
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		out = append(out, "Linux "+strings.TrimSpace(string(data)))
	}
	if v, err := exec.Command(o.uno, "--version").Output(); err == nil {
		out = append(out, strings.TrimSpace(string(v))+" built with "+runtime.Version())
	}
	for _, pkg := range []string{"tini", "dumb-init", "catatonit", "supervisor", "s6"} {
		if v, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output(); err == nil {
			out = append(out, pkg+" "+string(v))
		}
	}
	return out
}
