package tree

import "testing"

// BenchmarkGetChildren lists a directory of 999 children (sorted copy).
func BenchmarkGetChildren(b *testing.B) {
	tr := bigTree(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if kids, _, err := tr.GetChildren(anyone, "/d3"); err != nil || len(kids) != 999 {
			b.Fatal(len(kids), err)
		}
	}
}

// BenchmarkCreateDelete creates and deletes a child of a directory of 999,
// which moves a sibling's name into the gap each time.
func BenchmarkCreateDelete(b *testing.B) {
	tr := bigTree(b, 10000)
	super := Caller{Super: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := Txn{Zxid: int64(20000 + i), Time: 1}
		if _, _, err := tr.Create(tx, super, 1, "/d3/x", nil, open, 0, 0); err != nil {
			b.Fatal(err)
		}
		if err := tr.Delete(tx, super, "/d3/n3500", -1); err != nil {
			b.Fatal(err)
		}
		if _, _, err := tr.Create(tx, super, 1, "/d3/n3500", nil, open, 0, 0); err != nil {
			b.Fatal(err)
		}
		if err := tr.Delete(tx, super, "/d3/x", -1); err != nil {
			b.Fatal(err)
		}
		if i%256 == 0 {
			tr.TakeEvents()
		}
	}
}
