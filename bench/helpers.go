package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// The bench binary is also the program the inits run: "bench helper MODE ...". Each helper does
// one thing the same way under every init, so that differences come from the init.

func runHelper(args []string) {
	if len(args) == 0 {
		fatalf("helper: no mode")
	}
	switch args[0] {
	case "orphans":
		helperOrphans(atoi(args[1]))
	case "sigrecv":
		helperSigrecv()
	case "flood":
		helperFlood(atoi(args[1]), args[2])
	default:
		fatalf("helper: unknown mode %q", args[0])
	}
}

// childBuf is what the raw-forked children read into: they must touch no Go runtime state.
var childBuf [1]byte

// rawFork forks with raw system calls only. The child must use nothing but raw system calls
// either: it is a copy of one thread of a Go program.
func rawFork() uintptr {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return ^uintptr(0)
	}
	return pid
}

// helperOrphans makes n processes that are orphans of the init (their parent exits), lets them
// all exit at the same moment, and reports how long until the init has reaped every one: it
// watches /proc (the PID namespace's) until only the init and itself are left.
func helperOrphans(n int) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		fatalf("pipe: %v", err)
	}
	r, w := p[0], p[1]
	intermediate := rawFork()
	switch intermediate {
	case 0:
		// The intermediate parent: n children blocked on the pipe, then exit so that they are
		// re-parented to the init.
		syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(w), 0, 0)
		for i := 0; i < n; i++ {
			if rawFork() == 0 {
				syscall.RawSyscall(syscall.SYS_READ, uintptr(r), uintptr(unsafe.Pointer(&childBuf[0])), 1)
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
			}
		}
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	case ^uintptr(0):
		fatalf("fork failed")
	}
	syscall.Close(r)
	// The intermediate is ours to reap; its children are the init's.
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(int(intermediate), &ws, 0, nil); err != nil {
		fatalf("wait for the intermediate: %v", err)
	}
	// Wait for all n to exist: init + us + n.
	for processes() != n+2 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	syscall.Close(w) // every child reads EOF and exits now
	for processes() > 2 {
	}
	fmt.Printf("reaped %d %d\n", n, time.Since(start).Microseconds())
}

// processes counts the entries of /proc that are processes: in a PID namespace with its own
// /proc, every process of the namespace, zombies included.
func processes() int {
	f, err := os.Open("/proc")
	if err != nil {
		fatalf("%v", err)
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	count := 0
	for _, name := range names {
		if name[0] >= '0' && name[0] <= '9' {
			count++
		}
	}
	return count
}

// helperSigrecv answers each SIGUSR1 with one byte on stdout, so that the harness can time the
// trip from kill(init) to the program's handler.
func helperSigrecv() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGTERM)
	os.Stdout.Write([]byte("r"))
	for s := range sigs {
		if s == syscall.SIGTERM {
			os.Exit(0)
		}
		os.Stdout.Write([]byte("."))
	}
}

// helperFlood writes n short numbered lines as fast as it can.
func helperFlood(n int, tag string) {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	for i := 0; i < n; i++ {
		out.WriteString(tag)
		out.WriteByte(' ')
		out.WriteString(strconv.Itoa(i))
		out.WriteByte('\n')
	}
	if err := out.Flush(); err != nil {
		os.Exit(1)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fatalf("not a number: %q", s)
	}
	return n
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
