package contend

import (
	"slices"
	"testing"
)

func TestKeyIsCuratorsFixForSorting(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		want  string
	}{
		{"_c_3f6d2a8e-55c1-4c2e-9b61-0e7f2a1c9d40-lock-0000000012", []string{"lock-"}, "0000000012"},
		{"lock-0000000003", []string{"lock-"}, "0000000003"},
		// go-zookeeper's own protected names (32 hex digits) sort by sequence too.
		{"_c_0123456789abcdef0123456789abcdef-lock-0000000007", []string{"lock-"}, "0000000007"},
		// The last occurrence counts, so a "lock-" inside the uuid part cannot confuse it.
		{"_c_lock-lock-0000000001", []string{"lock-"}, "0000000001"},
		// Foreign children keep their whole name (kazoo's default lock nodes).
		{"f1e2d3c4b5a697887766554433221100__lock__0000000002", []string{"lock-"}, "f1e2d3c4b5a697887766554433221100__lock__0000000002"},
		// Read-write locks strip both names.
		{"_c_x-__READ__0000000004", []string{"__READ__", "__WRIT__"}, "0000000004"},
		{"_c_x-__WRIT__0000000005", []string{"__READ__", "__WRIT__"}, "0000000005"},
		{"_c_x-latch-0000000009", []string{"latch-"}, "0000000009"},
	} {
		if got := Key(tc.name, tc.names...); got != tc.want {
			t.Errorf("Key(%q, %q) = %q, want %q", tc.name, tc.names, got, tc.want)
		}
	}
}

func TestSortIgnoresProtectionPrefix(t *testing.T) {
	kids := []string{
		"_c_ffffffff-0000-4000-8000-000000000000-lock-0000000003",
		"foreign",
		"_c_00000000-0000-4000-8000-000000000000-lock-0000000010",
		"_c_88888888-0000-4000-8000-000000000000-lock-0000000001",
	}
	Sort(kids, "lock-")
	want := []string{
		"_c_88888888-0000-4000-8000-000000000000-lock-0000000001",
		"_c_ffffffff-0000-4000-8000-000000000000-lock-0000000003",
		"_c_00000000-0000-4000-8000-000000000000-lock-0000000010",
		"foreign",
	}
	if !slices.Equal(kids, want) {
		t.Fatalf("sorted %q\nwant   %q", kids, want)
	}
	// Ties (a downgraded reader next to its writer) break by full name, the
	// same on every Go participant.
	a := []string{"_c_b-__READ__0000000002", "_c_a-__WRIT__0000000002", "_c_c-__WRIT__0000000001"}
	b := []string{"_c_a-__WRIT__0000000002", "_c_c-__WRIT__0000000001", "_c_b-__READ__0000000002"}
	Sort(a, "__READ__", "__WRIT__")
	Sort(b, "__READ__", "__WRIT__")
	if !slices.Equal(a, b) || a[0] != "_c_c-__WRIT__0000000001" {
		t.Fatalf("tie order differs: %q vs %q", a, b)
	}
}

func TestFirst(t *testing.T) {
	s := []string{"a", "b", "c"}
	if h, w := First(s, 0); !h || w != "" {
		t.Fatalf("First(0) = %v %q", h, w)
	}
	if h, w := First(s, 2); h || w != "b" {
		t.Fatalf("First(2) = %v %q", h, w)
	}
}
