package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"syscall"
)

// This file reads the files a configuration names: the TOML file, services.d, env files and the
// Procfile, all read again on every reload, on the supervisor's own goroutine; and the secret
// files, read at each start of their service.

// maxFileSize bounds every configuration file uno reads. Configuration is small; a FIFO, a
// device or an endless file named by mistake (or malice) must not hang a reload, and with it
// uno's handling of SIGTERM, or fill its memory.
const maxFileSize = 4 << 20

// MaxSecretSize bounds a secret file: its value goes into the environment, where the kernel takes
// at most 128 KiB a variable; a key or a password is far smaller, and a large file named by
// mistake (a certificate bundle) must not fill the service's environment.
const MaxSecretSize = 64 << 10

// readFile reads a regular file of at most maxFileSize bytes.
func readFile(path string) ([]byte, error) { return readBounded(path, maxFileSize) }

// readBounded reads a regular file of at most limit bytes. Opening does not block (a FIFO with
// no writer would), and what is not a regular file is refused before any read.
func readBounded(path string, limit int) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("not a regular file (" + kindOf(st.Mode()) + ")")}
	}
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		size := strconv.Itoa(limit>>10) + " KiB"
		if limit >= 1<<20 {
			size = strconv.Itoa(limit>>20) + " MiB"
		}
		return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("larger than " + size)}
	}
	return data, nil
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

// ReadSecret reads a secret file, for a start of its service: a regular file (a symbolic link to
// one is fine: Kubernetes mounts secrets so) of at most MaxSecretSize bytes, without its one
// trailing newline. Its errors name the path, never what was read.
func ReadSecret(path string) (string, error) {
	data, err := readBounded(path, MaxSecretSize)
	if err != nil {
		return "", err
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	data = bytes.TrimSuffix(data, []byte("\r"))
	if bytes.IndexByte(data, 0) >= 0 {
		return "", errors.New(path + ": contains a NUL byte, which no environment variable can hold")
	}
	return string(data), nil
}
