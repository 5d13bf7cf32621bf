package zaphclog

import (
	"errors"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestLevelsAndFields checks that hclog's levels become zap's, that the zap
// core's level filters them (a Raft warning survives --log-level warn, its
// info lines do not), and that key/value pairs become fields.
func TestLevelsAndFields(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	l := New(zap.New(core)).Named("raft")
	l.Info("entering follower state", "term", 3)
	l.Warn("heartbeat timeout reached", "last-leader-id", "2", "err", errors.New("boom"))
	l.Error("failed to appendEntries", "peer", "3")
	l.With("id", 1).Warn("with")
	l.Log(hclog.Trace, "trace")
	if l.IsInfo() || !l.IsWarn() || l.GetLevel() != hclog.Warn {
		t.Errorf("IsInfo %v IsWarn %v level %v", l.IsInfo(), l.IsWarn(), l.GetLevel())
	}
	got := logs.All()
	if len(got) != 3 {
		t.Fatalf("logged %d entries, want 3: %v", len(got), got)
	}
	w := got[0]
	if w.Level != zapcore.WarnLevel || w.Message != "heartbeat timeout reached" || w.LoggerName != "raft" {
		t.Errorf("warn entry %+v", w.Entry)
	}
	if f := w.ContextMap(); f["last-leader-id"] != "2" || f["err"] != "boom" {
		t.Errorf("warn fields %v", f)
	}
	if got[1].Level != zapcore.ErrorLevel {
		t.Errorf("error logged at %v", got[1].Level)
	}
	if got[2].ContextMap()["id"] != int64(1) {
		t.Errorf("With fields %v", got[2].ContextMap())
	}
}

func TestDemote(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := New(zap.New(core), Demote("expected", zapcore.InfoLevel))
	l.Warn("expected")
	l.Warn("unexpected")
	got := logs.All()
	if len(got) != 2 || got[0].Level != zapcore.InfoLevel || got[1].Level != zapcore.WarnLevel {
		t.Errorf("entries %v", got)
	}
}

func TestOddArgumentsAndStandardLogger(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	l := New(zap.New(core))
	l.Info("odd", "k")
	l.StandardLogger(nil).Print("from the log package\n")
	got := logs.All()
	if len(got) != 2 || got[0].ContextMap()["EXTRA_VALUE_AT_END"] != "k" || got[1].Message != "from the log package" {
		t.Errorf("entries %v", got)
	}
}
