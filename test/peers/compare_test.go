package peers

// The differential test: every scenario under uno (named as the peer) and under the peer, field
// by field.

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testbin"
)

var verbose = flag.Bool("dump", false, "log every run's observations, not only a failing one's")

func TestPeers(t *testing.T) {
	w := &world{testprog: testbin.TestProg(t)}
	uno := testbin.Uno(t)
	start := time.Now()
	var mu sync.Mutex
	counts := map[string]int{}
	used := map[int]bool{}
	complete := flag.Lookup("test.run").Value.String() == ""
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			needPeer(t, p.real)
			rows := scenariosFor(p.family)
			t.Logf("%s: %d scenarios", p.name, len(rows))
			for _, sc := range rows {
				t.Run(sc.name, func(t *testing.T) {
					if sc.mode.pid1() {
						needRoot(t)
					}
					got := w.run(t, sc, uno, p.name)
					want := w.run(t, sc, p.real, p.name)
					mu.Lock()
					counts[p.name]++
					mu.Unlock()
					for _, d := range compare(p.name, sc.name, got, want) {
						if i, ok := allowedIndex(p.name, sc.name, d.field, d.uno); ok {
							mu.Lock()
							used[i] = true
							mu.Unlock()
							continue
						}
						t.Errorf("%s %q: %s: uno gives %q, %s gives %q", p.name, sc.name, d.field, d.uno, p.name, d.peer)
					}
					if t.Failed() || *verbose {
						t.Logf("uno:\n%s\n%s:\n%s", dump(got), p.name, dump(want))
					}
				})
			}
		})
	}
	var summary []string
	for _, p := range peers {
		summary = append(summary, fmt.Sprintf("%s %d", p.name, counts[p.name]))
	}
	t.Logf("scenarios compared: %s (in %v)", strings.Join(summary, ", "), time.Since(start).Round(time.Second))
	if complete && !t.Failed() {
		for i, d := range allowed {
			if !used[i] {
				t.Errorf("deliberate difference no longer seen, remove it: %+v", d)
			}
		}
	}
}

// diff is one field where uno and the peer differ.
type diff struct{ field, uno, peer string }

// compare lists the fields that differ; "raw ..." fields are for failure messages only.
func compare(peer, scenario string, got, want obs) []diff {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var out []diff
	for k := range keys {
		if strings.HasPrefix(k, "raw ") {
			continue
		}
		if got[k] != want[k] {
			out = append(out, diff{k, orAbsent(got, k), orAbsent(want, k)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].field < out[j].field })
	return out
}

func orAbsent(o obs, k string) string {
	if v, ok := o[k]; ok {
		return v
	}
	return "(absent)"
}

func dump(o obs) string {
	var keys []string
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %q\n", k, o[k])
	}
	return b.String()
}
