"""`minidynamo check --nemesis-hook` for the multi-host harness: `nemesis_hook.py SOCKET start|stop`
asks the test process that owns the hosts (nemesis.ControlSocket) to inject a fault or heal them all,
and prints what it did; exit code 1 when it could not."""
import socket
import sys

if len(sys.argv) != 3 or sys.argv[2] not in ("start", "stop"):
    sys.exit("usage: nemesis_hook.py SOCKET start|stop")
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.connect(sys.argv[1])
    s.sendall((sys.argv[2] + "\n").encode())
    answer = s.makefile().readline().strip()
print(answer)
sys.exit(1 if answer.startswith("error:") or not answer else 0)
