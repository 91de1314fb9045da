package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// This file reads the files a configuration names: the TOML file, services.d, env files and the
// Procfile, all read again on every reload, on the supervisor's own goroutine.

// maxFileSize bounds every configuration file uno reads. Configuration is small; a FIFO, a
// device or an endless file named by mistake (or malice) must not hang a reload, and with it
// uno's handling of SIGTERM, or fill its memory.
const maxFileSize = 4 << 20

// readFile reads a regular file of at most maxFileSize bytes. Opening does not block (a FIFO
// with no writer would), and what is not a regular file is refused before any read.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("not a regular file")}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d MiB", maxFileSize>>20)}
	}
	return data, nil
}
