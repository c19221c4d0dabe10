package execline

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// envdirClamp is how much of each file s6-envdir reads without -L.
const envdirClamp = 4096

// s6-envdir [ -I | -i ] [ -n ] [ -f ] [ -L ] [ -c nullis ] dir prog...
//
// For each file of dir whose name does not start with a dot nor contain
// =, in name order: an empty file removes the variable; otherwise the
// variable is the file's first line (-f: the whole file, without its last
// newline unless -n), without its trailing spaces and tabs (unless -n),
// with null characters turned into newlines (-c: into nullis's first
// character). Only the first 4096 bytes of a file are read unless -L.
func s6envdir(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "s6-envdir [ -I | -i ] [ -n ] [ -f ] [ -L ] [ -c nullis ] dir prog..."
	loose, noChomp, verbatim, noClamp, nullIs := false, false, false, false, byte('\n')
	args, err := getopt(cmd, args, "IinfLc:", u, func(o byte, a string) error {
		switch o {
		case 'I', 'i':
			loose = o == 'I'
		case 'n':
			noChomp = true
		case 'f':
			verbatim = true
		case 'L':
			noClamp = true
		case 'c':
			if a == "" {
				return errorf(ExitUsage, cmd, "-c needs a non-empty nullis; usage: %s", u)
			}
			nullIs = a[0]
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(args) < 1 {
		return nil, nil, usageError(cmd, u)
	}
	dir := args[0]
	names, err := readDir(dir)
	if err != nil {
		if loose && err == syscall.ENOENT {
			return args[1:], env, nil
		}
		return nil, nil, errorf(ExitSys, cmd, "cannot read the directory %s: %v", dir, err)
	}
	slices.Sort(names)
	for _, name := range names {
		if name[0] == '.' || strings.IndexByte(name, '=') >= 0 {
			continue
		}
		limit, truncate := envdirClamp, true
		if noClamp {
			limit, truncate = outputLimit, false
		}
		b, err := readFile(dir+"/"+name, limit, truncate)
		if err != nil {
			return nil, nil, errorf(ExitSys, cmd, "cannot read %s/%s: %v", dir, name, err)
		}
		if len(b) == 0 {
			env = unsetenv(env, name)
			continue
		}
		v := string(b)
		if verbatim {
			if !noChomp {
				v = strings.TrimSuffix(v, "\n")
			}
		} else {
			if i := strings.IndexByte(v, '\n'); i >= 0 {
				v = v[:i]
			}
			if !noChomp {
				v = strings.TrimRight(v, " \t")
			}
		}
		env = setenv(env, name, strings.ReplaceAll(v, "\x00", string(nullIs)))
	}
	return args[1:], env, nil
}

// errUnknownAccount is an account that is in neither form.
var errUnknownAccount = errors.New("unknown account")

// s6-setuidgid account prog...
//
// account is a user name, looked up in the passwd file, whose uid, gid
// and groups (those of the group file that list it, and its own gid) the
// process takes; or uid:gid, taken as they are, with no supplementary
// group; or empty: nothing changes. An unknown account exits 1.
func s6setuidgid(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "s6-setuidgid account prog..."
	if len(args) < 1 {
		return nil, nil, usageError(cmd, u)
	}
	account := args[0]
	if account == "" {
		return args[1:], env, nil
	}
	uid, gid, groups, err := m.lookupAccount(account)
	if err == errUnknownAccount {
		return nil, nil, errorf(1, cmd, "unknown account %q (looked up in %s)", account, m.Passwd)
	} else if err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot look up %q: %v", account, err)
	}
	if err := m.Sys.SetIDs(uid, gid, groups); err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot become %s (uid %d, gid %d): %v", account, uid, gid, err)
	}
	return args[1:], env, nil
}

// lookupAccount resolves an s6-setuidgid account.
func (m *Machine) lookupAccount(account string) (uid, gid int, groups []int, err error) {
	if u, g, ok := strings.Cut(account, ":"); ok {
		uid, err1 := strconv.ParseUint(u, 10, 32)
		gid, err2 := strconv.ParseUint(g, 10, 32)
		if err1 != nil || err2 != nil {
			return 0, 0, nil, errUnknownAccount
		}
		return int(uid), int(gid), []int{}, nil
	}
	passwd, err := readFile(m.Passwd, scriptLimit, false)
	if err != nil {
		return 0, 0, nil, err
	}
	found := false
	for _, line := range strings.Split(string(passwd), "\n") {
		// name:password:uid:gid:gecos:home:shell
		f := strings.Split(line, ":")
		if len(f) < 4 || f[0] != account {
			continue
		}
		u, err1 := strconv.ParseUint(f[2], 10, 32)
		g, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			return 0, 0, nil, errors.New(m.Passwd + ": bad entry for " + account)
		}
		uid, gid, found = int(u), int(g), true
		break
	}
	if !found {
		return 0, 0, nil, errUnknownAccount
	}
	groups = []int{gid}
	group, err := readFile(m.Group, scriptLimit, false)
	if err != nil && err != syscall.ENOENT {
		return 0, 0, nil, err
	}
	for _, line := range strings.Split(string(group), "\n") {
		// name:password:gid:member,member...
		f := strings.Split(line, ":")
		if len(f) < 4 || !slices.Contains(strings.Split(f[3], ","), account) {
			continue
		}
		if g, err := strconv.ParseUint(f[2], 10, 32); err == nil && !slices.Contains(groups, int(g)) {
			groups = append(groups, int(g))
		}
	}
	return uid, gid, groups, nil
}
