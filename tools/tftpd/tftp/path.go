package tftp

import (
	"errors"
	"path/filepath"
	"strings"
)

// errBadName is returned for request names that could reach outside the
// served directory or are otherwise not plain relative paths.
var errBadName = errors.New("illegal file name")

// resolve maps the filename of a request to a path below root.
//
// Only the name is checked here; where symbolic links below root may lead
// is checked by roots.open, on the resolved path.
//
// Rules:
//   - Leading slashes are stripped and the rest is taken relative to root,
//     since many network-boot clients ask for "/pxelinux.0". An absolute
//     name therefore never names a file outside root.
//   - Empty names, NUL bytes, backslashes and any ".." component are
//     refused outright, even where cleaning would stay inside root.
//   - Nothing is unescaped: "%2e%2e" is a file name of six characters.
//   - The cleaned name must be local (filepath.IsLocal).
func resolve(root, name string) (string, error) {
	rel := strings.TrimLeft(name, "/")
	if rel == "" || strings.ContainsAny(rel, "\x00\\") {
		return "", errBadName
	}
	for _, elem := range strings.Split(rel, "/") {
		if elem == ".." {
			return "", errBadName
		}
	}
	rel = filepath.Clean(filepath.FromSlash(rel))
	if !filepath.IsLocal(rel) {
		return "", errBadName
	}
	return filepath.Join(root, rel), nil
}
