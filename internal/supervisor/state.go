package supervisor

import (
	"fmt"
	"slices"
	"strings"
)

// This file is the service state machine: the states, the events that move a service between
// them, the table of every legal move, and the one function through which every change of
// state goes. docs/services.md draws the table (go generate writes it; a test checks it).

//go:generate go test -run TestStateDiagramInDocs -update-docs .

// Event is what makes a service change state.
type Event string

const (
	// EvStarted: a run's process started.
	EvStarted Event = "started"
	// EvStartFailed: a run could not start (not found, not executable, no notify socket...).
	EvStartFailed Event = "start failed"
	// EvReady: the readiness check passed (at once for a service without one).
	EvReady Event = "ready"
	// EvStop: uno sent the stop signal (a shutdown, an operator, a check that timed out).
	EvStop Event = "stop"
	// EvKill: uno sent SIGKILL (stop_timeout or the grace ran out, or a second TERM).
	EvKill Event = "kill"
	// EvExited: the run's process ended.
	EvExited Event = "exited"
	// EvGiveUp: a killed process was not reaped in time; it is left to the final sweep.
	EvGiveUp Event = "give up"
	// EvDependencyFailed: a dependency ended without reaching its condition.
	EvDependencyFailed Event = "dependency failed"
	// EvCancel: uno stops, or an operator stops the service, before its next run.
	EvCancel Event = "cancel"
	// EvRearm: an operator's start or a reload makes the service start again from scratch.
	EvRearm Event = "rearm"
	// EvSchedule: a cron job's dependencies hold, or its run ended: it waits for its next time.
	EvSchedule Event = "schedule"
)

// eventMeaning says what each event is, for the generated docs.
var eventMeaning = []struct {
	Event   Event
	Meaning string
}{
	{EvStarted, "a run's process started (dependencies reached their conditions, or the restart delay is over)"},
	{EvStartFailed, "a run could not start (not found, not executable, bad working_dir, no notify socket)"},
	{EvReady, "the readiness check passed (at once for a service without one)"},
	{EvStop, "uno sent the stop signal: the container stops (reverse dependency order), an operator, or a check that timed out"},
	{EvKill, "uno sent SIGKILL: stop_timeout or the grace ran out, or a second stop signal"},
	{EvExited, "the run's process ended; the restart policy, the type and whether uno is stopping pick the next state"},
	{EvGiveUp, "a killed process was not reaped within a bounded wait; the final sweep gets it"},
	{EvDependencyFailed, "a dependency ended without reaching its condition"},
	{EvCancel, "uno stops, or an operator stops the service, before its next run"},
	{EvRearm, "an operator's start or a reload makes the service start again from scratch"},
	{EvSchedule, "a cron job's dependencies hold: it waits for its next due time (cron jobs only)"},
}

// transition is one legal move.
type transition struct {
	From  State
	Event Event
	To    State
}

