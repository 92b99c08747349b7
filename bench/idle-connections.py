#!/usr/bin/env python3
"""RSS of a running Luxy before and after N idle keep-alive connections.

Opens N connections to 127.0.0.1:PORT, sends one request on each (so each is a served,
kept-alive connection), reads the answers, then holds them open and prints the proxy's
VmRSS. Bounded: it exits after printing, closing every connection.

    bench/idle-connections.py PID PORT [N=10000]
"""
import resource
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1024), hard))
    before = rss_kib(pid)
    request = b"GET /ok HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer tok\r\n\r\n"
    sockets = []
    deadline = time.monotonic() + 120
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        sockets.append(s)
    answered = 0
    for s in sockets:
        data = b""
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        answered += data.startswith(b"HTTP/1.1 ")
    time.sleep(1)
    after = rss_kib(pid)
    print(f"connections {count} answered {answered} rss_before_kib {before} rss_after_kib {after} "
          f"per_connection_bytes {(after - before) * 1024 // max(count, 1)}")
    for s in sockets:
        s.close()


if __name__ == "__main__":
    main()
