package e2e

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// nfnetlink_queue's configuration message (linux/netfilter/nfnetlink_queue.h);
// x/sys/unix has the subsystem but not these.
const (
	nfqnlMsgConfig  = 2 // NFQNL_MSG_CONFIG
	nfqaCfgCmd      = 1 // NFQA_CFG_CMD
	nfqnlCfgCmdBind = 1 // NFQNL_CFG_CMD_BIND
)

// QueueHolder keeps one NFQUEUE queue number of a network namespace bound
// to a netlink socket of this process, so that no other socket can bind it
// (the kernel answers EPERM to any other netlink port). Nothing is ever
// queued to it.
type QueueHolder struct{ fd int }

// HoldQueue binds queue num in ns.
func HoldQueue(ns *NetNS, num uint16) (*QueueHolder, error) {
	var fd int
	// A socket belongs to the network namespace it was created in.
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netlink socket in %s: %w", ns.Name, err)
	}
	h := &QueueHolder{fd: fd}
	if err := h.bind(num); err != nil {
		h.Close()
		return nil, fmt.Errorf("binding nfqueue %d in %s: %w", num, ns.Name, err)
	}
	return h, nil
}

func (h *QueueHolder) bind(num uint16) error {
	if err := unix.Bind(h.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	// nlmsghdr, nfgenmsg (family, version, queue number big-endian), then
	// the NFQA_CFG_CMD attribute {command, pad, pf}.
	msg := make([]byte, 28)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NFNL_SUBSYS_QUEUE<<8|nfqnlMsgConfig)
	ne.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	ne.PutUint32(msg[8:], 1) // sequence
	msg[16], msg[17] = unix.AF_UNSPEC, unix.NFNETLINK_V0
	binary.BigEndian.PutUint16(msg[18:], num)
	ne.PutUint16(msg[20:], 8) // attribute length: header and 4 bytes
	ne.PutUint16(msg[22:], nfqaCfgCmd)
	msg[24] = nfqnlCfgCmdBind
	if err := unix.Sendto(h.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(h.fd, buf, 0)
	if err != nil {
		return err
	}
	if n < 20 || ne.Uint16(buf[4:]) != unix.NLMSG_ERROR {
		return fmt.Errorf("unexpected netlink answer (%d bytes)", n)
	}
	if code := int32(ne.Uint32(buf[16:])); code != 0 {
		return os.NewSyscallError("NFQNL_CFG_CMD_BIND", syscall.Errno(-code))
	}
	return nil
}

// Close releases the queue.
func (h *QueueHolder) Close() error {
	if h == nil || h.fd < 0 {
		return nil
	}
	err := unix.Close(h.fd)
	h.fd = -1
	return err
}
