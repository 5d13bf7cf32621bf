package framework

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// optionTypes are the result types of the package's option constructors.
var optionTypes = map[string]bool{"Option": true, "CreateOption": true, "DeleteOption": true,
	"SetOption": true, "EnsurePathOption": true, "VersionOption": true}

// TestOptionDocsStateDefaults: every option says in its documentation what
// happens without it, and the documented defaults are the real ones.
func TestOptionDocsStateDefaults(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/herd-io/herd/framework")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	collect := func(fs []*doc.Func) {
		for _, f := range fs {
			res := f.Decl.Type.Results
			if res == nil || len(res.List) != 1 {
				continue
			}
			if id, ok := res.List[0].Type.(*ast.Ident); ok && optionTypes[id.Name] {
				docs[f.Name] = strings.Join(strings.Fields(f.Doc), " ")
			}
		}
	}
	collect(p.Funcs)
	for _, typ := range p.Types {
		collect(typ.Funcs)
	}
	if len(docs) < 15 {
		t.Fatalf("found only %d option constructors: %v", len(docs), docs)
	}
	mentions := regexp.MustCompile(`(?i)\bdefault\b`)
	for name, d := range docs {
		if !mentions.MatchString(d) {
			t.Errorf("%s does not state its default: %q", name, d)
		}
	}
	durations := map[string]time.Duration{
		"WithSessionTimeout":    defaultOptions().sessionTimeout,
		"WithConnectionTimeout": defaultOptions().connectionTimeout,
	}
	stated := regexp.MustCompile(`The default is (\w+)\.`)
	for name, want := range durations {
		m := stated.FindStringSubmatch(docs[name])
		if m == nil {
			t.Errorf("%s: no \"The default is <duration>.\" in %q", name, docs[name])
			continue
		}
		if got, err := time.ParseDuration(m[1]); err != nil || got != want {
			t.Errorf("%s documents %s, the default is %v", name, m[1], want)
		}
	}
	if d := docs["WithRetryPolicy"]; !strings.Contains(d, "ExponentialBackoff(time.Second, 3, 0)") || !strings.Contains(d, "at most 3 retries") {
		t.Errorf("WithRetryPolicy: %q", d)
	}
	b := defaultOptions().retry.NewBackOff()
	retries := 0
	for b.NextBackOff() != backoff.Stop {
		retries++
	}
	if retries != 3 {
		t.Errorf("the default policy retries %d times, the documentation says 3", retries)
	}
}
