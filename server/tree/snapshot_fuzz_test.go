package tree

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzReadSnapshot: any input is refused with ErrBadSnapshot or decodes to a
// tree that writes a snapshot which reads back to the same bytes; nothing
// panics.
func FuzzReadSnapshot(f *testing.F) {
	if old, err := os.ReadFile("testdata/snapshot-v1.bin"); err == nil {
		f.Add(old)
	}
	var b bytes.Buffer
	tr := New()
	if err := tr.WriteSnapshot(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadSnapshot(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("error not ErrBadSnapshot: %v", err)
			}
			return
		}
		first := snapshotBytes(t, tr)
		again, err := ReadSnapshot(bytes.NewReader(first))
		if err != nil {
			t.Fatalf("a written snapshot does not read back: %v", err)
		}
		if !bytes.Equal(first, snapshotBytes(t, again)) {
			t.Fatal("snapshot not stable across a round trip")
		}
	})
}
