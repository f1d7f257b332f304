package bench

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit and returns
// both, and a note when it could not.
func RaiseFileLimit() (soft, hard uint64, note string) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, fmt.Sprintf("could not read RLIMIT_NOFILE: %v", err)
	}
	if rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			note = fmt.Sprintf("could not raise the open-file limit from %d to %d: %v", rl.Cur, rl.Max, err)
		} else {
			rl = want
		}
	}
	return rl.Cur, rl.Max, note
}

// fileLimit is the current soft RLIMIT_NOFILE, or 1024 if unknown.
func fileLimit() int {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil || rl.Cur > 1<<30 {
		return 1024
	}
	return int(rl.Cur)
}

// connsPerProcess is how many client connections one process can hold under
// its open-file limit, keeping room for its other files.
func connsPerProcess() int {
	n := fileLimit() - 500
	if n < 100 {
		n = 100
	}
	return n
}

// loopbackTargets reports whether every WebSocket URL names a host on
// 127.0.0.0/8, the only addresses that clients can spread over source
// addresses 127.0.0.2, 127.0.0.3, … to reach.
func loopbackTargets(urls []string) bool {
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil {
			return false
		}
		h := p.Hostname()
		if h == "localhost" {
			continue
		}
		ip := net.ParseIP(h)
		if ip == nil || ip.To4() == nil || ip.To4()[0] != 127 {
			return false
		}
	}
	return true
}

// SourceAddrs returns up to n loopback source addresses, 127.0.0.2 upwards,
// that this machine lets a socket bind to, and notes on those it does not.
func SourceAddrs(n int) (addrs []string, notes []string) {
	for i := 0; i < n && i < 250; i++ {
		a := "127.0.0." + strconv.Itoa(2+i)
		l, err := net.Listen("tcp", a+":0")
		if err != nil {
			notes = append(notes, fmt.Sprintf("source address %s unusable: %v", a, err))
			continue
		}
		_ = l.Close()
		addrs = append(addrs, a)
	}
	return addrs, notes
}

// ephemeralPorts is the size of the kernel's local port range, 28,232 by
// default on Linux: the most connections from one source address to one
// destination address and port.
func ephemeralPorts() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 28232
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 28232
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi < lo {
		return 28232
	}
	return hi - lo + 1
}

// machine is a reading of the whole machine's CPU time and load.
type machine struct {
	busy, total uint64 // jiffies from /proc/stat
	load1       float64
	ok          bool
}

func readMachine() machine {
	var m machine
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m.load1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return m
	}
	for i, s := range f[1:] {
		v, _ := strconv.ParseUint(s, 10, 64)
		m.total += v
		if i != 3 && i != 4 { // idle, iowait
			m.busy += v
		}
	}
	m.ok = true
	return m
}
