package jobs

import (
	"fmt"
	"slices"
)

// transitions is the job state machine: for each kind, the states a job in
// a state may move to. A move to the same state (progress, a new Atlas
// state) is listed too. Every write of a job's state goes through
// Store.Apply or the store's approval methods, which refuse anything not
// listed here.
var transitions = map[Kind]map[State][]State{
	KindSnapshot: {
		StateRequested: {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateUnknown},
		StateUnknown:   {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed},
		StateSubmitted: {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed},
		StateQueued:    {StateQueued, StateRunning, StateSucceeded, StateFailed},
		StateRunning:   {StateRunning, StateSucceeded, StateFailed},
	},
	KindExport: {
		// Held for a second person's approval at submission; approved
		// (requested), rejected, withdrawn or lapsed (cancelled).
		StateRequested:        {StateAwaitingApproval, StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled, StateUnknown},
		StateAwaitingApproval: {StateRequested, StateCancelled},
		StateUnknown:          {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled},
		StateSubmitted:        {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled},
		StateQueued:           {StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled},
		StateRunning:          {StateRunning, StateSucceeded, StateFailed, StateCancelled},
	},
	KindRestore: {
		// Held for approval as exports are; cancelled in Atlas (by a person
		// from its page) while queued or running.
		StateRequested:        {StateAwaitingApproval, StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled, StateUnknown},
		StateAwaitingApproval: {StateRequested, StateCancelled},
		StateUnknown:          {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled},
		StateSubmitted:        {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled},
		StateQueued:           {StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled},
		StateRunning:          {StateRunning, StateSucceeded, StateFailed, StateCancelled},
	},
	KindIngestion: {
		StateRequested: {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateUnknown},
		StateUnknown:   {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed},
		StateSubmitted: {StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed},
		StateQueued:    {StateQueued, StateRunning, StateSucceeded, StateFailed},
		StateRunning:   {StateRunning, StateSucceeded, StateFailed},
	},
}

// CanMove reports whether a job of kind k may go from one state to another.
func CanMove(k Kind, from, to State) bool {
	return slices.Contains(transitions[k][from], to)
}

// TransitionError is a change the state machine does not allow, such as a
// running export going back to queued or an ended job moving again.
type TransitionError struct {
	Kind     Kind
	From, To State
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("jobs: a %s job cannot go from %s to %s", e.Kind, e.From, e.To)
}

func checkMove(k Kind, from, to State) error {
	if !CanMove(k, from, to) {
		return &TransitionError{Kind: k, From: from, To: to}
	}
	return nil
}
