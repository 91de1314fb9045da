package config

import (
	"slices"
	"testing"
)

func TestLoadEnv(t *testing.T) {
	s := mustLoadService(t, `[services.a]
command = "a"
env_file = ["app.env", "${CONF_DIR:-conf}/more.env"]
env = { GOMAXPROCS = "2", NUM = 3, FLOAT = 1.5, BOOL = true, REF = "${FROM_FILE}+${NUM}", LITERAL = "$$NUM", LANG = "env" }
`, map[string]string{
		"app.env": `GOMAXPROCS=4
FROM_FILE=file
LANG=file
SINGLE='$HOME'
DOUBLE="$HOME"
ESCAPED="\$HOME"
REF_FILE=${FROM_FILE}-x
`,
		"conf/more.env": "FROM_FILE=more\n",
	})
	want := []string{
		// uno's environment keeps its order; each later source replaces values in place.
		"PATH=/usr/bin:/bin", "HOME=/root", "GOMAXPROCS=2", "LANG=env",
		// The first env file, in its order; FROM_FILE is replaced by the second file.
		"FROM_FILE=more", "SINGLE=$HOME", "DOUBLE=/root", "ESCAPED=$HOME", "REF_FILE=file-x",
		// env, in its order; numbers and booleans as written; references see what came before.
		"NUM=3", "FLOAT=1.5", "BOOL=true", "REF=more+3", "LITERAL=$NUM",
	}
	if !slices.Equal(s.Env, want) {
		t.Errorf("env\n got %q\nwant %q", s.Env, want)
	}
}

func TestLoadEnvAndUser(t *testing.T) {
	nobody := lookupNobody(t)
	tests := []struct {
		name, extra string
		files       map[string]string
		want        []string
	}{
		{
			"user sets HOME, USER and LOGNAME", "",
			nil,
			[]string{"PATH=/usr/bin:/bin", "HOME=" + nobody.HomeDir, "GOMAXPROCS=8", "LANG=C.UTF-8", "USER=nobody", "LOGNAME=nobody"},
		},
		{
			"env wins over the user's variables, and sees them", `env = { HOME = "/data", WHO = "${USER}@${HOME}" }`,
			nil,
			[]string{"PATH=/usr/bin:/bin", "HOME=/data", "GOMAXPROCS=8", "LANG=C.UTF-8", "USER=nobody", "LOGNAME=nobody", "WHO=nobody@/data"},
		},
		{
			"env_file wins over the user's variables", `env_file = "user.env"`,
			map[string]string{"user.env": "USER=someone\nWAS=$LOGNAME\n"},
			[]string{"PATH=/usr/bin:/bin", "HOME=" + nobody.HomeDir, "GOMAXPROCS=8", "LANG=C.UTF-8", "USER=someone", "LOGNAME=nobody", "WAS=nobody"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustLoadService(t, "[services.a]\ncommand = \"a\"\nuser = \"nobody\"\n"+tt.extra+"\n", tt.files)
			if !slices.Equal(s.Env, tt.want) {
				t.Errorf("env\n got %q\nwant %q", s.Env, tt.want)
			}
		})
	}
}
