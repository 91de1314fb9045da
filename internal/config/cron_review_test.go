package config

import (
	"slices"
	"testing"
)

// Found in review (issues 14 and 18 merged): a cron job took a health check; a failing check
// stopped the run, which was then logged "cron run done" with result "replaced", not counted as
// a failure. A job refuses health as it refuses ready: a hung run is what timeout is for.
func TestCronJobRefusesHealth(t *testing.T) {
	toml := "[services.j]\ntype = \"cron\"\ncommand = \"x\"\nschedule = \"@daily\"\nhealth = { exec = [\"true\"] }\n"
	dir, _, err := loadFiles(t, map[string]string{"uno.toml": toml})
	if err == nil {
		t.Fatal("a cron job with a health check loaded")
	}
	want := []string{"uno.toml:5: services.j.health: a cron job has no health check: a run that hangs is stopped by its timeout"}
	if got := errorLines(dir, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}
