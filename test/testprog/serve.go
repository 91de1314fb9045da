package main

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
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

// watchdog sends STATUS=pinging, then WATCHDOG=1 every quarter of $WATCHDOG_USEC while the file
// STOP does not exist; WATCHDOG=trigger once when TRIGGER appears; with FLOOD set, it also
// sends that many STATUS= datagrams (or $FLOOD_MSG) as fast as it can first.
func watchdog(marks string) {
	usec, _ := strconv.Atoi(os.Getenv("WATCHDOG_USEC"))
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil || usec == 0 {
		os.Stderr.WriteString("testprog: no watchdog\n")
		os.Exit(1)
	}
	addr := &unix.SockaddrUnix{Name: os.Getenv("NOTIFY_SOCKET")}
	send := func(msg string) { _ = unix.Sendto(fd, []byte(msg), 0, addr) }
	if n, _ := strconv.Atoi(os.Getenv("FLOOD")); n > 0 {
		for i := 0; i < n; i++ {
			if m := os.Getenv("FLOOD_MSG"); m != "" {
				send(m)
			} else {
				send("STATUS=flood " + strconv.Itoa(i) + "\nWATCHDOG=1")
			}
		}
	}
	send("STATUS=pinging")
	appendLine(marks, "watchdog "+strconv.Itoa(usec))
	triggered := false
	for {
		if _, err := os.Stat(marks + ".stop"); err != nil {
			send("WATCHDOG=1")
		}
		if _, err := os.Stat(marks + ".trigger"); err == nil && !triggered {
			triggered = true
			send("WATCHDOG=trigger")
		}
		time.Sleep(time.Duration(usec) * time.Microsecond / 4)
	}
}
