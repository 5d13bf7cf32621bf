// Package integration holds herd's interop and conformance tests. It has no
// library code: the tests drive every server under test (see targets in
// target_test.go) with independent clients (kazoo, Curator, zkCli.sh; build tag
// interop), compare herd request by request with Apache ZooKeeper 3.8
// (conformance_*_test.go), and feed servers malformed input (badinput_test.go).
package integration
