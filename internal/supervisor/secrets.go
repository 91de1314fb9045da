package supervisor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/uno-init/uno/internal/config"
)

// This file reads a service's secrets from their files, at each start and for uno check. A
// secret's value goes into the service's environment and nowhere else: every error here names
// the variable and the path, never what was read.

// MaxSecretSize bounds a secret file: a value goes into the environment, where the kernel takes
// at most 128 KiB a variable; a key or a password is far smaller, and a file this large named by
// mistake (a certificate bundle, /dev/zero) must not fill the environment or uno's memory.
const MaxSecretSize = 64 << 10

// readSecrets returns NAME=value for each secret, read now.
func readSecrets(secrets []config.Secret) ([]string, error) {
	out := make([]string, 0, len(secrets))
	for _, sec := range secrets {
		v, err := readSecret(sec.Path)
		if err != nil {
			return nil, fmt.Errorf("secret %s (%s): %w", sec.Name, sec.Key, err)
		}
		out = append(out, sec.Name+"="+v)
	}
	return out, nil
}

// readSecret reads one secret file: a regular file (a symbolic link to one is fine: Kubernetes
// mounts secrets so) of at most MaxSecretSize bytes, without its one trailing newline. Opening
// does not block, so a FIFO cannot hold up the supervisor.
func readSecret(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file (%s)", path, kindOf(st.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSecretSize+1))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", err
		}
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxSecretSize {
		return "", fmt.Errorf("%s: larger than %d KiB", path, MaxSecretSize>>10)
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	data = bytes.TrimSuffix(data, []byte("\r"))
	if bytes.IndexByte(data, 0) >= 0 {
		return "", fmt.Errorf("%s: contains a NUL byte, which no environment variable can hold", path)
	}
	return string(data), nil
}

func kindOf(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// CheckSecrets reads every service's secrets as a start would, and reports those that would make
// it fail, with the file, line and key that configured them. The values are dropped.
func CheckSecrets(cfg *config.Config) error {
	var errs []error
	for _, s := range cfg.Services {
		for _, sec := range s.Secrets {
			if _, err := readSecret(sec.Path); err != nil {
				errs = append(errs, &config.PosError{File: s.File, Line: s.Line, Key: s.Key("secrets"),
					Msg: fmt.Sprintf("secret %s (%s): %v", sec.Name, sec.Key, err)})
			}
		}
	}
	return errors.Join(errs...)
}
