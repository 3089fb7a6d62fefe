#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - `make demo`: a self-contained lab that shows what synacct does.
#
# A server namespace runs a listener with a small backlog that accepts
# slowly (one connection every 50 ms); a client namespace sends bursts of
# connections at it.  synacct watches the server's interface for about ten
# seconds, live, then prints its summary.  Port 8081 is published the way
# Docker does it: the server namespace DNATs it to a "container" namespace
# behind a veth, whose listener is slow too; synacct follows those SYNs
# there.  Everything is torn down on exit.
set -u
. "$(dirname "$0")/lib/lab.sh"

[ "$(id -u)" -eq 0 ] || { echo "make demo needs root: sudo make demo" >&2; exit 1; }
lab_init
lab_container
ip netns exec "$SRV" nft -f - <<NFT || { echo "demo: cannot add the DNAT rule (nft)" >&2; exit 1; }
table inet sa_demo {
	chain pre { type nat hook prerouting priority dstnat; tcp dport 8081 dnat ip to $CTR_IP4:80; }
}
NFT

PORT=8080
cat <<INTRO
synacct demo
  lab: server namespace $SRV ($SRV_IP4, $SRV_IP6) <-veth-> client namespace $CLI
  server: port $PORT, listen backlog 8, accepts one connection every 50 ms
  container: namespace $CTR ($CTR_IP4) behind the server; port 8081 is DNATed
    to its port 80 (backlog 4, one accept every 100 ms)
  clients: bursts of 60 connections, 30 to 8081, steady IPv6 traffic to 8443
  synacct: $SYNACCT --netns $SRV --iface $SRV_IF --interval 1 --duration 10

INTRO
sleep 2

lab_server $PORT --backlog 8 --accept slow:50
lab_server 8443 --accept all
ctr_server 80 --backlog 4 --accept slow:100

"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --interval 1 --duration 10 &
SA_PID=$!
LAB_PIDS+=($SA_PID)
sleep 1

# Traffic runs in the background while synacct draws its table.
(
	for burst in 1 2 3; do
		lab_client --to $SRV_IP4 --port $PORT --count 60 --timeout-ms 2500 >/dev/null &
		lab_client --to $SRV_IP4 --port 8081 --count 30 --timeout-ms 2500 >/dev/null &
		lab_client --to $SRV_IP6 --port 8443 --count 20 --parallel 4 >/dev/null
		sleep 2
		wait
	done
) &
LAB_PIDS+=($!)

wait $SA_PID
echo
cat <<'OUTRO'
Read each port as a funnel, left to right (the names are the JSON keys):
  nic_syn          SYNs the NIC saw (XDP)
  tc_syn           SYNs after XDP (TC ingress)
  stack_drops      freed by the stack before a socket, with the kernel's reason
  listener_syn     SYNs that reached the listening socket, and what it did:
  syn_queued       put in the SYN queue
  syncookies_sent  answered with a SYN cookie
  listen_drops     dropped by the listener (accept or SYN queue full)
  established      handshakes completed   accepted  taken by the application
  syn_queue_len, accept_queue_len/accept_backlog: the queues right now
On a narrow terminal the columns that do not fit are folded under the row.
'synacct counters' lists every quantity with its meaning and metric.
The verdict under each port names the stage where SYNs are lost and why.
Port 8080's application accepts too slowly for its backlog of 8; port 8443
keeps up.  Port 8081 is forwarded: the line "in netns ..." under it is the
container's own listener, and its verdict names the namespace.
Try it yourself: sudo ./synacct --iface eth0
OUTRO