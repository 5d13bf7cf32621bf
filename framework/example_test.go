package framework_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/herd-io/herd/framework"
)

// Example connects to a server, writes a configuration node and follows its
// changes with a DataWatch.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := framework.New("127.0.0.1:2181/myapp",
		framework.WithSessionTimeout(15*time.Second),
		framework.WithRetryPolicy(framework.ExponentialBackoff(100*time.Millisecond, 5, 2*time.Second)))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.AddListener(func(s framework.ConnectionState) { log.Println("connection:", s) })
	if err := c.BlockUntilConnected(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Create(ctx, "/config", []byte("v1"), framework.WithParents()); err != nil {
		log.Println(err)
	}
	// The context bounds the first read; the watch lives until Stop.
	w, err := c.DataWatch(ctx, "/config", func(data []byte, st *zk.Stat) bool {
		fmt.Printf("config: %s\n", data)
		return true
	})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Stop()
	fmt.Printf("now: %s\n", w.Current().Data)
	for v := range w.Events() { // or read w.Current() when needed
		if !v.Exists() {
			fmt.Println("deleted")
			continue
		}
		fmt.Printf("changed: %s (version %d)\n", v.Data, v.Stat.Version)
	}
}
