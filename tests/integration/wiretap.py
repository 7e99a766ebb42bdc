#!/usr/bin/env python3
"""wiretap.py - a loopback TCP forwarder that records every byte it carries.

    wiretap.py TARGET_PORT PORT_FILE LOG_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening),
forwards each connection to 127.0.0.1:TARGET_PORT and appends the bytes of
both directions to LOG_FILE, so a test can look for plain text on the wire
(test_tls.sh: a connection with ssl-ca must carry none of a table's values).
Runs until killed.
"""
import os
import socket
import sys
import threading

lock = threading.Lock()


def pump(src, dst, log):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            with lock:
                log.write(data)
                log.flush()
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, target, log):
    try:
        up = socket.create_connection(("127.0.0.1", target))
    except OSError:
        conn.close()
        return
    threading.Thread(target=pump, args=(conn, up, log), daemon=True).start()
    threading.Thread(target=pump, args=(up, conn, log), daemon=True).start()


def main():
    target, port_file, log_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    log = open(log_file, "ab")
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, port_file)
    while True:
        conn, _ = ls.accept()
        serve(conn, target, log)


if __name__ == "__main__":
    main()
