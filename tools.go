//go:build tools

// This file pins the module's chosen dependencies in go.mod before every one of
// them is imported by real code, so that `go mod tidy` keeps them.
package herd

import (
	_ "github.com/anishathalye/porcupine"
	_ "github.com/cenkalti/backoff/v4"
	_ "github.com/chzyer/readline"
	_ "github.com/go-zookeeper/zk"
	_ "github.com/google/uuid"
	_ "github.com/hashicorp/raft"
	_ "github.com/hashicorp/raft-wal"
	_ "go.uber.org/goleak"
	_ "go.uber.org/zap"
)
