package discovery_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/discovery"
	"github.com/herd-io/herd/recipes/internal/recipetest"
)

func newDiscovery(t *testing.T, c *framework.Client, base string, opts ...discovery.Option) *discovery.Discovery {
	t.Helper()
	d, err := discovery.New(c, base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(recipetest.Ctx(t)) })
	return d
}

// TestRegisterQueryUnregister: instances registered by one process are
// found by another at <base>/<name>/<id>; update and unregister take effect;
// a dynamic instance goes with its client.
func TestRegisterQueryUnregister(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		base := recipetest.Root(t)
		cr := recipetest.Client(t, tg.Addr)
		reg := newDiscovery(t, cr, base)
		q := newDiscovery(t, recipetest.Client(t, tg.Addr), base)
		a, err := reg.Register(ctx, discovery.Instance{Name: "web", ID: "a", Address: "127.0.0.1", Port: 80})
		if err != nil {
			t.Fatal(err)
		}
		if a.RegistrationTimeUTC == 0 || a.ServiceType != discovery.Dynamic {
			t.Fatalf("defaults not filled: %+v", a)
		}
		b, err := reg.Register(ctx, discovery.Instance{Name: "web", Address: "127.0.0.2", Port: 81, ServiceType: discovery.Static})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Register(ctx, discovery.Instance{Name: "db", ID: "x"}); err != nil {
			t.Fatal(err)
		}
		st, err := cr.Exists(ctx, base+"/web/a")
		if err != nil || st == nil || st.EphemeralOwner != cr.SessionID() {
			t.Fatalf("dynamic node %+v, %v", st, err)
		}
		if st, _ := cr.Exists(ctx, base+"/web/"+b.ID); st == nil || st.EphemeralOwner != 0 {
			t.Fatalf("static node %+v", st)
		}
		names, err := q.QueryNames(ctx)
		if err != nil || fmt.Sprint(names) != "[db web]" {
			t.Fatalf("QueryNames = %v, %v", names, err)
		}
		insts, err := q.QueryInstances(ctx, "web")
		if err != nil || len(insts) != 2 {
			t.Fatalf("QueryInstances = %v, %v", insts, err)
		}
		got, err := q.QueryInstance(ctx, "web", "a")
		if err != nil || got.Address != "127.0.0.1" || got.Port != 80 || got.RegistrationTimeUTC != a.RegistrationTimeUTC {
			t.Fatalf("QueryInstance = %+v, %v", got, err)
		}
		a.Port = 8080
		if err := reg.Update(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got, _ := q.QueryInstance(ctx, "web", "a"); got.Port != 8080 {
			t.Fatalf("after Update: %+v", got)
		}
		if err := q.Update(ctx, a); !errors.Is(err, discovery.ErrNotRegistered) {
			t.Fatalf("Update from another Discovery = %v", err)
		}
		if err := reg.Unregister(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := q.QueryInstance(ctx, "web", b.ID); !errors.Is(err, discovery.ErrNotFound) {
			t.Fatalf("after Unregister: %v", err)
		}
		_ = cr.Close()
		recipetest.Eventually(t, "the dynamic instance gone with its client", func() bool {
			insts, err := q.QueryInstances(ctx, "web")
			return err == nil && len(insts) == 0
		})
	})
}

