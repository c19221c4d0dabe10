package tftp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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

// openFile opens the regular file a request names and returns its size.
// Errors are refusals that say which ERROR to send.
func openFile(root, name string) (*os.File, int64, error) {
	path, err := resolve(root, name)
	if err != nil {
		return nil, 0, &refusal{ErrAccess, "illegal file name", err.Error()}
	}
	// Stat first: opening a FIFO or device could block or have effects.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, openRefusal(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, notRegular()
	}
	f, err := os.Open(path)
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
