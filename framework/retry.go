package framework

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// RetryPolicy decides how often and how long to wait between retries of an
// operation that failed with a retryable error. NewBackOff is called once per
// operation; the returned BackOff says backoff.Stop when retries are exhausted.
type RetryPolicy interface {
	NewBackOff() backoff.BackOff
}

// RetryPolicyFunc adapts a function to RetryPolicy.
type RetryPolicyFunc func() backoff.BackOff

// NewBackOff calls f.
func (f RetryPolicyFunc) NewBackOff() backoff.BackOff { return f() }

// ExponentialBackoff retries at most maxRetries times, sleeping a randomised
// base×2ⁿ between attempts, never longer than maxSleep (0 means no cap), like
// Curator's ExponentialBackoffRetry / BoundedExponentialBackoffRetry.
func ExponentialBackoff(base time.Duration, maxRetries int, maxSleep time.Duration) RetryPolicy {
	if maxRetries > 29 { // Curator's clamp; larger values overflow its arithmetic
		maxRetries = 29
	}
	if maxSleep <= 0 {
		maxSleep = time.Duration(1<<62 - 1)
	}
	return RetryPolicyFunc(func() backoff.BackOff {
		b := backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(base),
			backoff.WithMultiplier(2),
			backoff.WithRandomizationFactor(0.5),
			backoff.WithMaxInterval(maxSleep),
			backoff.WithMaxElapsedTime(0),
		)
		return backoff.WithMaxRetries(capped{b, maxSleep}, uint64(maxRetries))
	})
}

// capped bounds every sleep by max: backoff randomises after applying its
// MaxInterval, while Curator's maxSleep is a hard cap.
type capped struct {
	backoff.BackOff
	max time.Duration
}

// NextBackOff returns the wrapped sleep, at most max.
func (c capped) NextBackOff() time.Duration {
	d := c.BackOff.NextBackOff()
	if d == backoff.Stop {
		return d
	}
	return min(d, c.max)
}

// RetryNTimes retries at most n times with a fixed sleep.
func RetryNTimes(n int, sleep time.Duration) RetryPolicy {
	return RetryPolicyFunc(func() backoff.BackOff {
		return backoff.WithMaxRetries(backoff.NewConstantBackOff(sleep), uint64(n))
	})
}

// RetryOneTime retries once after sleep.
func RetryOneTime(sleep time.Duration) RetryPolicy { return RetryNTimes(1, sleep) }

// RetryUntilElapsed retries with a fixed sleep while the retry would still
// start within maxElapsed of the first attempt.
func RetryUntilElapsed(maxElapsed, sleep time.Duration) RetryPolicy {
	return RetryPolicyFunc(func() backoff.BackOff {
		return backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(sleep),
			backoff.WithMultiplier(1),
			backoff.WithRandomizationFactor(0),
			backoff.WithMaxInterval(sleep),
			backoff.WithMaxElapsedTime(maxElapsed),
		)
	})
}

// RetryForever retries with a fixed interval until the operation's context ends
// or the client closes.
func RetryForever(interval time.Duration) RetryPolicy {
	return RetryPolicyFunc(func() backoff.BackOff { return backoff.NewConstantBackOff(interval) })
}

// NoRetry never retries.
func NoRetry() RetryPolicy {
	return RetryPolicyFunc(func() backoff.BackOff { return &backoff.StopBackOff{} })
}
