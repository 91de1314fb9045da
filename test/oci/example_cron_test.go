package oci

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestExampleNightlyReport runs examples/nightly-report's image as PID 1 and checks what its
// README promises: the job waits for web, renders the page at start, web serves it, uno ctl run
// renders it again, status and uno check show the schedule, and docker stop exits 0.
func TestExampleNightlyReport(t *testing.T) {
	eachRuntime(t, func(t *testing.T, rt string) {
		img := buildImage(t, "examples/nightly-report/Dockerfile")
		// busybox has no zoneinfo: a job with a time zone is refused, and says what to do.
		tz := "[services.j]\ntype = \"cron\"\nschedule = \"@daily\"\ntimezone = \"Europe/Warsaw\"\ncommand = \"true\"\n"
		if err := os.WriteFile(filepath.Join(img.rootfs, "etc/uno/tz.toml"), []byte(tz), 0o644); err != nil {
			t.Fatal(err)
		}
		c := runImage(t, rt, img)
		c.waitEvent(unoEvent{"cron run done", "report"}, 1)
		inOrder(t, c, unoEvent{"service ready", "web"}, unoEvent{"cron job scheduled", "report"}, unoEvent{"service started", "report"})
		page := c.exec("wget", "-qO-", "http://127.0.0.1:8080/report.html")
		if !strings.Contains(page, "<h1>Nightly report</h1>") || !strings.Contains(page, "by root.") {
			t.Errorf("web served:\n%s", page)
		}
		status, err := c.ctl("exec", c.id, "/usr/bin/uno", "ctl", "status")
		if err != nil || !regexp.MustCompile(`(?m)^report +15 3 \* \* \* \(UTC\) +\S+ 03:1[56]:\d\d .* success +1 +0 +0 +0$`).MatchString(status) {
			t.Errorf("uno ctl status: %v\n%s", err, status)
		}
		out, err := c.ctl("exec", c.id, "/usr/bin/uno", "ctl", "run", "report")
		if err != nil || !strings.Contains(out, "started a run of report") {
			t.Errorf("uno ctl run report: %v\n%s", err, out)
		}
		c.waitEvent(unoEvent{"cron run done", "report"}, 2)
		check := c.exec("/usr/bin/uno", "check")
		if !regexp.MustCompile(`(?m)^ +2\. +report +cron 15 3 \* \* \* \(UTC\), next: (\d{4}-\d\d-\d\d 03:15:00 UTC(, )?){3}; after web ready; not essential$`).MatchString(check) {
			t.Errorf("uno check:\n%s", check)
		}
		if img.healthcheck != nil {
			if out, err := c.ctl(append([]string{"exec", c.id}, img.healthcheck...)...); err != nil || !strings.HasPrefix(out, "healthy") {
				t.Errorf("HEALTHCHECK %q: %v: %s", img.healthcheck, err, out)
			}
		}
		out, err = c.ctl("exec", c.id, "/usr/bin/uno", "check", "-c", "/etc/uno/tz.toml")
		if err == nil || !strings.Contains(out, `/etc/uno/tz.toml:4: services.j.timezone: unknown time zone "Europe/Warsaw"; this system has no /usr/share/zoneinfo: install tzdata in the image, or mount the host's /usr/share/zoneinfo`) {
			t.Errorf("uno check of a time zone without zoneinfo: %v\n%s", err, out)
		}
		c.kill("TERM")
		if code := c.wait(deadline); code != 0 {
			t.Fatalf("exit status %d, want 0\nstderr:\n%s", code, c.stderr.String())
		}
	})
}
