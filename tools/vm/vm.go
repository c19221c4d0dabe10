package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Resolve returns c with Kernel, Rootfs and Dir made absolute relative to
// base, having checked that the files exist. Errors name the argument.
func (c Config) Resolve(base string) (Config, error) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	c.Kernel, c.Rootfs, c.Dir = abs(c.Kernel), abs(c.Rootfs), abs(c.Dir)
	for _, f := range []struct{ name, path string }{{"KERNEL", c.Kernel}, {"ROOTFS", c.Rootfs}} {
		if f.path == "" {
			return c, fmt.Errorf("%s: missing", f.name)
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			return c, fmt.Errorf("%s: %w", f.name, err)
		}
		if !fi.Mode().IsRegular() {
			return c, fmt.Errorf("%s %s: not a regular file", f.name, f.path)
		}
	}
	if c.Dir != "" {
		fi, err := os.Stat(c.Dir)
		if err != nil {
			return c, fmt.Errorf("DIR: %w", err)
		}
		if !fi.IsDir() {
			return c, fmt.Errorf("DIR %s: not a directory", c.Dir)
		}
	}
	return c, nil
}

// command is Command for the rootfs on disk.
func (c Config) command() (string, []string, error) {
	fi, err := os.Stat(c.Rootfs)
	if err != nil {
		return "", nil, fmt.Errorf("ROOTFS: %w", err)
	}
	return c.Command(fi.Size())
}

// prepareDir refuses a Dir a running VM uses, and otherwise removes what an
// earlier one left there: QEMU does not remove its sockets on exit, and a
// stale socket file would look like a started VM.
func prepareDir(dir string) error {
	if pid, err := ReadPid(dir); err == nil && ProcessAlive(pid) {
		return fmt.Errorf("DIR %s: a VM is running there (pid %d)", dir, pid)
	}
	for _, f := range []string{ConsoleFile, MonitorFile, PidFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// ReadPid returns the pid in the pid file of the VM directory dir.
func ReadPid(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, PidFile))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// ProcessAlive reports whether process pid exists and has not exited. A
// daemonized QEMU is nobody's child here; in a container whose init does
// not reap, it lingers as a zombie after exit, which counts as dead.
func ProcessAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...; comm may contain anything, so cut at the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// Daemonize starts c in the background with QEMU's -daemonize, which
// returns once the console and monitor sockets in c.Dir listen and the pid
// file is written. QEMU's own messages go to stderr. It returns the pid.
func Daemonize(ctx context.Context, c Config, stderr io.Writer) (int, error) {
	if c.Dir == "" {
		return 0, errors.New("a background VM needs a directory")
	}
	c.Daemonize = true
	name, args, err := c.command()
	if err != nil {
		return 0, err
	}
	if err := prepareDir(c.Dir); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.Dir
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	pid, err := ReadPid(c.Dir)
	if err != nil {
		return 0, fmt.Errorf("%s daemonized without a pid file: %w", name, err)
	}
	for _, f := range []string{ConsoleFile, MonitorFile} {
		if _, err := os.Stat(filepath.Join(c.Dir, f)); err != nil {
			return 0, fmt.Errorf("%s daemonized without its %s socket: %w", name, f, err)
		}
	}
	return pid, nil
}

// VM is a QEMU started by Start, a child of this process.
type VM struct {
	Dir string // the console and monitor sockets, the pid file
	Pid int

	cmd    *exec.Cmd
	output bytes.Buffer // QEMU's stdout and stderr, for errors
	done   chan struct{}
	err    error

	mu  sync.Mutex
	mon *Monitor
}

// Start starts c as a child process with its console and monitor in c.Dir
// (which must be set) and returns once the monitor answers. Relative paths
// are relative to the current directory. Cancelling ctx kills QEMU, so ctx
// must last as long as the VM. Tests boot images with it.
func Start(ctx context.Context, c Config) (*VM, error) {
	if c.Dir == "" {
		return nil, errors.New("a VM needs a directory for its sockets")
	}
	c.Daemonize = false
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	c, err = c.Resolve(wd)
	if err != nil {
		return nil, err
	}
	name, args, err := c.command()
	if err != nil {
		return nil, err
	}
	if err := prepareDir(c.Dir); err != nil {
		return nil, err
	}
	v := &VM{Dir: c.Dir, done: make(chan struct{})}
	v.cmd = exec.CommandContext(ctx, name, args...)
	v.cmd.Dir = c.Dir
	v.cmd.Stdout, v.cmd.Stderr = &v.output, &v.output
	if err := v.cmd.Start(); err != nil {
		return nil, err
	}
	v.Pid = v.cmd.Process.Pid
	go func() {
		err := v.cmd.Wait()
		if err != nil {
			err = fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(v.output.Bytes()))
		}
		v.err = err
		close(v.done)
	}()
	for {
		c, err := DialUnix(filepath.Join(c.Dir, MonitorFile))
		if err == nil {
			if v.mon, err = newMonitor(c); err != nil {
				// QEMU listens before it loads the kernel, and
				// closes the monitor when that fails: say why.
				select {
				case <-v.done:
					if v.err != nil {
						return nil, v.err
					}
				case <-time.After(10 * time.Second):
					v.Kill()
				}
				return nil, err
			}
			return v, nil
		}
		select {
		case <-v.done:
			if v.err == nil {
				v.err = fmt.Errorf("%s exited at start", name)
			}
			return nil, v.err
		case <-ctx.Done():
			v.Kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Console connects to the serial console. QEMU serves one connection at a
// time; output while nobody is connected is lost.
func (v *VM) Console() (net.Conn, error) {
	return dialRetry(filepath.Join(v.Dir, ConsoleFile), 5*time.Second)
}

// Monitor runs an HMP command (see Monitor.Run).
func (v *VM) Monitor(cmd string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mon.Run(cmd)
}

// Wait waits for QEMU to exit. A VM that panics exits (-no-reboot), and so
// does one told "quit".
func (v *VM) Wait() error {
	<-v.done
	v.mon.conn.Close()
	return v.err
}

// Kill kills QEMU and waits for it.
func (v *VM) Kill() error {
	v.cmd.Process.Kill()
	<-v.done
	if v.mon != nil {
		v.mon.conn.Close()
	}
	return nil
}
