package cli

import (
	"strings"
	"testing"
)

// TestUnoUsage: `uno --help` is written from the options table, with each option's text in the
// column it has always had, and every environment variable listed.
func TestUnoUsage(t *testing.T) {
	opts := unoOptions(&invocation{}, new(int))
	usage := unoUsage(opts)
	for _, want := range []string{
		"usage: uno [options] [--] program [args...]\n",
		"\n\n  -c, --config FILE     run the services FILE describes (TOML; see docs/services.md),\n" +
			"                        and program, if given, as the main service\n" +
			"  -f, --procfile FILE   run a Procfile's processes; any exit stops all\n" +
			"  -C, --crontab FILE    run a crontab's jobs (MIN HOUR DOM MONTH DOW [USER] command lines)\n\n" +
			"  -g, --pgroup          forward signals",
		"\n  -r, --rewrite FROM:TO rewrite a forwarded signal",
		"\n      --grace DURATION  time leftover processes get between SIGTERM and SIGKILL\n" +
			"                        once the program has exited (default 5s; 0: no sweep)\n",
		"\n      --socket-group GRP  let group GRP read status",
		"\n  -h, --help            print this help\n\nEach option has an environment variable",
		"comma-separated).\nWith no program and no -c, uno runs /etc/uno/uno.toml if it exists.\n",
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q:\n%s", want, usage)
		}
	}
	for _, o := range opts {
		if !strings.Contains(usage, "--"+o.long+" ") || o.env != "" && !strings.Contains(usage, o.env) {
			t.Errorf("usage lacks --%s or %s", o.long, o.env)
		}
	}
}

// TestParseCheckOptions: uno check reads the table's -c, -f and -h, and UNO_CONFIG, and nothing
// else.
func TestParseCheckOptions(t *testing.T) {
	inv, err := parseUno([]string{"check"}, env("UNO_CONFIG=a.toml", "UNO_GRACE=nonsense"))
	if err != nil || !inv.check || inv.configFile != "a.toml" {
		t.Errorf("check with UNO_CONFIG: %+v, %v", inv, err)
	}
	if inv, err := parseUno([]string{"check", "-f", "Procfile"}, env()); err != nil || inv.procfile != "Procfile" {
		t.Errorf("check -f: %+v, %v", inv, err)
	}
	if inv, err := parseUno([]string{"check", "--help"}, env()); err != nil || inv.print != unoPersonality.usage() {
		t.Errorf("check --help: %v, %q", err, inv.print)
	}
	if _, err := parseUno([]string{"check", "-g"}, env()); err == nil || err.Error() != "unknown option -g" {
		t.Errorf("check -g: %v", err)
	}
}
