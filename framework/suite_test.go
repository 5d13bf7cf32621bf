package framework_test

import (
	"testing"
	"time"
)

// TestSuite runs every behaviour test against each target server. Tests share
// one server per target (each under its own path) to keep the suite fast.
func TestSuite(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.Name, func(t *testing.T) {
			srv := tg.Start(t, sharedTick)
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					if tc.ownTick != 0 {
						tc.run(t, tg.Start(t, tc.ownTick))
						return
					}
					tc.run(t, srv)
				})
			}
		})
	}
}

// sharedTick gives sessions between 1 s and 10 s on the shared server.
const sharedTick = 500 * time.Millisecond

var suite = []struct {
	name    string
	run     func(t *testing.T, srv target)
	ownTick time.Duration // when set, the test gets its own server with this tick
}{
	{name: "CreateModes", run: testCreateModes},
	{name: "GetSetDelete", run: testGetSetDelete},
	{name: "Transactions", run: testTransactions},
	{name: "ACLAndAuth", run: testACLAndAuth},
	{name: "Namespaces", run: testNamespaces},
	{name: "Lifecycle", run: testLifecycle},
	{name: "RetryDroppedConnections", run: testRetryDroppedConnections},
	{name: "ProtectedCreateRecovers", run: testProtectedCreateRecovers},
	{name: "SequentialCreateNotRepeated", run: testSequentialCreateNotRepeated},
	{name: "GuaranteedDelete", run: testGuaranteedDelete},
	{name: "WatchesSurviveReconnect", run: testWatchesSurviveReconnect},
	{name: "StatesSessionExpired", run: testStatesSessionExpired},
	{name: "StatesLostWhileSuspended", run: testStatesLostWhileSuspended},
	{name: "SessionHandle", run: testSessionHandle},
	// Long ticks allow a 60 s session, so a slow restart on a loaded machine
	// stays within the session.
	{name: "StatesServerRestart", run: testStatesServerRestart, ownTick: 3 * time.Second},
}
