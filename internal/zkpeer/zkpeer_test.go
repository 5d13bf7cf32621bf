package zkpeer

import "testing"

func TestStartAnswersRuok(t *testing.T) {
	s := StartT(t, Options{})
	out, err := FourLetter(s.Addr, "ruok", 5e9)
	if err != nil || out != "imok" {
		t.Fatalf("ruok = %q, %v", out, err)
	}
	if st, _ := FourLetter(s.Addr, "srvr", 5e9); st == "" {
		t.Fatal("srvr empty")
	} else {
		t.Log(st)
	}
}
