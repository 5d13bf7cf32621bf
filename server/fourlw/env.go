package fourlw

import (
	"os"
	"os/user"
	"runtime"
	"strings"
)

// env renders envi: a header, then key=value lines.
func env(kvs []KV) string { return "Environment:\n" + lines(kvs) }

// lines renders key=value lines (conf, envi).
func lines(kvs []KV) string {
	var b strings.Builder
	for _, kv := range kvs {
		if kv.Bare {
			b.WriteString(kv.Key + "\n")
			continue
		}
		b.WriteString(kv.Key + "=" + kv.Value + "\n")
	}
	return b.String()
}

// Environment returns envi lines for this process, keyed as ZooKeeper's
// Environment.list does so that scripts find them: zookeeper.version first,
// then host.name. There is no JVM, so java.version carries the Go runtime
// version and java.vendor names the Go toolchain; the java.home, class path
// and compiler keys are left out. os.memory.* come from the Go heap.
func Environment() []KV {
	host, err := os.Hostname()
	if err != nil {
		host = "<NA>"
	}
	kvs := []KV{
		{Key: "zookeeper.version", Value: FullVersion()},
		{Key: "host.name", Value: host},
		{Key: "java.version", Value: runtime.Version()},
		{Key: "java.vendor", Value: "Go (" + runtime.Compiler + ")"},
		{Key: "java.io.tmpdir", Value: os.TempDir()},
		{Key: "os.name", Value: osName()},
		{Key: "os.arch", Value: runtime.GOARCH},
		{Key: "os.version", Value: osVersion()},
	}
	if u := userName(); u != "" {
		kvs = append(kvs, KV{Key: "user.name", Value: u})
	}
	if h, err := os.UserHomeDir(); err == nil {
		kvs = append(kvs, KV{Key: "user.home", Value: h})
	}
	if d, err := os.Getwd(); err == nil {
		kvs = append(kvs, KV{Key: "user.dir", Value: d})
	}
	return append(kvs, memory()...)
}

// userName is the user running the process, Java's user.name.
func userName() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// osName capitalises GOOS the way Java's os.name reads ("Linux", "Mac OS X").
func osName() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux"
	case "darwin":
		return "Mac OS X"
	case "windows":
		return "Windows"
	case "freebsd":
		return "FreeBSD"
	}
	return runtime.GOOS
}
