"""A one-connection TCP relay that reads the encodings an RFB client lists:
it parses the client's side of the stream (RFB 3.8, security None) up to
the first SetEncodings.  The viewers under test do not say which encodings
they sent, and the server does not log them."""

import select
import socket
import struct
import threading

from qvnc_testlib import HOST

# Client message type -> fixed length, for those sent before SetEncodings.
_FIXED = {0: 20, 3: 10, 4: 8, 5: 6, 150: 10}


class EncodingSniffer(threading.Thread):
    def __init__(self, server_port):
        super().__init__(daemon=True)
        self.server_port = server_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((HOST, 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.encodings = None
        self.error = None
        self.done = threading.Event()      # set once the encodings are known (or never will be)
        self.stopped = False
        self.server_bytes = 0              # relayed from the server to the client
        self.cond = threading.Condition()
        self._buf = b''
        self._skip = 12 + 1 + 1            # ProtocolVersion, security type, ClientInit

    def _parse(self):
        while self.encodings is None:
            if self._skip:
                n = min(self._skip, len(self._buf))
                self._buf, self._skip = self._buf[n:], self._skip - n
                if self._skip:
                    return
                continue
            if not self._buf:
                return
            t = self._buf[0]
            if t == 2:
                if len(self._buf) < 4:
                    return
                n = struct.unpack('>H', self._buf[2:4])[0]
                if len(self._buf) < 4 + 4 * n:
                    return
                self.encodings = list(struct.unpack('>%di' % n, self._buf[4:4 + 4 * n]))
                self.done.set()
                return
            if t not in _FIXED:
                self.error = 'client message type %d before SetEncodings' % t
                self.done.set()
                return
            self._skip = _FIXED[t]

    def run(self):
        try:
            self.listener.settimeout(30)
            client, _ = self.listener.accept()
            server = socket.create_connection((HOST, self.server_port), timeout=10)
        except OSError as e:
            self.error = 'relay: %s' % e
            self.done.set()
            return
        finally:
            self.listener.close()
        peers = {client: server, server: client}
        try:
            while not self.stopped:
                ready, _, _ = select.select(list(peers), [], [], 0.5)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
                    if s is server:
                        with self.cond:
                            self.server_bytes += len(data)
                            self.cond.notify_all()
                    if s is client and self.encodings is None and self.error is None:
                        self._buf += data
                        self._parse()
        except OSError:
            pass
        finally:
            self.done.set()
            client.close()
            server.close()

    def wait_server_bytes(self, n, timeout):
        """True once the server has sent the client at least n bytes."""
        with self.cond:
            return self.cond.wait_for(lambda: self.server_bytes >= n, timeout)

    def stop(self):
        self.stopped = True
        self.join(5)
