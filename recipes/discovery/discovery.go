// Package discovery is Apache Curator's service discovery (curator-x-discovery)
// on herd's framework: services register instances as JSON nodes, clients
// query them or keep a cached provider that picks one per call with a
// strategy (round-robin, random, sticky).
//
// # Layout
//
//	<basePath>                                   container parent
//	<basePath>/<name>                            one node per service (container)
//	<basePath>/<name>/<id>                       one node per instance, data = JSON
//
// The JSON is what Curator 5.4's JsonInstanceSerializer writes (see
// Instance), so Curator's ServiceDiscovery finds Go instances and the other
// way round. The node's mode follows the instance's ServiceType: DYNAMIC is
// EPHEMERAL, DYNAMIC_SEQUENTIAL EPHEMERAL_SEQUENTIAL (the sequence is added
// to the node name only), STATIC and PERMANENT PERSISTENT.
//
// # Connection states
//
//   - SUSPENDED: registered instances stay while the session lives; a
//     provider keeps serving its cached list, which may go stale.
//   - RECONNECTED: every instance this Discovery registered is checked and
//     registered again if its node is missing, holds other data, or belongs
//     to another session (Curator re-registers on every reconnect; this only
//     touches what needs it). Providers re-read their service.
//   - LOST: dynamic instances died with the session and are registered
//     again on the new session when the client reconnects.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/herd-io/herd/framework"
)

// ErrNotFound is returned by QueryInstance for an instance that is not there.
var ErrNotFound = errors.New("discovery: instance not found")

// ErrNotRegistered is returned by Update for an instance this Discovery did
// not register.
var ErrNotRegistered = errors.New("discovery: instance not registered here")

// ErrInvalidInstance reports an instance that cannot be registered (a name or
// id that is not a znode name, an unknown service type).
var ErrInvalidInstance = errors.New("discovery: invalid instance")

// ErrClosed is returned by operations on a closed Discovery.
var ErrClosed = errors.New("discovery: closed")

// Option configures a Discovery.
type Option func(*Discovery)

// WithEnabledField writes the "enabled" field, as Curator's
// JsonInstanceSerializer does with compatibleSerializationMode=false. By
// default it is left out (Curator's default, readable by old clients).
func WithEnabledField() Option { return func(d *Discovery) { d.withEnabled = true } }

// WithLogger logs background re-registration failures (default: none).
func WithLogger(l *zap.Logger) Option { return func(d *Discovery) { d.log = l } }

// Discovery registers and queries service instances under one base path.
// Its methods are safe for concurrent use.
type Discovery struct {
	c           *framework.Client
	base        string
	withEnabled bool
	log         *zap.Logger

	mu         sync.Mutex
	registered map[string]*registration // by instance id
	closed     bool
	remove     func()
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	wake       chan struct{}
}

type registration struct {
	inst Instance
	path string // the node's actual path
	data []byte
}

