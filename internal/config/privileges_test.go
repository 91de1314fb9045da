package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uno-init/uno/internal/privs"
)

func TestPrivilegeKeys(t *testing.T) {
	needRoot(t) // capabilities are checked against what uno holds
	s := mustLoadService(t, `
[services.a]
command = "a"
no_new_privileges = true
capabilities = ["CAP_NET_BIND_SERVICE", "net_raw", "Cap_Chown", "CAP_NET_RAW"]
rlimits = { nofile = 1024, nproc = [4096, 8192], core = 0, memlock = "64KiB", stack = "8M", cpu = "1h", rttime = "200ms", as = "unlimited", fsize = ["1GiB", "infinity"] }
umask = "0027"
nice = -5
oom_score_adj = 500
`, nil)
	p := s.Privileges
	if p == nil || !p.NoNewPrivs || !p.CapsSet || p.Caps != 1<<10|1<<13|1<<0 || !p.UmaskSet || p.Umask != 0o027 ||
		!p.NiceSet || p.Nice != -5 || !p.OOMSet || p.OOM != 500 {
		t.Fatalf("privileges %+v", p)
	}
	got := map[string][3]uint64{}
	for _, r := range p.Rlimits {
		hard := uint64(0)
		if r.HardSet {
			hard = r.Hard
		}
		got[r.Name] = [3]uint64{uint64(r.Resource), r.Soft, hard}
	}
	want := map[string][3]uint64{
		"nofile": {7, 1024, 0}, "nproc": {6, 4096, 8192}, "core": {4, 0, 0}, "memlock": {8, 64 << 10, 0},
		"stack": {3, 8 << 20, 0}, "cpu": {0, 3600, 0}, "rttime": {15, 200000, 0}, "as": {9, privs.Unlimited, 0},
		"fsize": {1, 1 << 30, privs.Unlimited},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rlimits\n got %v\nwant %v", got, want)
	}

	// None of the keys: nothing, and the service starts as before.
	if s := mustLoadService(t, "[services.a]\ncommand = \"a\"\n", nil); s.Privileges != nil || s.Secrets != nil {
		t.Errorf("no keys: %+v %+v", s.Privileges, s.Secrets)
	}
	// [uno] no_new_privileges is the default; a service may turn it off; the main program gets it.
	cfg := mustLoad(t, map[string]string{"uno.toml": "[uno]\nno_new_privileges = true\n[services.a]\ncommand = \"a\"\n[services.b]\ncommand = \"b\"\nno_new_privileges = false\n"})
	if !cfg.Services[0].Privileges.NoNewPrivs || cfg.Services[1].Privileges != nil {
		t.Errorf("[uno] default: %+v %+v", cfg.Services[0].Privileges, cfg.Services[1].Privileges)
	}
	if err := cfg.AddMain([]string{"x"}, nil); err != nil || !cfg.Service(MainName).Privileges.NoNewPrivs {
		t.Errorf("main program: %v %+v", err, cfg.Service(MainName).Privileges)
	}
}

func TestSecretKeys(t *testing.T) {
	files := map[string]string{"uno.toml": `
[services.a]
command = "a"
env = { API_TOKEN_FILE = "/run/secrets/api", KEEP = "1", _FILE = "/x" }
secrets = { DB_PASSWORD = "${SECRETS:-/run/secrets}/db" }
env_file_suffix = "_FILE"
`}
	dir := writeFiles(t, files)
	cfg, err := Load(dir+"/uno.toml", append(slices.Clone(testEnviron), "INHERITED_FILE=/run/secrets/inh", "DB_PASSWORD=from-env"))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Services[0]
	want := []Secret{
		{Name: "DB_PASSWORD", Path: "/run/secrets/db", Key: "services.a.secrets.DB_PASSWORD"},
		{Name: "INHERITED", Path: "/run/secrets/inh", Key: "$INHERITED_FILE"},
		{Name: "API_TOKEN", Path: "/run/secrets/api", Key: "$API_TOKEN_FILE"},
	}
	if !reflect.DeepEqual(s.Secrets, want) {
		t.Errorf("secrets\n got %+v\nwant %+v", s.Secrets, want)
	}
	for _, kv := range s.Env {
		name, _, _ := strings.Cut(kv, "=")
		if name == "API_TOKEN_FILE" || name == "INHERITED_FILE" || name == "DB_PASSWORD" {
			t.Errorf("%s is still in the environment", kv)
		}
	}
	if !slices.Contains(s.Env, "KEEP=1") || !slices.Contains(s.Env, "_FILE=/x") {
		t.Errorf("env %v", s.Env)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "services.a.secrets.DB_PASSWORD: DB_PASSWORD is also set in the environment; the secret's value replaces it") {
		t.Errorf("warnings %q", cfg.Warnings)
	}
}

