package peers

// The scenario tables: one per peer family (tini's serves tini, tini-static and docker-init).
// Every row runs under uno and under the real peer; the counts are logged.

import (
	"fmt"
	"syscall"
)

// Signal numbers without a syscall constant.
const (
	rtmin1 = syscall.Signal(35) // SIGRTMIN+1 as glibc numbers them
	rtmin6 = syscall.Signal(40)
	rtmax  = syscall.Signal(64)
)

// forwardable is every signal a program can be sent through its init and catch (Go's runtime
// keeps SIGPROF; 32-34 are reserved), plus ABRT and SEGV sent with kill(2), which tini and
// catatonit leave to their default action.
var forwardable = []syscall.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE,
	syscall.SIGALRM, syscall.SIGTERM, syscall.SIGCONT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU,
	syscall.SIGURG, syscall.SIGXCPU, syscall.SIGXFSZ, syscall.SIGVTALRM, syscall.SIGWINCH, syscall.SIGIO,
	syscall.SIGPWR, syscall.SIGSYS, syscall.SIGABRT, syscall.SIGSEGV, rtmin1, rtmin6, rtmax,
}

// The caller's signal mask and ignored signals in the setup scenarios: some the Go runtime
// takes over (HUP, INT, TERM, QUIT), some it leaves alone (job control), ordinary and real-time.
var (
	callerBlocked = sigs(syscall.SIGHUP, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM,
		syscall.SIGALRM, syscall.SIGWINCH, syscall.SIGTSTP, rtmin6)
	callerIgnored = sigs(syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGPIPE,
		syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, rtmin6)
)

var allModes = []mode{pipeChild, pipePID1, ttyChild, ttyPID1}

// common are the rows every family shares: the program's exit, exec failures, what the program
// inherits and where each signal goes. dd is the init's option terminator ("--" or none).
func common(dd []string) []scenario {
	argv := func(a ...string) []string { return append(append([]string{}, dd...), a...) }
	sh := func(script string) []string { return argv("/bin/sh", "-c", script) }
	rows := []scenario{
		{name: "exit 0", argv: sh("exit 0")},
		{name: "exit 3", argv: sh("exit 3")},
		{name: "exit 255", argv: sh("exit 255")},
		{name: "dies of TERM", argv: sh("kill -TERM $$")},
		{name: "dies of KILL", argv: sh("kill -KILL $$")},
		{name: "output", argv: sh("echo 'P|out'; echo 'P|err' >&2")},
		{name: "output on a terminal", mode: ttyChild, argv: sh("echo 'P|out'; echo 'P|err' >&2")},
		{name: "not found", argv: argv("/nonexistent")},
		{name: "not found in PATH", argv: argv("no-such-command")},
		{name: "not executable", argv: argv("$NOEXEC")},
		{name: "a directory", argv: argv("$DIR")},
		{name: "report ends with USR1", kind: reportProg, end: "kill USR1"},
		{name: "report ends with exit 7", kind: reportProg, mode: pipePID1, end: "exit 7"},
		{name: "caller's mask", kind: reportProg, setup: setup{block: callerBlocked}},
		{name: "caller's mask, pid1", kind: reportProg, mode: pipePID1, setup: setup{block: callerBlocked}},
		{name: "caller's ignored signals", kind: reportProg, setup: setup{ignore: callerIgnored}},
		{name: "caller's ignored signals, tty", kind: reportProg, mode: ttyChild, setup: setup{ignore: callerIgnored}},
		{name: "caller's fds", kind: reportProg, setup: setup{fds: 2}},
		{name: "LISTEN_PID", kind: reportProg, setup: setup{listenPid: true}},
		{name: "caller ignores USR1, USR1 sent", kind: familyProg, setup: setup{ignore: sigs(syscall.SIGUSR1)},
			sigs: []syscall.Signal{syscall.SIGUSR1}},
		{name: "USR1 then TERM", kind: familyProg, sigs: []syscall.Signal{syscall.SIGUSR1, syscall.SIGTERM}},
	}
	for _, m := range allModes {
		rows = append(rows, scenario{name: "report", kind: reportProg, mode: m, end: "exit 0"})
	}
	for _, sig := range forwardable {
		rows = append(rows, scenario{name: "signal " + sigName(sig), kind: familyProg, sigs: []syscall.Signal{sig}})
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGHUP} {
		rows = append(rows, scenario{name: "signal " + sigName(sig), kind: familyProg, mode: pipePID1,
			sigs: []syscall.Signal{sig}})
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTSTP, syscall.SIGWINCH, syscall.SIGHUP} {
		rows = append(rows, scenario{name: "signal " + sigName(sig), kind: familyProg, mode: ttyChild,
			sigs: []syscall.Signal{sig}})
	}
	rows = append(rows, scenario{name: "signal TTOU", kind: familyProg, mode: ttyPID1,
		sigs: []syscall.Signal{syscall.SIGTTOU}})
	return rows
}

