package tftp

import (
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	root := filepath.FromSlash("/srv/tftp")
	tests := []struct {
		name string
		want string // "" means refused
	}{
		{"file", "/srv/tftp/file"},
		{"a/b/c.bin", "/srv/tftp/a/b/c.bin"},
		{"/pxelinux.0", "/srv/tftp/pxelinux.0"},
		{"//etc/passwd", "/srv/tftp/etc/passwd"},
		{"./a//b/./c", "/srv/tftp/a/b/c"},
		{"a/", "/srv/tftp/a"},
		{"%2e%2e/x", "/srv/tftp/%2e%2e/x"},
		{"..foo", "/srv/tftp/..foo"},
		{"foo..", "/srv/tftp/foo.."},
		{"...", "/srv/tftp/..."},
		{".", "/srv/tftp"}, // the root itself; refused later as not a regular file

		{"", ""},
		{"/", ""},
		{"///", ""},
		{"..", ""},
		{"../x", ""},
		{"/../x", ""},
		{"a/../../x", ""},
		{"a/../b", ""}, // stays inside, but ".." is refused outright
		{"a/..", ""},
		{"a\\..\\..\\x", ""},
		{"a\\b", ""},
		{"a\x00b", ""},
		{"\x00", ""},
	}
	for _, tt := range tests {
		got, err := resolve(root, tt.name)
		want := filepath.FromSlash(tt.want)
		if tt.want == "" {
			if err == nil {
				t.Errorf("resolve(%q) = %q, want refusal", tt.name, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", tt.name, got, err, want)
		}
	}
}
