package supervisor

import (
	"errors"

	"github.com/uno-init/uno/internal/config"
)

// This file reads a service's secrets from their files (config.ReadSecret), at each start and
// for uno check (CheckCommands). A secret's value goes into the service's environment and nowhere else: every
// error here names the variable and the path, never what was read.

// readSecrets returns NAME=value for each secret, read now.
func readSecrets(secrets []config.Secret) ([]string, error) {
	out := make([]string, 0, len(secrets))
	for _, sec := range secrets {
		v, err := config.ReadSecret(sec.Path)
		if err != nil {
			return nil, errors.New("secret " + sec.Name + " (" + sec.Key + "): " + err.Error())
		}
		out = append(out, sec.Name+"="+v)
	}
	return out, nil
}
