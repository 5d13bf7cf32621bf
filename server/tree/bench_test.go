package tree

import (
	"bytes"
	"io"
	"runtime"
	"strconv"
	"testing"

	"github.com/herd-io/herd/server/proto"
)

// bigTree builds n znodes: n/1000 directories of up to 1000 children with 32
// bytes of data each.
func bigTree(b *testing.B, n int) *Tree {
	b.Helper()
	tr := New()
	data := bytes.Repeat([]byte("x"), 32)
	z := int64(0)
	for i := 0; i < n; i++ {
		z++
		dir := "/d" + strconv.Itoa(i/1000)
		if i%1000 == 0 {
			if _, _, err := tr.Create(Txn{Zxid: z, Time: z}, anyone, proto.OpCreate, dir, nil, open, 0, 0); err != nil {
				b.Fatal(err)
			}
			continue
		}
		if _, _, err := tr.Create(Txn{Zxid: z, Time: z}, anyone, proto.OpCreate, dir+"/n"+strconv.Itoa(i), data, open, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
	tr.TakeEvents()
	return tr
}

func BenchmarkCreate(b *testing.B) {
	tr := New()
	data := []byte("0123456789abcdef")
	mustCreateAt(&testing.T{}, tr, Txn{Zxid: 1}, "/b")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.Create(Txn{Zxid: int64(i + 2)}, anyone, proto.OpCreate, "/b/n"+strconv.Itoa(i), data, open, 0, 0); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 0 {
			tr.TakeEvents()
		}
	}
}

func BenchmarkCreateSequential(b *testing.B) {
	tr := New()
	data := []byte("0123456789abcdef")
	mustCreateAt(&testing.T{}, tr, Txn{Zxid: 1}, "/b")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.Create(Txn{Zxid: int64(i + 2)}, anyone, proto.OpCreate, "/b/lock-", data, open, proto.ModeEphemeralSequential, 0); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 0 {
			tr.TakeEvents()
		}
	}
}

func BenchmarkSetData(b *testing.B) {
	tr := New()
	mustCreateAt(&testing.T{}, tr, Txn{Zxid: 1}, "/b")
	data := []byte("0123456789abcdef")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.SetData(Txn{Zxid: int64(i + 2)}, anyone, "/b", data, -1); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 0 {
			tr.TakeEvents()
		}
	}
}

func BenchmarkGetData(b *testing.B) {
	tr := bigTree(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.GetData(anyone, "/d3/n3500"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMulti(b *testing.B) {
	tr := New()
	mustCreateAt(&testing.T{}, tr, Txn{Zxid: 1}, "/b")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := "/b/n" + strconv.Itoa(i)
		res := tr.Multi(Txn{Zxid: int64(i + 2)}, anyone, []proto.MultiOp{
			createOp(proto.OpCreate, p, 0), setOp(p, 0), checkOp("/b", -1),
		})
		if res[0].Err != 0 {
			b.Fatal(res)
		}
		if i%1024 == 0 {
			tr.TakeEvents()
		}
	}
}

func BenchmarkWriteSnapshot100k(b *testing.B) {
	tr := bigTree(b, 100000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tr.WriteSnapshot(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadSnapshot100k(b *testing.B) {
	var buf bytes.Buffer
	if err := bigTree(b, 100000).WriteSnapshot(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClone100k(b *testing.B) {
	tr := bigTree(b, 100000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = tr.Clone()
	}
}

// BenchmarkMemoryPerZnode reports the retained heap per znode (100k znodes,
// 32-byte data, paths like /d12/n12345).
func BenchmarkMemoryPerZnode(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr := bigTree(b, 100000)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/100000, "B/znode")
		runtime.KeepAlive(tr)
	}
}

// BenchmarkMemoryPerZnodeRestored is BenchmarkMemoryPerZnode for the same
// tree read back from a snapshot, as a restart holds it.
func BenchmarkMemoryPerZnodeRestored(b *testing.B) {
	var buf bytes.Buffer
	if err := bigTree(b, 100000).WriteSnapshot(&buf); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr, err := ReadSnapshot(bytes.NewReader(buf.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/100000, "B/znode")
		runtime.KeepAlive(tr)
	}
}

// The 1M-znode variants answer the design's "measure at 1M znodes"; they
// need about 1 GB of heap.
func BenchmarkClone1M(b *testing.B) {
	tr := bigTree(b, 1000000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = tr.Clone()
	}
}

// BenchmarkFreeze1M is the state machine's snapshot point (Clone1M was).
func BenchmarkFreeze1M(b *testing.B) {
	tr := bigTree(b, 1000000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = tr.Freeze()
	}
}

func BenchmarkWriteSnapshot1M(b *testing.B) {
	tr := bigTree(b, 1000000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tr.WriteSnapshot(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
