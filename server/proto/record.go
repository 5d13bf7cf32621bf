package proto

// Record is a jute record that can be encoded and decoded. Decode reports
// failure through the Decoder's sticky error (check d.Err afterwards).
type Record interface {
	Encode(e *Encoder)
	Decode(d *Decoder)
}
