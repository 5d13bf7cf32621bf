package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/herd-io/herd/server/storage"
)

// check verifies a stopped node's log and snapshots offline, as ZooKeeper's
// zkTxnLogToolkit and zkSnapShotToolkit do, and prints what it found. It exits
// 0 when the node would start with all its state, 1 on damage, 2 on misuse.
func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herd check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "the node's data directory (required)")
	logDir := fs.String("data-log-dir", "", "the node's log directory, if not the data directory (zoo.cfg dataLogDir)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herd check: unexpected argument %q\n", fs.Arg(0))
	}
	if *dataDir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: herd check --data-dir DIR [--data-log-dir DIR]")
		return 2
	}
	r, err := storage.Check(*dataDir, *logDir)
	if err != nil {
		fmt.Fprintln(stderr, "herd check:", err)
		if errors.Is(err, storage.ErrInUse) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stdout, "log %s\n", r.Log.Dir)
	for _, s := range r.Log.Segments {
		state := "open"
		if s.Sealed {
			state = "sealed"
		}
		fmt.Fprintf(stdout, "  segment %s (%s): ", s.File, state)
		if s.LastIndex == 0 {
			fmt.Fprintln(stdout, "no entries")
		} else {
			fmt.Fprintf(stdout, "entries %d-%d ok\n", s.FirstIndex, s.LastIndex)
		}
		if s.Unchecksummed > 0 {
			fmt.Fprintf(stdout, "    %d entries predate entry checksums (their batches verify)\n", s.Unchecksummed)
		}
		if s.TornBytes > 0 {
			fmt.Fprintf(stdout, "    torn last write: %d bytes at offset %d, never acknowledged; cut at the next start\n", s.TornBytes, s.TornAt)
		}
		if s.SealedUnrecorded {
			fmt.Fprintln(stdout, "    sealed, but its rotation did not reach the metadata (full disk?); completed at the next start")
		}
	}
	if r.LogErr != nil {
		fmt.Fprintf(stdout, "  DAMAGED: %v\n", r.LogErr)
	} else {
		fmt.Fprintf(stdout, "  entries %d-%d verify", r.Log.FirstIndex, r.Log.LastIndex)
		if r.Log.HasCleanStop {
			fmt.Fprintf(stdout, "; stopped cleanly at index %d", r.Log.CleanStop)
		} else {
			fmt.Fprint(stdout, "; no clean stop recorded (a crash, or still running)")
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout, "snapshots")
	if len(r.Snapshots) == 0 {
		fmt.Fprintln(stdout, "  none")
	}
	for _, s := range r.Snapshots {
		if s.Err != nil {
			fmt.Fprintf(stdout, "  %s (index %d): DAMAGED: %v\n", s.ID, s.Index, s.Err)
		} else {
			fmt.Fprintf(stdout, "  %s (index %d, term %d, %d bytes) ok\n", s.ID, s.Index, s.Term, s.Size)
		}
	}
	if r.SnapshotErr != nil {
		fmt.Fprintf(stdout, "  CANNOT RESTORE: %v\n", r.SnapshotErr)
	}
	if !r.OK() {
		fmt.Fprintln(stdout, "result: DAMAGED — herd serve refuses to start on this data")
		return 1
	}
	fmt.Fprintln(stdout, "result: ok")
	return 0
}
