package shell

import (
	"context"
	"time"

	"github.com/herd-io/herd/internal/wireclient"
)

// Connection states as the prompt shows them (the Java client's ZooKeeper.States).
const (
	stateConnected = string(wireclient.Connected)
	stateClosed    = string(wireclient.Closed)
)

// wireClient is the production Client: a reconnecting wireclient.Session,
// which re-attaches the session and re-sends auth and watches as zkCli's
// client does.
type wireClient struct {
	*wireclient.Session
}

// DialWire is the DialFunc that talks to real servers.
func DialWire(ctx context.Context, servers string, opts DialOptions, onEvent func(Event)) (Client, error) {
	s, err := wireclient.NewSession(ctx, servers, wireclient.SessionOptions{
		Options: wireclient.Options{
			SessionTimeout:   time.Duration(opts.SessionTimeoutMs) * time.Millisecond,
			SendReadOnlyByte: true, ReadOnly: opts.ReadOnly, TLS: opts.TLS,
		},
		ConnectTimeout: opts.ConnectTimeout,
		OnEvent: func(e wireclient.Event) {
			onEvent(Event{Type: e.Type, State: KeeperState(e.State), Path: e.Path})
		},
	})
	if err != nil {
		return nil, err
	}
	return wireClient{s}, nil
}

// State implements Client.
func (w wireClient) State() string { return string(w.Session.State()) }

// WhoAmI implements Client.
func (w wireClient) WhoAmI(ctx context.Context) ([]ClientInfo, error) {
	infos, err := w.Session.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ClientInfo, len(infos))
	for i, in := range infos {
		out[i] = ClientInfo{AuthScheme: in.AuthScheme, User: in.User}
	}
	return out, nil
}
