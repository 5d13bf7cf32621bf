package framework_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"
	"github.com/herd-io/herd/framework"
)

func TestParseConnectString(t *testing.T) {
	for _, tc := range []struct {
		in      string
		servers []string
		chroot  string
		bad     bool
	}{
		{in: "a:1", servers: []string{"a:1"}},
		{in: "a:1,b:2/app/x", servers: []string{"a:1", "b:2"}, chroot: "/app/x"},
		{in: "a:1/", servers: []string{"a:1"}},
		{in: "a:1/app/", bad: true},
		{in: "/app", bad: true},
		{in: "", bad: true},
	} {
		s, c, err := framework.ParseConnectString(tc.in)
		if tc.bad {
			if !errors.Is(err, framework.ErrInvalidConnectString) {
				t.Errorf("%q: err %v, want ErrInvalidConnectString", tc.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(s, tc.servers) || c != tc.chroot {
			t.Errorf("%q = %v %q %v", tc.in, s, c, err)
		}
	}
}

func TestProtectedNames(t *testing.T) {
	id := uuid.New()
	n := framework.ProtectedName(id, "lock-0000000001")
	if len(n) != 40+len("lock-0000000001") || !framework.IsProtectedName(n) {
		t.Fatalf("%q", n)
	}
	if got := framework.StripProtectedPrefix(n); got != "lock-0000000001" {
		t.Fatalf("strip = %q", got)
	}
	// go-zookeeper's own protected names (32 hex digits) are not Curator's.
	for _, bad := range []string{"lock-1", "_c_0123456789abcdef0123456789abcdef-lock-1", "_c_" + id.String() + "-"} {
		if framework.IsProtectedName(bad) {
			t.Errorf("%q reported protected", bad)
		}
	}
}

func TestPaths(t *testing.T) {
	if p, n := framework.SplitPath("/a/b/c"); p != "/a/b" || n != "c" {
		t.Fatal(p, n)
	}
	if p, n := framework.SplitPath("/a"); p != "/" || n != "a" {
		t.Fatal(p, n)
	}
	if got := framework.JoinPath("/a", "b", "c"); got != "/a/b/c" {
		t.Fatal(got)
	}
}

func TestIsRetryable(t *testing.T) {
	for _, err := range []error{zk.ErrConnectionClosed, zk.ErrNoServer, zk.ErrSessionMoved, zk.ErrSessionExpired,
		fmt.Errorf("wrapped: %w", zk.ErrConnectionClosed), fmt.Errorf("unknown error: -7")} {
		if !framework.IsRetryable(err) {
			t.Errorf("%v not retryable", err)
		}
	}
	for _, err := range []error{nil, zk.ErrNoNode, zk.ErrNodeExists, zk.ErrBadVersion, zk.ErrNoAuth,
		fmt.Errorf("%w: %w", framework.ErrMaybeApplied, zk.ErrConnectionClosed)} {
		if framework.IsRetryable(err) {
			t.Errorf("%v retryable", err)
		}
	}
}

// count returns how many retries a policy allows and the sleeps it asks for.
func count(p framework.RetryPolicy, limit int) (int, []time.Duration) {
	b := p.NewBackOff()
	b.Reset()
	var sleeps []time.Duration
	for len(sleeps) < limit {
		d := b.NextBackOff()
		if d == backoff.Stop {
			break
		}
		sleeps = append(sleeps, d)
	}
	return len(sleeps), sleeps
}

func TestRetryPolicies(t *testing.T) {
	if n, s := count(framework.RetryNTimes(3, 5*time.Millisecond), 100); n != 3 || s[0] != 5*time.Millisecond {
		t.Errorf("RetryNTimes: %d %v", n, s)
	}
	if n, _ := count(framework.RetryOneTime(time.Millisecond), 100); n != 1 {
		t.Errorf("RetryOneTime: %d", n)
	}
	if n, _ := count(framework.NoRetry(), 100); n != 0 {
		t.Errorf("NoRetry: %d", n)
	}
	if n, _ := count(framework.RetryForever(time.Millisecond), 100); n != 100 {
		t.Errorf("RetryForever: %d", n)
	}
	n, s := count(framework.ExponentialBackoff(10*time.Millisecond, 6, 50*time.Millisecond), 100)
	if n != 6 {
		t.Errorf("ExponentialBackoff retries %d, want 6", n)
	}
	for _, d := range s {
		if d > 50*time.Millisecond || d <= 0 {
			t.Errorf("ExponentialBackoff sleep %v outside (0, 50ms]", d)
		}
	}
	if s[0] > 15*time.Millisecond || s[len(s)-1] < 25*time.Millisecond {
		t.Errorf("ExponentialBackoff does not grow: %v", s)
	}
	if n, _ := count(framework.ExponentialBackoff(time.Millisecond, 1000, time.Millisecond), 1000); n != 29 {
		t.Errorf("ExponentialBackoff clamp: %d retries, want 29", n)
	}
	// RetryUntilElapsed stops once the elapsed time passes the limit.
	b := framework.RetryUntilElapsed(20*time.Millisecond, 10*time.Millisecond).NewBackOff()
	// start is read before Reset starts the policy's clock, so the policy's
	// elapsed time never exceeds time.Since(start).
	start := time.Now()
	b.Reset()
	for b.NextBackOff() != backoff.Stop {
		if time.Since(start) > 5*time.Second {
			t.Fatal("RetryUntilElapsed never stops")
		}
	}
	if time.Since(start) < 10*time.Millisecond { // stops once the next sleep would pass the limit
		t.Error("RetryUntilElapsed stopped early")
	}
}

func TestStateNames(t *testing.T) {
	want := map[framework.ConnectionState]string{framework.Connected: "CONNECTED", framework.Suspended: "SUSPENDED",
		framework.Reconnected: "RECONNECTED", framework.Lost: "LOST", framework.ReadOnly: "READ_ONLY", 0: "LATENT"}
	for s, n := range want {
		if s.String() != n {
			t.Errorf("%d: %q", s, s.String())
		}
	}
	if !framework.Reconnected.IsConnected() || framework.Suspended.IsConnected() || framework.Lost.IsConnected() {
		t.Error("IsConnected")
	}
}