func tiniScenarios() []scenario {
	dd := []string{"--"}
	rows := []scenario{
		{name: "--version", argv: []string{"--version"}},
		{name: "-h", argv: []string{"-h"}},
		{name: "-l", argv: []string{"-l"}},
		{name: "no program", argv: nil},
		{name: "unknown option", argv: []string{"-x", "--", "true"}},
		{name: "-e 256", argv: []string{"-e", "256", "--", "true"}},
		{name: "-p SIGBOGUS", argv: []string{"-p", "SIGBOGUS", "--", "true"}},
		{name: "-e 3, exit 3", args: []string{"-e", "3"}, argv: []string{"--", "/bin/sh", "-c", "exit 3"}},
		{name: "-e 3 -e 4, exit 4", args: []string{"-e", "3", "-e", "4"}, argv: []string{"--", "/bin/sh", "-c", "exit 4"}},
		{name: "-e 3, exit 2", args: []string{"-e", "3"}, argv: []string{"--", "/bin/sh", "-c", "exit 2"}},
		{name: "-v", args: []string{"-v"}, argv: []string{"--", "true"}},
		{name: "-vvv", args: []string{"-vvv"}, argv: []string{"--", "true"}},
		{name: "TINI_VERBOSITY=0", env: []string{"TINI_VERBOSITY=0"}, argv: []string{"--", "true"}},
		{name: "-s", args: []string{"-s"}, argv: []string{"--", "true"}},
		{name: "-w, pid1", args: []string{"-w"}, mode: pipePID1, argv: []string{"--", "true"}},
		{name: "-p SIGKILL", args: []string{"-p", "SIGKILL"}, argv: []string{"--", "true"}},
		{name: "report -s", args: []string{"-s"}, kind: reportProg, end: "exit 0"},
		{name: "report TINI_SUBREAPER", env: []string{"TINI_SUBREAPER="}, kind: reportProg, end: "exit 0"},
		{name: "report -g", args: []string{"-g"}, kind: reportProg, end: "exit 0"},
		{name: "report -g, tty", args: []string{"-g"}, kind: reportProg, mode: ttyChild, end: "exit 0"},
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT} {
		rows = append(rows, scenario{name: "-g, signal " + sigName(sig), args: []string{"-g"}, kind: familyProg,
			sigs: []syscall.Signal{sig}})
	}
	rows = append(rows, scenario{name: "TINI_KILL_PROCESS_GROUP, signal USR1", env: []string{"TINI_KILL_PROCESS_GROUP=1"},
		kind: familyProg, sigs: []syscall.Signal{syscall.SIGUSR1}})
	return append(rows, common(dd)...)
}

