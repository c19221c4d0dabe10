package sysinit

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// child is a live child process of init, from /proc.
type child struct{ pid, pgrp, sid int }

// parseStat parses /proc/PID/stat: the state, parent, process group and
// session follow the command name, which is in parentheses and may itself
// contain spaces and parentheses.
func parseStat(b []byte) (state byte, ppid, pgrp, sid int, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 4 || len(f[0]) != 1 {
		return 0, 0, 0, 0, false
	}
	var n [3]int
	for j := range n {
		v, err := strconv.Atoi(string(f[j+1]))
		if err != nil {
			return 0, 0, 0, 0, false
		}
		n[j] = v
	}
	return f[0][0], n[0], n[1], n[2], true
}

// children lists init's live children (zombies left out: the reaper takes
// them).
func children() []child {
	self := os.Getpid()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []child
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		state, ppid, pgrp, sid, ok := parseStat(b)
		if ok && ppid == self && state != 'Z' && state != 'X' {
			out = append(out, child{pid, pgrp, sid})
		}
	}
	return out
}

// signalChild signals a child and its process group (never init's own).
func signalChild(c child, sig syscall.Signal) {
	if c.pgrp > 1 && c.pgrp != syscall.Getpgrp() {
		syscall.Kill(-c.pgrp, sig)
	}
	syscall.Kill(c.pid, sig)
}

// stopChildren stops init's children that spare does not keep, with their
// process groups: SIGTERM (and SIGCONT), then SIGKILL after grace. Orphans
// are re-parented to init (PID 1, or a subreaper) as their parents die, so
// it looks again until none is left, for at most grace plus 2 s. It returns
// how many processes it signalled.
func stopChildren(spare func(child) bool, grace time.Duration) int {
	termed, killed := map[int]bool{}, map[int]bool{}
	killAt := time.Now().Add(grace)
	for {
		var left []child
		for _, c := range children() {
			if !spare(c) {
				left = append(left, c)
			}
		}
		now := time.Now()
		if len(left) == 0 || now.After(killAt.Add(2*time.Second)) {
			for pid := range killed {
				termed[pid] = true
			}
			return len(termed)
		}
		for _, c := range left {
			switch {
			case now.After(killAt) && !killed[c.pid]:
				killed[c.pid] = true
				signalChild(c, syscall.SIGKILL)
			case !termed[c.pid] && !killed[c.pid]:
				termed[c.pid] = true
				signalChild(c, syscall.SIGTERM)
				signalChild(c, syscall.SIGCONT)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}