// New returns a Discovery at basePath (relative to c's namespace). It starts
// a background watcher of connection states that re-registers this
// Discovery's instances; Close stops it. An invalid path is an error wrapping
// framework.ErrInvalidPath.
func New(c *framework.Client, basePath string, opts ...Option) (*Discovery, error) {
	if c == nil {
		return nil, errors.New("discovery: nil client")
	}
	if err := framework.ValidatePath(basePath); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	d := &Discovery{c: c, base: basePath, log: zap.NewNop(), registered: map[string]*registration{}, wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(d)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.remove = c.AddListener(func(s framework.ConnectionState) {
		if s == framework.Reconnected {
			select {
			case d.wake <- struct{}{}:
			default:
			}
		}
	})
	d.wg.Add(1)
	go d.reRegisterLoop()
	return d, nil
}

func validName(what, s string) error {
	if s == "" || s == "." || s == ".." || strings.Contains(s, "/") {
		return fmt.Errorf("%w: %s %q is not a znode name", ErrInvalidInstance, what, s)
	}
	return nil
}

func (d *Discovery) pathForName(name string) string { return framework.JoinPath(d.base, name) }

// Register writes inst and keeps it registered across reconnects and new
// sessions until Unregister or Close. An empty ID becomes a random UUID, a
// zero registration time now, an empty type DYNAMIC (Curator's builder
// defaults); the instance as registered is returned. An instance already at
// its path is replaced (deleted, then created, so that watchers fire).
func (d *Discovery) Register(ctx context.Context, inst Instance) (Instance, error) {
	if inst.ID == "" {
		inst.ID = uuid.NewString()
	}
	if inst.RegistrationTimeUTC == 0 {
		inst.RegistrationTimeUTC = time.Now().UnixMilli()
	}
	if inst.ServiceType == "" {
		inst.ServiceType = Dynamic
	}
	if err := validName("name", inst.Name); err != nil {
		return Instance{}, err
	}
	if err := validName("id", inst.ID); err != nil {
		return Instance{}, err
	}
	if !inst.ServiceType.valid() {
		return Instance{}, fmt.Errorf("%w: service type %q", ErrInvalidInstance, inst.ServiceType)
	}
	if !d.withEnabled {
		inst.Enabled = true // not written; reads as true
	}
	data, err := inst.encode(d.withEnabled)
	if err != nil {
		return Instance{}, fmt.Errorf("discovery: encode %s/%s: %w", inst.Name, inst.ID, err)
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return Instance{}, ErrClosed
	}
	r := &registration{inst: inst, data: data}
	d.registered[inst.ID] = r
	d.mu.Unlock()
	if err := d.write(ctx, r); err != nil {
		return Instance{}, err
	}
	return inst, nil
}

// write creates r's node, replacing whatever is at its path.
func (d *Discovery) write(ctx context.Context, r *registration) error {
	path := framework.JoinPath(d.pathForName(r.inst.Name), r.inst.ID)
	mode := framework.ModePersistent
	switch r.inst.ServiceType {
	case Dynamic:
		mode = framework.ModeEphemeral
	case DynamicSequential:
		mode = framework.ModeEphemeralSequential
	}
	var err error
	for try := 0; try < 2; try++ {
		var created string
		created, err = d.c.Create(ctx, path, r.data, framework.WithMode(mode), framework.WithContainerParents())
		if err == nil {
			d.mu.Lock()
			r.path = created
			d.mu.Unlock()
			return nil
		}
		if !errors.Is(err, zk.ErrNodeExists) {
			break
		}
		if derr := d.c.Delete(ctx, path, framework.Quietly()); derr != nil {
			err = derr
			break
		}
	}
	return fmt.Errorf("discovery: register %s: %w", path, err)
}

// Update writes inst's new data to its node (it must have been registered by
// this Discovery).
func (d *Discovery) Update(ctx context.Context, inst Instance) error {
	d.mu.Lock()
	r, ok := d.registered[inst.ID]
	var path string
	if ok {
		path = r.path
	}
	d.mu.Unlock()
	if !ok || r.inst.Name != inst.Name {
		return fmt.Errorf("%w: %s/%s", ErrNotRegistered, inst.Name, inst.ID)
	}
	if inst.ServiceType == "" {
		inst.ServiceType = r.inst.ServiceType
	}
	data, err := inst.encode(d.withEnabled)
	if err != nil {
		return err
	}
	d.mu.Lock()
	r.inst, r.data = inst, data
	d.mu.Unlock()
	if _, err := d.c.Set(ctx, path, data); err != nil {
		return fmt.Errorf("discovery: update %s: %w", path, err)
	}
	return nil
}

// Unregister deletes inst's node (a guaranteed delete) and stops keeping it.
func (d *Discovery) Unregister(ctx context.Context, inst Instance) error {
	d.mu.Lock()
	r, ok := d.registered[inst.ID]
	delete(d.registered, inst.ID)
	d.mu.Unlock()
	path := framework.JoinPath(d.pathForName(inst.Name), inst.ID)
	if ok && r.path != "" {
		path = r.path
	}
	if err := d.c.Delete(ctx, path, framework.Guaranteed(), framework.Quietly()); err != nil {
		return fmt.Errorf("discovery: unregister %s: %w", path, err)
	}
	return nil
}

// QueryNames returns the names of all services.
func (d *Discovery) QueryNames(ctx context.Context) ([]string, error) {
	names, err := d.c.SortedChildren(ctx, d.base)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	return names, err
}

// QueryInstances returns every readable instance of the service, sorted by
// node name. Nodes that vanish meanwhile or hold no valid JSON are skipped.
func (d *Discovery) QueryInstances(ctx context.Context, name string) ([]Instance, error) {
	if err := validName("name", name); err != nil {
		return nil, err
	}
	ids, err := d.c.SortedChildren(ctx, d.pathForName(name))
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Instance
	for _, id := range ids {
		inst, err := d.QueryInstance(ctx, name, id)
		if errors.Is(err, ErrNotFound) || errors.Is(err, errBadJSON) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, inst)
	}
	return out, nil
}

