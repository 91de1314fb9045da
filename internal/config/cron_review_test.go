package config

import (
	"path/filepath"
	"slices"
	"strings"
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

// Found in review: a crontab's jobs without CRON_TZ run in "Local", Go's time.Local, which
// falls back to UTC without a word when TZ names a zone the system lacks (a busybox image has
// no zoneinfo): TZ=Europe/Warsaw ran the jobs in UTC. An unknown TZ is now an error, and a
// known one is the jobs' zone, by name.
func TestCrontabUnknownTZ(t *testing.T) {
	dir := writeFiles(t, map[string]string{"crontab": "0 3 * * * backup\n"})
	path := filepath.Join(dir, "crontab")
	_, err := LoadCrontab(path, []string{"TZ=Mars/Olympus"})
	if err == nil || !strings.Contains(err.Error(), `TZ: unknown time zone "Mars/Olympus"`) {
		t.Errorf("TZ=Mars/Olympus: %v, want an unknown time zone error", err)
	}
	cfg, err := LoadCrontab(path, []string{"TZ=America/New_York"})
	if err != nil {
		t.Skipf("no America/New_York zone (tzdata): %v", err)
	}
	if c := cfg.Services[0].Cron; c.Zone != "America/New_York" || c.Location.String() != "America/New_York" {
		t.Errorf("TZ=America/New_York: zone %q (%v)", c.Zone, c.Location)
	}
	for _, tz := range []string{"", ":/etc/localtime", "/etc/localtime"} {
		if _, err := LoadCrontab(path, []string{"TZ=" + tz}); err != nil {
			t.Errorf("TZ=%q: %v", tz, err)
		}
	}
}
