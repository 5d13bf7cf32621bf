package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ServiceType is how an instance's node is created (Curator's ServiceType).
type ServiceType string

// Service types, with Curator's names.
const (
	// Dynamic instances are EPHEMERAL: they leave with their session.
	Dynamic ServiceType = "DYNAMIC"
	// Static instances are PERSISTENT.
	Static ServiceType = "STATIC"
	// Permanent instances are PERSISTENT.
	Permanent ServiceType = "PERMANENT"
	// DynamicSequential instances are EPHEMERAL_SEQUENTIAL: the server
	// appends a sequence number to the node name (not to the JSON id).
	DynamicSequential ServiceType = "DYNAMIC_SEQUENTIAL"
)

func (t ServiceType) valid() bool {
	switch t {
	case Dynamic, Static, Permanent, DynamicSequential:
		return true
	}
	return false
}

// Instance is one registered instance of a service, with Curator 5.4's
// ServiceInstance fields. It is stored as JSON in Curator's exact field
// order: name, id, address, port, sslPort, payload, registrationTimeUTC,
// serviceType, uriSpec (and enabled when the Discovery writes it). Zero
// values of Address, Port, SSLPort, Payload and URISpec are written as JSON
// null, as Curator writes a null field.
type Instance struct {
	Name    string
	ID      string
	Address string
	Port    int
	SSLPort int
	// Payload is raw JSON. Curator's Java readers with a typed payload class
	// expect an object payload to carry Jackson's "@class" property; strings,
	// numbers and booleans need none.
	Payload json.RawMessage
	// RegistrationTimeUTC is milliseconds since the Unix epoch.
	RegistrationTimeUTC int64
	ServiceType         ServiceType
	URISpec             *URISpec
	// Enabled is true unless an instance was written with "enabled": false
	// (an absent field reads as true, as in Curator).
	Enabled bool
}

// wireInstance is the JSON shape, in Curator's field order.
type wireInstance struct {
	Name                string          `json:"name"`
	ID                  string          `json:"id"`
	Address             *string         `json:"address"`
	Port                *int            `json:"port"`
	SSLPort             *int            `json:"sslPort"`
	Payload             json.RawMessage `json:"payload"`
	RegistrationTimeUTC int64           `json:"registrationTimeUTC"`
	ServiceType         ServiceType     `json:"serviceType"`
	URISpec             *URISpec        `json:"uriSpec"`
	Enabled             *bool           `json:"enabled,omitempty"`
}

func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// encode writes Curator's JSON; withEnabled adds the "enabled" field
// (Curator's non-compatible serialization mode).
func (i Instance) encode(withEnabled bool) ([]byte, error) {
	w := wireInstance{
		Name: i.Name, ID: i.ID, Address: ptr(i.Address), Port: ptr(i.Port), SSLPort: ptr(i.SSLPort),
		Payload: i.Payload, RegistrationTimeUTC: i.RegistrationTimeUTC, ServiceType: i.ServiceType, URISpec: i.URISpec,
	}
	if w.ServiceType == "" {
		w.ServiceType = Dynamic
	}
	if len(w.Payload) == 0 {
		w.Payload = json.RawMessage("null")
	}
	if withEnabled {
		w.Enabled = &i.Enabled
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Jackson does not escape <, > and &
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// CuratorJSON returns the bytes a Discovery stores for i: Curator's default
// (compatible-mode) JSON, byte for byte as Jackson writes it.
func (i Instance) CuratorJSON() ([]byte, error) { return i.encode(false) }

// MarshalJSON writes Curator's default (compatible-mode) JSON. json.Marshal
// then escapes <, > and & as \u003c etc., which Jackson reads the same; use
// CuratorJSON for Jackson's exact bytes.
func (i Instance) MarshalJSON() ([]byte, error) { return i.encode(false) }

// UnmarshalJSON reads Curator's JSON; unknown fields are ignored, as Curator
// ignores them.
func (i *Instance) UnmarshalJSON(b []byte) error {
	var w wireInstance
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*i = Instance{Name: w.Name, ID: w.ID, RegistrationTimeUTC: w.RegistrationTimeUTC,
		ServiceType: w.ServiceType, URISpec: w.URISpec, Enabled: true}
	if w.Address != nil {
		i.Address = *w.Address
	}
	if w.Port != nil {
		i.Port = *w.Port
	}
	if w.SSLPort != nil {
		i.SSLPort = *w.SSLPort
	}
	if len(w.Payload) > 0 && string(w.Payload) != "null" {
		i.Payload = w.Payload
	}
	if w.Enabled != nil {
		i.Enabled = *w.Enabled
	}
	if i.ServiceType == "" {
		i.ServiceType = Dynamic
	}
	return nil
}

// URISpec is Curator's URI template: literal parts and {variable} parts.
type URISpec struct {
	Parts []URIPart `json:"parts"`
}

// URIPart is one token of a URISpec.
type URIPart struct {
	Value    string `json:"value"`
	Variable bool   `json:"variable"`
}

// ErrBadURISpec reports a template with unbalanced braces.
var ErrBadURISpec = errors.New("discovery: bad URI spec")

// ParseURISpec parses a template such as "{scheme}://foo.com:{port}" as
// Curator does ("[" and "]" in a variable stand for literal braces).
func ParseURISpec(spec string) (*URISpec, error) {
	u := &URISpec{Parts: []URIPart{}}
	inside := false
	var cur strings.Builder
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		v := cur.String()
		if inside {
			v = strings.TrimSpace(v)
		}
		u.Parts = append(u.Parts, URIPart{Value: v, Variable: inside})
		cur.Reset()
	}
	for _, r := range spec {
		switch r {
		case '{':
			if inside {
				return nil, fmt.Errorf("%w: { inside a variable in %q", ErrBadURISpec, spec)
			}
			flush()
			inside = true
		case '}':
			if !inside {
				return nil, fmt.Errorf("%w: } without { in %q", ErrBadURISpec, spec)
			}
			flush()
			inside = false
		default:
			cur.WriteRune(r)
		}
	}
	if inside {
		return nil, fmt.Errorf("%w: variable not closed in %q", ErrBadURISpec, spec)
	}
	flush()
	return u, nil
}

// Build fills the template from inst and vars (vars win), as Curator's
// buildUriSpec: scheme is https when inst has an SSL port, else http.
func (u *URISpec) Build(inst Instance, vars map[string]string) string {
	local := map[string]string{"[": "{", "]": "}", "scheme": "http",
		"name": inst.Name, "id": inst.ID, "address": inst.Address,
		"registration-time-utc": strconv.FormatInt(inst.RegistrationTimeUTC, 10),
		"service-type":          strings.ToLower(string(inst.ServiceType)),
	}
	if inst.Port != 0 {
		local["port"] = strconv.Itoa(inst.Port)
	}
	if inst.SSLPort != 0 {
		local["ssl-port"] = strconv.Itoa(inst.SSLPort)
		local["scheme"] = "https"
	}
	for k, v := range vars {
		local[k] = v
	}
	var b strings.Builder
	for _, p := range u.Parts {
		if p.Variable {
			b.WriteString(local[p.Value])
		} else {
			b.WriteString(p.Value)
		}
	}
	return b.String()
}