var errBadJSON = errors.New("discovery: node data is not an instance")

// QueryInstance returns the instance whose node is <basePath>/<name>/<id>.
func (d *Discovery) QueryInstance(ctx context.Context, name, id string) (Instance, error) {
	if err := validName("name", name); err != nil {
		return Instance{}, err
	}
	if err := validName("id", id); err != nil {
		return Instance{}, err
	}
	path := framework.JoinPath(d.pathForName(name), id)
	data, _, err := d.c.Get(ctx, path)
	if errors.Is(err, zk.ErrNoNode) {
		return Instance{}, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return Instance{}, err
	}
	return decode(path, data)
}

func decode(path string, data []byte) (Instance, error) {
	var inst Instance
	if err := inst.UnmarshalJSON(data); err != nil {
		return Instance{}, fmt.Errorf("%w: %s: %w", errBadJSON, path, err)
	}
	return inst, nil
}

// reRegisterLoop puts back, after each RECONNECTED, every registered
// instance whose node is missing, different, or of another session.
func (d *Discovery) reRegisterLoop() {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-d.c.Done():
			return
		case <-d.wake:
		}
		d.mu.Lock()
		regs := make([]*registration, 0, len(d.registered))
		for _, r := range d.registered {
			regs = append(regs, r)
		}
		d.mu.Unlock()
		for _, r := range regs {
			if err := d.ensure(d.ctx, r); err != nil && d.ctx.Err() == nil {
				d.log.Warn("re-register failed; will try at the next reconnect", zap.String("name", r.inst.Name), zap.String("id", r.inst.ID), zap.Error(err))
			}
		}
	}
}

func (d *Discovery) ensure(ctx context.Context, r *registration) error {
	d.mu.Lock()
	path, data, current := r.path, r.data, d.registered[r.inst.ID] == r
	d.mu.Unlock()
	if !current {
		return nil // unregistered meanwhile
	}
	if path != "" {
		cur, st, err := d.c.Get(ctx, path)
		switch {
		case err == nil && string(cur) == string(data) && (st.EphemeralOwner == 0 || st.EphemeralOwner == d.c.SessionID()):
			return nil
		case err != nil && !errors.Is(err, zk.ErrNoNode):
			return err
		}
		if r.inst.ServiceType == DynamicSequential && err == nil {
			// A sequential name is never reused: drop the old node.
			if err := d.c.Delete(ctx, path, framework.Quietly()); err != nil {
				return err
			}
		}
	}
	return d.write(ctx, r)
}

// Close unregisters every instance this Discovery registered and stops its
// background work.
func (d *Discovery) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	regs := d.registered
	d.registered = map[string]*registration{}
	d.mu.Unlock()
	d.remove()
	d.cancel()
	d.wg.Wait()
	var errs []error
	for _, r := range regs {
		if r.path == "" {
			continue
		}
		if err := d.c.Delete(ctx, r.path, framework.Guaranteed(), framework.Quietly()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
