package nemesis

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// OutDirEnv names the environment variable that sets where a failing run
// leaves its histories; by default a new folder under os.TempDir.
const OutDirEnv = "HERD_NEMESIS_OUT"

// OutDir makes the folder a failing run writes into: $HERD_NEMESIS_OUT/<name>
// or os.TempDir()/herd-nemesis-<name>-<time>. Unlike t.TempDir it outlives
// the test.
func OutDir(name string) (string, error) {
	base := os.Getenv(OutDirEnv)
	var dir string
	if base != "" {
		dir = filepath.Join(base, name)
	} else {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("herd-nemesis-%s-%s", name, time.Now().UTC().Format("20060102T150405")))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("nemesis: %w", err)
	}
	return dir, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("nemesis: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("nemesis: %w", err)
	}
	return nil
}
