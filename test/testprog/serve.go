package main

import (
	"bufio"
	"net"
	"os"
	"strings"
	"time"
)

// serveHealth listens on addr and answers every HTTP request 200, until the file HANG exists:
// from then on it reads requests and never answers, alive but stuck, as a deadlocked server is.
// It appends "serving" to marks once it listens.
func serveHealth(addr, marks, hang string) {
	var ln net.Listener
	var err error
	// A restarted run may find its predecessor's port still held for a moment.
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		os.Stderr.WriteString("testprog: " + err.Error() + "\n")
		os.Exit(1)
	}
	appendLine(marks, "serving")
	for {
		conn, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		go func() {
			defer conn.Close()
			r := bufio.NewReader(conn)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimSpace(line) == "" {
					break
				}
			}
			if _, err := os.Stat(hang); err == nil {
				time.Sleep(time.Hour)
			}
			conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"))
		}()
	}
}
