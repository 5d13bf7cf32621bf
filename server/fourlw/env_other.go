//go:build !unix

package fourlw

func osVersion() string { return "<NA>" }

func memory() []KV { return nil }

// ProcessFileDescriptors returns (0, 0): descriptor counts are only known on Unix.
func ProcessFileDescriptors() (open, max int64) { return 0, 0 }
