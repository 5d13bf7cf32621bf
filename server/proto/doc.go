// Package proto is the wire codec of the ZooKeeper 3.8 client protocol: the jute
// primitive encoding (Encoder, Decoder), every request and response record, the
// multi/multiRead envelopes, length-prefixed framing and four-letter-word
// detection.
//
// Everything is hand-written (no reflection) because the server decodes every
// packet: an Encoder appends to a reusable slice and a Decoder walks its input
// with a sticky error, so a record's Decode needs no per-field error checks.
// Decoding never panics and never allocates more than a small multiple of its
// input, whatever the bytes; every decode failure wraps ErrMalformed.
package proto