// TestReRegisterAfterExpiry: a dynamic instance is back after its session
// expired.
func TestReRegisterAfterExpiry(t *testing.T) {
	recipetest.SkipReconnectRace(t)
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		base := recipetest.Root(t)
		px := recipetest.Proxy(t, tg.Addr)
		c := recipetest.Client(t, px.Addr())
		states := recipetest.States(t, c)
		d := newDiscovery(t, c, base)
		q := newDiscovery(t, recipetest.Client(t, tg.Addr), base)
		if _, err := d.Register(ctx, discovery.Instance{Name: "svc", ID: "me", Port: 1}); err != nil {
			t.Fatal(err)
		}
		px.Refuse(true)
		px.Cut()
		recipetest.Expect(t, states, framework.Suspended)
		recipetest.Expire(t, tg.Addr, c)
		if _, err := q.QueryInstance(ctx, "svc", "me"); !errors.Is(err, discovery.ErrNotFound) {
			t.Fatalf("instance still there after expiry: %v", err)
		}
		px.Refuse(false)
		recipetest.Expect(t, states, framework.Lost, framework.Reconnected)
		recipetest.Eventually(t, "re-registered", func() bool {
			inst, err := q.QueryInstance(ctx, "svc", "me")
			return err == nil && inst.Port == 1
		})
	})
}

// TestProviderStrategies: a provider follows instances coming and going and
// picks with round-robin, random and sticky strategies.
func TestProviderStrategies(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		base := recipetest.Root(t)
		d := newDiscovery(t, recipetest.Client(t, tg.Addr), base)
		pc := newDiscovery(t, recipetest.Client(t, tg.Addr), base)
		providers := map[string]*discovery.Provider{}
		for name, s := range map[string]discovery.Strategy{
			"rr": discovery.RoundRobin(), "random": discovery.Random(), "sticky": discovery.Sticky(discovery.RoundRobin()),
		} {
			p, err := pc.NewProvider("svc", s)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			if err := p.AwaitInitialized(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Instance(); !errors.Is(err, discovery.ErrNoInstances) {
				t.Fatalf("%s: Instance with none = %v", name, err)
			}
			providers[name] = p
		}
		var insts []discovery.Instance
		for _, id := range []string{"i1", "i2", "i3"} {
			in, err := d.Register(ctx, discovery.Instance{Name: "svc", ID: id})
			if err != nil {
				t.Fatal(err)
			}
			insts = append(insts, in)
		}
		for _, p := range providers {
			recipetest.Eventually(t, "three instances", func() bool { return len(p.Instances()) == 3 })
		}
		var order []string
		for i := 0; i < 6; i++ {
			in, _ := providers["rr"].Instance()
			order = append(order, in.ID)
		}
		if fmt.Sprint(order) != "[i1 i2 i3 i1 i2 i3]" {
			t.Fatalf("round-robin order %v", order)
		}
		seen := map[string]bool{}
		for i := 0; i < 200 && len(seen) < 3; i++ {
			in, _ := providers["random"].Instance()
			seen[in.ID] = true
		}
		if len(seen) != 3 {
			t.Fatalf("random picked only %v in 200 tries", seen)
		}
		first, _ := providers["sticky"].Instance()
		for i := 0; i < 5; i++ {
			if in, _ := providers["sticky"].Instance(); in.ID != first.ID {
				t.Fatalf("sticky moved from %s to %s", first.ID, in.ID)
			}
		}
		for _, in := range insts {
			if in.ID == first.ID {
				if err := d.Unregister(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
		}
		recipetest.Eventually(t, "sticky moves on", func() bool {
			in, err := providers["sticky"].Instance()
			return err == nil && in.ID != first.ID && len(providers["sticky"].Instances()) == 2
		})
	})
}

// TestBadArguments: bad paths, names and types are errors and create nothing.
func TestBadArguments(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		c := recipetest.Client(t, tg.Addr)
		for _, p := range []string{"", "x", "/a/", "/a//b"} {
			if _, err := discovery.New(c, p); !errors.Is(err, framework.ErrInvalidPath) {
				t.Errorf("New(%q) = %v", p, err)
			}
		}
		base := recipetest.Root(t)
		d := newDiscovery(t, c, base)
		for _, in := range []discovery.Instance{{Name: ""}, {Name: "a/b"}, {Name: "ok", ID: "x/y"}, {Name: "ok", ServiceType: "WEIRD"}} {
			if _, err := d.Register(ctx, in); !errors.Is(err, discovery.ErrInvalidInstance) {
				t.Errorf("Register(%+v) = %v", in, err)
			}
		}
		if _, err := d.NewProvider("a/b", nil); !errors.Is(err, discovery.ErrInvalidInstance) {
			t.Errorf("NewProvider(a/b) = %v", err)
		}
		if st, err := c.Exists(ctx, base); st != nil || err != nil {
			t.Errorf("created %s: %v, %v", base, st, err)
		}
	})
}