// Transitions lists every legal change of state. What follows a run's end (the restart policy,
// the service's type, whether uno is stopping) picks one of several targets for one event.
var Transitions = []transition{
	{Waiting, EvStarted, Starting},
	{Waiting, EvStartFailed, Backoff},
	{Waiting, EvStartFailed, Failed},
	{Waiting, EvStartFailed, Stopped},
	{Waiting, EvDependencyFailed, Failed},
	{Waiting, EvCancel, Stopped},
	{Waiting, EvRearm, Waiting},

	{Starting, EvReady, Running},
	{Starting, EvStop, Stopping},
	{Starting, EvKill, Killing},
	{Starting, EvExited, Backoff},
	{Starting, EvExited, Completed},
	{Starting, EvExited, Exited},
	{Starting, EvExited, Failed},
	{Starting, EvExited, Stopped},

	{Running, EvStop, Stopping},
	{Running, EvKill, Killing},
	{Running, EvExited, Backoff},
	{Running, EvExited, Completed},
	{Running, EvExited, Exited},
	{Running, EvExited, Failed},
	{Running, EvExited, Stopped},

	{Stopping, EvKill, Killing},
	{Stopping, EvExited, Stopped},
	// A run stopped because it never became ready is a failed start: the restart policy decides.
	{Stopping, EvExited, Backoff},
	{Stopping, EvExited, Failed},

	{Killing, EvExited, Stopped},
	{Killing, EvExited, Backoff},
	{Killing, EvExited, Failed},
	{Killing, EvGiveUp, Stopped},
	// A run killed for its own failure and given up on: the restart policy decides (giveUp);
	// its end for good is the Failed below.
	{Killing, EvGiveUp, Backoff},

	{Backoff, EvStarted, Starting},
	{Backoff, EvStartFailed, Backoff},
	{Backoff, EvStartFailed, Failed},
	{Backoff, EvStartFailed, Stopped},
	{Backoff, EvCancel, Stopped},
	{Backoff, EvRearm, Waiting},

	{Completed, EvRearm, Waiting},
	{Exited, EvRearm, Waiting},
	{Failed, EvRearm, Waiting},
	{Stopped, EvRearm, Waiting},

	// Cron jobs (cron.go): a run's end, or a failed start, goes back to the schedule; failures
	// in a row past fail_after end an essential job.
	{Waiting, EvSchedule, Scheduled},
	{Scheduled, EvStarted, Starting},
	{Scheduled, EvStartFailed, Scheduled},
	{Scheduled, EvStartFailed, Failed},
	{Scheduled, EvCancel, Stopped},
	{Scheduled, EvRearm, Waiting},
	{Running, EvExited, Scheduled},
	{Stopping, EvExited, Scheduled},
	{Killing, EvExited, Scheduled},
	{Killing, EvGiveUp, Scheduled},
	{Killing, EvGiveUp, Failed},
}

// legal reports whether the table has the move.
func legal(from State, ev Event, to State) bool {
	return slices.Contains(Transitions, transition{from, ev, to})
}

// illegalTransition, when set (by tests), is told of every move the table does not have.
var illegalTransition func(name string, from State, ev Event, to State)

// transition moves s to state to on ev. A move the table does not have is a bug in uno: it is
// logged as an error and refused, and s keeps its state. It must never take PID 1 down.
func (sv *Supervisor) transition(s *service, ev Event, to State) {
	from := s.state
	if !legal(from, ev, to) {
		sv.log.Error("bug: illegal service state change refused", "service", s.name(), "from", from, "event", ev, "to", to)
		if illegalTransition != nil {
			illegalTransition(s.name(), from, ev, to)
		}
		return
	}
	s.state = to
	sv.log.Debug("service state", "service", s.name(), "from", from, "event", ev, "to", to)
}

// StateDocs is the generated part of docs/services.md: the diagram, and what each event means.
func StateDocs() string {
	var b strings.Builder
	b.WriteString("```mermaid\n" + Mermaid() + "```\n\n| Event | Meaning |\n|---|---|\n")
	for _, e := range eventMeaning {
		fmt.Fprintf(&b, "| %s | %s |\n", e.Event, e.Meaning)
	}
	return b.String()
}

// Mermaid draws the table as a mermaid state diagram, one arrow per (from, to) with the events
// that take it.
func Mermaid() string {
	type edge struct{ from, to State }
	var order []edge
	events := map[edge][]string{}
	for _, t := range Transitions {
		e := edge{t.From, t.To}
		if _, seen := events[e]; !seen {
			order = append(order, e)
		}
		if !slices.Contains(events[e], string(t.Event)) {
			events[e] = append(events[e], string(t.Event))
		}
	}
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n    [*] --> waiting\n")
	for _, e := range order {
		fmt.Fprintf(&b, "    %s --> %s: %s\n", e.from, e.to, strings.Join(events[e], ", "))
	}
	for _, end := range []State{Completed, Exited, Failed, Stopped} {
		fmt.Fprintf(&b, "    %s --> [*]\n", end)
	}
	return b.String()
}
