package discovery_test

import (
	"encoding/json"
	"testing"

	"github.com/herd-io/herd/recipes/discovery"
)

// curatorJSON is what Curator 5.4's JsonInstanceSerializer (default,
// compatible mode) wrote for this instance, captured from the Debian
// curator-x-discovery 5.4.0 jar:
//
//	ServiceInstance.builder().name("svc").id("id-1").address("10.0.0.1").port(8080)
//	    .sslPort(8443).payload(Map.of("k","v")).registrationTimeUTC(1234)
//	    .serviceType(ServiceType.DYNAMIC).uriSpec(new UriSpec("{scheme}://foo:{port}"))
const curatorJSON = `{"name":"svc","id":"id-1","address":"10.0.0.1","port":8080,"sslPort":8443,"payload":{"@class":"java.util.Collections$SingletonMap","k":"v"},"registrationTimeUTC":1234,"serviceType":"DYNAMIC","uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://foo:","variable":false},{"value":"port","variable":true}]}}`

// curatorNulls is Curator's JSON for an instance with no address, ports,
// payload or URI spec.
const curatorNulls = `{"name":"svc","id":"id-3","address":null,"port":null,"sslPort":null,"payload":null,"registrationTimeUTC":1,"serviceType":"DYNAMIC","uriSpec":null}`

// curatorHTML: Jackson leaves <, > and & as they are.
const curatorHTML = `{"name":"svc","id":"id-2","address":null,"port":null,"sslPort":null,"payload":"a <&> b","registrationTimeUTC":1,"serviceType":"DYNAMIC","uriSpec":null}`

// TestInstanceJSONMatchesCurator: Go writes byte for byte what Curator
// writes, reads it back, and reads Curator's newer "enabled" field.
func TestInstanceJSONMatchesCurator(t *testing.T) {
	spec, err := discovery.ParseURISpec("{scheme}://foo:{port}")
	if err != nil {
		t.Fatal(err)
	}
	full := discovery.Instance{Name: "svc", ID: "id-1", Address: "10.0.0.1", Port: 8080, SSLPort: 8443,
		Payload: json.RawMessage(`{"@class":"java.util.Collections$SingletonMap","k":"v"}`), RegistrationTimeUTC: 1234,
		ServiceType: discovery.Dynamic, URISpec: spec, Enabled: true}
	for _, tc := range []struct {
		inst discovery.Instance
		want string
	}{
		{full, curatorJSON},
		{discovery.Instance{Name: "svc", ID: "id-3", RegistrationTimeUTC: 1, Enabled: true}, curatorNulls},
		{discovery.Instance{Name: "svc", ID: "id-2", RegistrationTimeUTC: 1, Payload: json.RawMessage(`"a <&> b"`), Enabled: true}, curatorHTML},
	} {
		got, err := tc.inst.CuratorJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("JSON\n got %s\nwant %s", got, tc.want)
		}
		var back discovery.Instance
		if err := json.Unmarshal([]byte(tc.want), &back); err != nil {
			t.Fatal(err)
		}
		again, _ := back.CuratorJSON()
		if string(again) != tc.want {
			t.Errorf("round trip\n got %s\nwant %s", again, tc.want)
		}
	}
	if got := spec.Build(full, nil); got != "https://foo:8080" {
		t.Errorf("Build = %q", got)
	}
	var disabled discovery.Instance
	if err := json.Unmarshal([]byte(`{"name":"x","id":"y","enabled":false,"unknown":1}`), &disabled); err != nil || disabled.Enabled {
		t.Errorf("enabled:false read as %+v, %v", disabled, err)
	}
	for _, bad := range []string{"{a", "a}", "{a{b}}"} {
		if _, err := discovery.ParseURISpec(bad); err == nil {
			t.Errorf("ParseURISpec(%q): no error", bad)
		}
	}
}