func dumbInitScenarios() []scenario {
	rows := []scenario{
		{name: "--version", argv: []string{"--version"}},
		{name: "-V", argv: []string{"-V"}},
		{name: "-h", argv: []string{"-h"}},
		{name: "--help", argv: []string{"--help"}},
		{name: "no program", argv: nil},
		{name: "unknown option", argv: []string{"-x", "true"}},
		{name: "-r by name", argv: []string{"-r", "USR1:2", "true"}},
		{name: "-r 40:1", argv: []string{"-r", "40:1", "true"}},
		{name: "-v", args: []string{"-v"}, argv: []string{"true"}},
		{name: "DUMB_INIT_DEBUG=1", env: []string{"DUMB_INIT_DEBUG=1"}, argv: []string{"true"}},
		{name: "report -c", args: []string{"-c"}, kind: reportProg, end: "exit 0"},
		{name: "report -c, tty", args: []string{"-c"}, kind: reportProg, mode: ttyChild, end: "exit 0"},
		{name: "report DUMB_INIT_SETSID=0", env: []string{"DUMB_INIT_SETSID=0"}, kind: reportProg, end: "exit 0"},
		{name: "report --single-child, pid1", args: []string{"--single-child"}, kind: reportProg, mode: pipePID1, end: "exit 0"},
		{name: "-c, exit 3", args: []string{"-c"}, argv: []string{"/bin/sh", "-c", "exit 3"}},
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGTSTP} {
		rows = append(rows, scenario{name: "-c, signal " + sigName(sig), args: []string{"-c"}, kind: familyProg,
			sigs: []syscall.Signal{sig}})
	}
	rows = append(rows,
		scenario{name: "-r 10:12, signal USR1", args: []string{"-r", "10:12"}, kind: familyProg,
			sigs: []syscall.Signal{syscall.SIGUSR1}},
		scenario{name: "-r 1:0, signal HUP", args: []string{"-r", "1:0"}, kind: familyProg,
			sigs: []syscall.Signal{syscall.SIGHUP}},
		scenario{name: "-r 15:10, signal TERM", args: []string{"--rewrite", "15:10"}, kind: familyProg,
			sigs: []syscall.Signal{syscall.SIGTERM}},
		scenario{name: "DUMB_INIT_SETSID=0, signal USR1", env: []string{"DUMB_INIT_SETSID=0"}, kind: familyProg,
			sigs: []syscall.Signal{syscall.SIGUSR1}},
	)
	rows = append(rows, common(nil)...)
	return rows
}

func catatonitScenarios() []scenario {
	dd := []string{"--"}
	rows := []scenario{
		{name: "-V", argv: []string{"-V"}},
		{name: "--version", argv: []string{"--version"}},
		{name: "-h", argv: []string{"-h"}},
		{name: "-L", argv: []string{"-L"}},
		{name: "no program", argv: nil},
		{name: "unknown option", argv: []string{"-x", "--", "true"}},
		{name: "CATATONIT_DEBUG", env: []string{"CATATONIT_DEBUG=1"}, argv: []string{"--", "true"}},
		{name: "-P, then USR1, HUP, TERM", argv: []string{"-P"}, sigs: []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGTERM}},
		{name: "-P, then INT", argv: []string{"-P"}, mode: pipePID1, sigs: []syscall.Signal{syscall.SIGINT}},
		{name: "report -g", args: []string{"-g"}, kind: reportProg, end: "exit 0"},
		{name: "report -g, tty", args: []string{"-g"}, kind: reportProg, mode: ttyChild, end: "exit 0"},
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGTERM} {
		rows = append(rows, scenario{name: "-g, signal " + sigName(sig), args: []string{"-g"}, kind: familyProg,
			sigs: []syscall.Signal{sig}})
	}
	rows = append(rows, common(dd)...)
	return rows
}

// scenariosFor is the table of a peer family, each row named uniquely (with its mode).
func scenariosFor(family string) []scenario {
	var rows []scenario
	switch family {
	case "tini":
		rows = tiniScenarios()
	case "dumb-init":
		rows = dumbInitScenarios()
	case "catatonit":
		rows = catatonitScenarios()
	}
	seen := map[string]bool{}
	for i := range rows {
		if rows[i].mode != pipeChild {
			rows[i].name += " [" + rows[i].mode.String() + "]"
		}
		if seen[rows[i].name] {
			panic(fmt.Sprintf("%s: scenario %q twice", family, rows[i].name))
		}
		seen[rows[i].name] = true
	}
	return rows
}
