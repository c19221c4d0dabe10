package tftp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A refusal is a request the server declines. Code and msg go to the
// client in an ERROR packet; why goes to the log, which may say more than
// a client should learn (such as the full path).
type refusal struct {
	code ErrorCode
	msg  string
	why  string
}

func (r *refusal) Error() string { return r.why }

// parseMode reports whether mode asks for netascii. Modes are
// case-insensitive (RFC 1350). The obsolete "mail" mode, a write mode, is
// refused like any unknown one.
//
// Netascii is served by converting the file on the fly (LF to CR LF, CR
// to CR NUL), which suits text files made on Unix. Its converted size is
// not known in advance, so tsize is not acknowledged in netascii mode.
func parseMode(mode string) (netascii bool, err error) {
	switch strings.ToLower(mode) {
	case "octet":
		return false, nil
	case "netascii":
		return true, nil
	}
	return false, &refusal{ErrIllegalOp, "unsupported transfer mode", fmt.Sprintf("unsupported mode %q", mode)}
}

// roots are the directories files are served from: the served directory
// and the directories symbolic links may lead into. Each is held open as
// an os.Root, so that what is opened is certainly below it.
type roots struct {
	dir    *servedDir   // the served directory
	follow []*servedDir // where links may also lead
}

type servedDir struct {
	path string // real path: absolute, clean, no symlinks
	root *os.Root
}

// openRoots opens the served directory and the follow directories. Their
// paths are resolved first, so that a served directory reached through a
// link (such as bazel-bin/...) is compared by where it really is.
func openRoots(dir string, follow []string) (*roots, error) {
	var r roots
	open := func(path string) (*servedDir, error) {
		real, err := realDir(path)
		if err != nil {
			return nil, err
		}
		root, err := os.OpenRoot(real)
		if err != nil {
			return nil, err
		}
		return &servedDir{real, root}, nil
	}
	var err error
	if r.dir, err = open(dir); err != nil {
		return nil, err
	}
	for _, f := range follow {
		d, err := open(f)
		if err != nil {
			r.close()
			return nil, err
		}
		r.follow = append(r.follow, d)
	}
	return &r, nil
}

// realDir returns the real path of a directory.
func realDir(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", path)
	}
	return real, nil
}

func (r *roots) close() {
	for _, d := range append([]*servedDir{r.dir}, r.follow...) {
		if d != nil {
			d.root.Close()
		}
	}
}

// open opens the regular file a request names and returns its size.
// Errors are refusals that say which ERROR to send.
//
// Symbolic links are followed only where they lead below the served
// directory or a follow directory. The name is resolved to its real path
// to find out which of these directories it lies in; the file is then
// opened through that directory's os.Root, which never leaves the
// directory, so that a link changed in between cannot lead elsewhere.
func (r *roots) open(name string) (*os.File, int64, error) {
	path, err := resolve(r.dir.path, name)
	if err != nil {
		return nil, 0, &refusal{ErrAccess, "illegal file name", err.Error()}
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, 0, openRefusal(err)
	}
	if testHookResolved != nil {
		testHookResolved()
	}
	for _, d := range append([]*servedDir{r.dir}, r.follow...) {
		if rel, ok := below(d.path, real); ok {
			return openIn(d.root, rel)
		}
	}
	return nil, 0, &refusal{ErrAccess, "access denied",
		"symbolic link leads outside the served and followed directories, to " + real}
}

// testHookResolved, if set, runs between resolving a name and opening it,
// for tests that change links in between.
var testHookResolved func()

// below reports whether path is dir or lies below it, and if so returns
// path relative to dir. Both must be clean absolute paths.
func below(dir, path string) (string, bool) {
	if path == dir {
		return ".", true
	}
	prefix := dir
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	rel, ok := strings.CutPrefix(path, prefix)
	return rel, ok && rel != ""
}

// openIn opens the regular file rel inside root.
func openIn(root *os.Root, rel string) (*os.File, int64, error) {
	// Stat first: opening a FIFO or device could block or have effects.
	fi, err := root.Stat(rel)
	if err != nil {
		return nil, 0, openRefusal(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, notRegular()
	}
	// O_NONBLOCK: should a FIFO have replaced the file meanwhile, the
	// open does not wait for a writer. It does nothing to regular files.
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, openRefusal(err)
	}
	// Check again what was opened, in case it was replaced meanwhile.
	fi, err = f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, notRegular()
	}
	return f, fi.Size(), nil
}

func notRegular() error {
	return &refusal{ErrAccess, "not a regular file", "not a regular file"}
}

func openRefusal(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return &refusal{ErrNotFound, "file not found", "file not found"}
	case errors.Is(err, fs.ErrPermission):
		return &refusal{ErrAccess, "access denied", "permission denied"}
	}
	return &refusal{ErrUndefined, "cannot open file", err.Error()}
}
