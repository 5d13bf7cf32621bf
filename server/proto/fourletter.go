package proto

// fourLetterWords are the commands ZooKeeper 3.8 recognises in the first four
// bytes of a connection (FourLetterCommands.java). stmk is followed by an
// 8-byte mask that the caller must read.
var fourLetterWords = map[[4]byte]string{}

func init() {
	for _, w := range []string{
		"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
		"mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
	} {
		fourLetterWords[[4]byte([]byte(w))] = w
	}
}

// IsFourLetterWord reports whether the first four bytes of a new connection
// are a four-letter command rather than a frame length, and returns the
// command. (Every command read as a length exceeds any sane maxLen, so the
// check is unambiguous.)
func IsFourLetterWord(first4 [4]byte) (string, bool) {
	w, ok := fourLetterWords[first4]
	return w, ok
}
