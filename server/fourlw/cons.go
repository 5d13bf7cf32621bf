package fourlw

import (
	"strings"

	"github.com/herd-io/herd/server/proto"
)

// cons renders one line per connection and a closing empty line.
func cons(conns []ConnStats) string {
	var b strings.Builder
	for _, c := range conns {
		b.WriteString(connLine(c, false))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}

// connLine renders ServerCnxn.dumpConnectionInfo. brief (stat) stops after
// the packet counts; the session fields appear only once a session exists.
func connLine(c ConnStats, brief bool) string {
	var b strings.Builder
	// ZooKeeper prints the selector interest set; a session's connection is
	// reading (OP_READ=1), the 4lw connection itself is not.
	interest := "0"
	if c.SessionID != 0 {
		interest = "1"
	}
	b.WriteString(" " + javaAddr(c.Remote) + "[" + interest + "](queued=" + itoa(c.Queued) +
		",recved=" + itoa(c.Received) + ",sent=" + itoa(c.Sent))
	if !brief && c.SessionID != 0 {
		b.WriteString(",sid=0x" + hex(c.SessionID))
		b.WriteString(",lop=" + OpAbbrev(c.LastOp))
		b.WriteString(",est=" + itoa(unixMilli(c.Established)))
		b.WriteString(",to=" + itoa(c.Timeout.Milliseconds()))
		if c.LastCxid >= 0 {
			b.WriteString(",lcxid=0x" + hex(c.LastCxid))
		}
		b.WriteString(",lzxid=0x" + hex(c.LastZxid))
		b.WriteString(",lresp=" + itoa(unixMilli(c.LastResponse)))
		b.WriteString(",llat=" + itoa(millis(c.LastLatency)))
		b.WriteString(",minlat=" + itoa(millis(c.MinLatency)))
		b.WriteString(",avglat=" + itoa(millis(c.AvgLatency)))
		b.WriteString(",maxlat=" + itoa(millis(c.MaxLatency)))
	}
	b.WriteString(")")
	return b.String()
}

// opAbbrevs are the names FinalRequestProcessor records as a connection's
// last operation.
var opAbbrevs = map[proto.OpCode]string{
	proto.OpPing: "PING", proto.OpCreateSession: "SESS", proto.OpMulti: "MULT", proto.OpMultiRead: "MLTR",
	proto.OpCreate: "CREA", proto.OpCreate2: "CREA", proto.OpCreateTTL: "CREA", proto.OpCreateContainer: "CREA",
	proto.OpDelete: "DELE", proto.OpDeleteContainer: "DELE", proto.OpSetData: "SETD", proto.OpReconfig: "RECO",
	proto.OpSetACL: "SETA", proto.OpCloseSession: "CLOS", proto.OpSync: "SYNC", proto.OpCheck: "CHEC",
	proto.OpExists: "EXIS", proto.OpGetData: "GETD", proto.OpSetWatches: "SETW", proto.OpSetWatches2: "STW2",
	proto.OpAddWatch: "ADDW", proto.OpGetACL: "GETA", proto.OpGetChildren: "GETC", proto.OpGetChildren2: "GETC",
	proto.OpGetAllChildrenNumber: "GETACN", proto.OpCheckWatches: "CHKW", proto.OpRemoveWatches: "REMW",
	proto.OpWhoAmI: "HOMI", proto.OpGetEphemerals: "GETE",
}

// OpAbbrev returns the name cons prints for a connection's last operation,
// "NA" for none or an opcode ZooKeeper does not record.
func OpAbbrev(op proto.OpCode) string {
	if s, ok := opAbbrevs[op]; ok {
		return s
	}
	return "NA"
}
