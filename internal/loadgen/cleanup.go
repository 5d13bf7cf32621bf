package loadgen

import (
	"errors"
	"fmt"
	"sync"

	"github.com/go-zookeeper/zk"
	"go.uber.org/zap"
)

// deleteBatch is how many deletes go into one multi request.
const deleteBatch = 200

// cleanup deletes the run's znodes: created nodes in multi batches (one
// goroutine per session), then the rest of the run's tree, then the prefix
// components the run created if they are now empty.
//
// It runs even when the caller's context has ended: leaving znodes behind is
// worse than a slower stop, and the work is bounded by what the run created.
func (r *runner) cleanup(workers []*worker) error {
	if len(r.conns) == 0 {
		return fmt.Errorf("loadgen: no session left to delete %s", r.root)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(r.conns))
	for i, c := range r.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; j < len(workers); j += len(r.conns) {
				if err := deleteCreated(c, workers[j]); err != nil && errs[i] == nil {
					errs[i] = err
				}
			}
		}()
	}
	wg.Wait()
	c := r.conns[0]
	if err := deleteTree(c, r.root); err != nil {
		errs = append(errs, err)
	}
	for i := len(r.created) - 1; i >= 0; i-- {
		err := c.Delete(r.created[i], -1)
		if err != nil && !errors.Is(err, zk.ErrNotEmpty) && !errors.Is(err, zk.ErrNoNode) {
			errs = append(errs, fmt.Errorf("loadgen: delete %s: %w", r.created[i], err))
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		r.log.Warn("loadgen cleanup incomplete", zap.String("root", r.root), zap.Error(err))
		return err
	}
	return nil
}

// deleteCreated removes a create worker's nodes.
func deleteCreated(c *zk.Conn, w *worker) error {
	for len(w.made) > 0 {
		n := min(deleteBatch, len(w.made))
		ops := make([]any, n)
		for i, s := range w.made[:n] {
			ops[i] = &zk.DeleteRequest{Path: w.createPath(s), Version: -1}
		}
		if _, err := c.Multi(ops...); err != nil {
			// Fall back to single deletes that tolerate missing nodes.
			w.maybe = append(w.maybe, w.made[:n]...)
		}
		w.made = w.made[n:]
	}
	for _, s := range w.maybe {
		if err := c.Delete(w.createPath(s), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("loadgen: delete %s: %w", w.createPath(s), err)
		}
	}
	w.maybe = nil
	return nil
}

// deleteTree deletes path and everything below it.
func deleteTree(c *zk.Conn, path string) error {
	children, _, err := c.Children(path)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loadgen: list %s: %w", path, err)
	}
	for _, ch := range children {
		if err := deleteTree(c, path+"/"+ch); err != nil {
			return err
		}
	}
	if err := c.Delete(path, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("loadgen: delete %s: %w", path, err)
	}
	return nil
}