// TestProviderSkipsBadAndDisabled: nodes that hold no instance JSON and
// instances written with "enabled": false are not served.
func TestProviderSkipsBadAndDisabled(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		base := recipetest.Root(t)
		c := recipetest.Client(t, tg.Addr)
		d := newDiscovery(t, c, base, discovery.WithEnabledField())
		if _, err := d.Register(ctx, discovery.Instance{Name: "svc", ID: "on", Enabled: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Register(ctx, discovery.Instance{Name: "svc", ID: "off", Enabled: false}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(ctx, base+"/svc/garbage", []byte("not json")); err != nil {
			t.Fatal(err)
		}
		if data, _, _ := c.Get(ctx, base+"/svc/off"); !strings.HasSuffix(string(data), `"uriSpec":null,"enabled":false}`) {
			t.Fatalf("enabled field not written: %s", data)
		}
		p, err := d.NewProvider("svc", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		if err := p.AwaitInitialized(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if insts := p.Instances(); len(insts) != 1 || insts[0].ID != "on" {
				t.Fatalf("Instances = %+v, want only \"on\"", insts)
			}
		}
		if insts, err := d.QueryInstances(ctx, "svc"); err != nil || len(insts) != 2 {
			t.Fatalf("QueryInstances = %+v, %v; want on and off (garbage skipped)", insts, err)
		}
	})
}

// TestDownInstancePolicy: an instance noted as failing threshold times is
// left out until the policy's timeout after its first error; one error is
// not enough.
func TestDownInstancePolicy(t *testing.T) {
	recipetest.Each(t, func(t *testing.T, tg recipetest.Target) {
		ctx := recipetest.Ctx(t)
		base := recipetest.Root(t)
		d := newDiscovery(t, recipetest.Client(t, tg.Addr), base)
		var insts []discovery.Instance
		for _, id := range []string{"a", "b"} {
			in, err := d.Register(ctx, discovery.Instance{Name: "svc", ID: id})
			if err != nil {
				t.Fatal(err)
			}
			insts = append(insts, in)
		}
		p, err := d.NewProvider("svc", nil, discovery.WithDownInstancePolicy(time.Minute, 2))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var mu sync.Mutex
		now := time.Unix(1000, 0)
		discovery.SetClock(p, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		if err := p.AwaitInitialized(ctx); err != nil {
			t.Fatal(err)
		}
		ids := func() string {
			var out []string
			for _, in := range p.Instances() {
				out = append(out, in.ID)
			}
			return fmt.Sprint(out)
		}
		if got := ids(); got != "[a b]" {
			t.Fatalf("instances %s", got)
		}
		p.NoteError(insts[0])
		if got := ids(); got != "[a b]" {
			t.Fatalf("after one error: %s, want a still in", got)
		}
		advance(30 * time.Second)
		p.NoteError(insts[0])
		if got := ids(); got != "[b]" {
			t.Fatalf("after two errors: %s, want a down", got)
		}
		for i := 0; i < 4; i++ {
			if in, err := p.Instance(); err != nil || in.ID != "b" {
				t.Fatalf("Instance = %+v, %v; want b", in, err)
			}
		}
		advance(30 * time.Second) // a minute after the first error
		if got := ids(); got != "[a b]" {
			t.Fatalf("after the timeout: %s, want a back", got)
		}
		p.NoteError(insts[0])
		if got := ids(); got != "[a b]" {
			t.Fatalf("one error after the timeout: %s, want a still in (its count starts again)", got)
		}
	})
}
