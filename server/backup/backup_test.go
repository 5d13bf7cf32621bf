package backup

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
)

func TestRoundTripAndDamage(t *testing.T) {
	body := make([]byte, 3*chunkSize+17) // several chunks and a short last one
	rand.New(rand.NewSource(1)).Read(body)
	var framed bytes.Buffer
	w := NewWriter(&framed)
	for p := body; len(p) > 0; p = p[min(len(p), 1000):] {
		if _, err := w.Write(p[:min(len(p), 1000)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	n, err := Read(bytes.NewReader(framed.Bytes()), &got)
	if err != nil || n != int64(len(body)) || !bytes.Equal(got.Bytes(), body) {
		t.Fatalf("round trip: n=%d err=%v equal=%v", n, err, bytes.Equal(got.Bytes(), body))
	}
	whole := framed.Bytes()
	flipped := append([]byte{}, whole...)
	flipped[len(Magic)+10] ^= 0x40
	for name, bad := range map[string][]byte{
		"empty": nil, "magic only": whole[:len(Magic)], "no checksum": whole[:len(whole)-sha256Size],
		"cut in a chunk": whole[:len(whole)/2], "flipped byte": flipped, "foreign": []byte("imok"),
	} {
		if _, err := Read(bytes.NewReader(bad), &bytes.Buffer{}); !errors.Is(err, ErrBadBackup) {
			t.Errorf("%s: %v, want ErrBadBackup", name, err)
		}
	}
	// An empty snapshot still has a terminator and a sum.
	framed.Reset()
	if err := NewWriter(&framed).Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := Read(&framed, &bytes.Buffer{}); n != 0 || err != nil {
		t.Errorf("empty: %d, %v", n, err)
	}
}

const sha256Size = 32

// FuzzRead: any input is read or refused without panicking or allocating
// beyond its chunk bound, and only a well-formed backup is accepted.
func FuzzRead(f *testing.F) {
	var ok bytes.Buffer
	w := NewWriter(&ok)
	_, _ = w.Write([]byte("state"))
	_ = w.Close()
	f.Add(ok.Bytes())
	f.Add([]byte(Magic + "\x00\x00\x00\x05abc"))
	f.Add([]byte(Magic + "\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		n, err := Read(bytes.NewReader(data), &out)
		if err == nil && int64(out.Len()) != n {
			t.Fatalf("accepted with %d bytes out but n=%d", out.Len(), n)
		}
		if err != nil && !errors.Is(err, ErrBadBackup) {
			t.Fatalf("error %v does not wrap ErrBadBackup", err)
		}
	})
}
