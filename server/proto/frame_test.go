package proto

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadFrame(t *testing.T) {
	var stream []byte
	stream = AppendFrame(stream, []byte("hello"))
	stream = AppendFrame(stream, nil)
	stream = AppendFrame(stream, bytes.Repeat([]byte{7}, 100))
	r := iotest.OneByteReader(bytes.NewReader(stream))
	buf := make([]byte, 0, 16)
	got, err := ReadFrame(r, buf, 0)
	if err != nil || string(got) != "hello" {
		t.Fatalf("frame 1: %q, %v", got, err)
	}
	if &got[0] != &buf[:1][0] {
		t.Error("frame that fits was not read into buf")
	}
	if got, err = ReadFrame(r, buf, 0); err != nil || len(got) != 0 {
		t.Fatalf("frame 2: %q, %v", got, err)
	}
	if got, err = ReadFrame(r, buf, 0); err != nil || len(got) != 100 || got[99] != 7 {
		t.Fatalf("frame 3: %d bytes, %v", len(got), err)
	}
	if _, err = ReadFrame(r, buf, 0); err != io.EOF {
		t.Fatalf("at end: %v, want io.EOF", err)
	}
}

func TestReadFrameErrors(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		maxLen int
		want   error
	}{
		{"negative", "ffffffff", 0, ErrFrameTooLarge},
		{"over default max", "00100000", 0, ErrFrameTooLarge},
		{"over max", "00000005 0102030405", 4, ErrFrameTooLarge},
		// 2 GiB claimed: must fail without allocating it.
		{"huge", "7fffffff", 0x7fffffff - 1, ErrFrameTooLarge},
		{"cut header", "0000", 0, io.ErrUnexpectedEOF},
		{"cut body", "00000004 0102", 0, io.ErrUnexpectedEOF},
		{"empty body stream", "00000004", 0, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(unhex(t, c.in)), nil, c.maxLen)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestReadFrameBodyAfterFourLetterCheck(t *testing.T) {
	first := [4]byte{0, 0, 0, 2}
	if _, ok := IsFourLetterWord(first); ok {
		t.Fatal("a length was taken for a command")
	}
	got, err := ReadFrameBody(bytes.NewReader([]byte("ok")), 2, nil, 0)
	if err != nil || string(got) != "ok" {
		t.Fatalf("%q, %v", got, err)
	}
}

func TestIsFourLetterWord(t *testing.T) {
	for _, w := range []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
		"mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"} {
		if got, ok := IsFourLetterWord([4]byte([]byte(w))); !ok || got != w {
			t.Errorf("%s: %q, %v", w, got, ok)
		}
	}
	for _, w := range []string{"RUOK", "kill", "reqs", "\x00\x00\x00\x2c", "srv "} {
		if _, ok := IsFourLetterWord([4]byte([]byte(w))); ok {
			t.Errorf("%q accepted", w)
		}
	}
}