func TestPrivilegeErrors(t *testing.T) {
	needRoot(t)
	const svc = "[services.a]\ncommand = \"a\"\n"
	tests := []struct{ toml, want string }{
		{`capabilities = ["CAP_FLY"]`, `services.a.capabilities: unknown capability "CAP_FLY"`},
		{`capabilities = "CAP_KILL"`, `services.a.capabilities: want an array of capability names, got a string`},
		{`capabilities = [1]`, `services.a.capabilities: want capability names in the array, got an integer`},
		{`rlimits = { nofile = [2000, 1000] }`, `services.a.rlimits.nofile: soft limit 2000 is above the hard limit 1000`},
		{`rlimits = { nofile = ["unlimited", 1] }`, `services.a.rlimits.nofile: soft limit unlimited is above the hard limit 1`},
		{`rlimits = { nofile = [1] }`, `services.a.rlimits.nofile: want a limit or [soft, hard], got 1 values`},
		{`rlimits = { nofiles = 1 }`, `services.a.rlimits.nofiles: unknown key (known: as, core, cpu`},
		{`rlimits = { memlock = "64MB" }`, `services.a.rlimits.memlock: want a size such as 65536, "64KiB", "8MiB" or "1GiB", got "64MB"`},
		{`rlimits = { nofile = "64KiB" }`, `services.a.rlimits.nofile: want a number or "unlimited", got "64KiB"`},
		{`rlimits = { nofile = -1 }`, `services.a.rlimits.nofile: must not be negative`},
		{`rlimits = { cpu = "soon" }`, `services.a.rlimits.cpu: want a duration such as "1h" or a number, got "soon"`},
		{`rlimits = { stack = "99999999999999999999T" }`, `services.a.rlimits.stack: want a size`},
		{`rlimits = { stack = "16777216T" }`, `services.a.rlimits.stack: size "16777216T" is out of range`},
		{`rlimits = { core = true }`, `services.a.rlimits.core: want a number or a string`},
		{`rlimits = 5`, `services.a.rlimits: want a table, got an integer`},
		{`umask = "0o27"`, `services.a.umask: want an octal mask such as "0027", got "0o27"`},
		{`umask = "1777"`, `services.a.umask: want an octal mask`},
		{`umask = 22`, `services.a.umask: want a string, got an integer`},
		{`nice = 20`, `services.a.nice: want an integer from -20 to 19`},
		{`oom_score_adj = 1001`, `services.a.oom_score_adj: want an integer from -1000 to 1000`},
		{`no_new_privileges = "yes"`, `services.a.no_new_privileges: want true or false, got a string`},
		{`secrets = { "A-B" = "/x" }`, `services.a.secrets.A-B: invalid variable name`},
		{`secrets = { A = "relative" }`, `services.a.secrets.A: A: want an absolute path, got "relative"`},
		{`secrets = { A = 1 }`, `services.a.secrets.A: want a string, got an integer`},
		{"env = { A_FILE = \"/x\" }\nsecrets = { A = \"/y\" }\nenv_file_suffix = \"_FILE\"", `services.a.env_file_suffix: A is already a secret (services.a.secrets.A)`},
		{"env = { A_FILE = \"x\" }\nenv_file_suffix = \"_FILE\"", `services.a.env_file_suffix: A: want an absolute path, got "x"`},
		{`env_file_suffix = "-FILE"`, `services.a.env_file_suffix: want a variable name ending such as "_FILE", got "-FILE"`},
		{`env_file_suffix = ""`, `services.a.env_file_suffix: want a variable name ending such as "_FILE", got ""`},
		{"[uno]\nno_new_privileges = 1", `uno.no_new_privileges: want true or false, got an integer`},
	}
	for _, tt := range tests {
		toml := svc + tt.toml + "\n"
		if strings.HasPrefix(tt.toml, "[uno]") {
			toml = tt.toml + "\n" + svc
		}
		dir, _, err := loadFiles(t, map[string]string{"uno.toml": toml})
		lines := errorLines(dir, err)
		if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
			t.Errorf("%s:\n got %q\nwant one error with %q", tt.toml, lines, tt.want)
		}
	}
}
