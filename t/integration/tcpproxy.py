"""A TCP proxy the tests control, between workers and gearmand: it forwards
both ways until freeze(), after which the connections it holds carry
nothing more in either direction while staying open (a NAT or firewall
that silently dropped the flow); connections made after that are forwarded
as usual. With delay=S, every byte is held S seconds before it is
forwarded (a server far away, or one swapping). Runs in a thread of the
test."""
import selectors
import socket
import threading
import time


class Proxy:
    def __init__(self, target_port, host="127.0.0.1", delay=0.0):
        self.target = (host, target_port)
        self.delay = delay
        self.held = []         # (due, sock, bytes) when delayed
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.pairs = {}        # sock -> peer sock
        self.frozen = set()    # socks no longer served
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.sel.register(self.lsock, selectors.EVENT_READ)
        self.thread.start()
        return self

    def freeze(self):
        """Every connection open now goes silent; returns how many."""
        with self.lock:
            for s in list(self.pairs):
                if s not in self.frozen:
                    self.frozen.add(s)
                    self.sel.unregister(s)
            return len(self.frozen) // 2

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        for s in list(self.pairs):
            s.close()
        self.lsock.close()

    def _accept(self):
        c, _ = self.lsock.accept()
        try:
            u = socket.create_connection(self.target, timeout=2)
        except OSError:
            c.close()
            return
        for s, peer in ((c, u), (u, c)):
            s.setblocking(False)
            self.pairs[s] = peer
            self.sel.register(s, selectors.EVENT_READ)

    def _close(self, s):
        peer = self.pairs.pop(s, None)
        for x in (s, peer):
            if x is None:
                continue
            self.pairs.pop(x, None)
            if x not in self.frozen:
                try:
                    self.sel.unregister(x)
                except (KeyError, ValueError):
                    pass
            x.close()

    def _forward(self, s, data):
        if self.delay:
            self.held.append((time.monotonic() + self.delay, s, data))
            return
        try:
            self.pairs[s].sendall(data)
        except OSError:
            self._close(s)

    def _release(self):
        now = time.monotonic()
        while self.held and self.held[0][0] <= now:
            _, s, data = self.held.pop(0)
            if s in self.pairs and s not in self.frozen:
                try:
                    self.pairs[s].sendall(data)
                except OSError:
                    self._close(s)

    def _run(self):
        while not self.stopping:
            with self.lock:
                self._release()
            for key, _ in self.sel.select(0.02 if self.held else 0.1):
                with self.lock:
                    s = key.fileobj
                    if s is self.lsock:
                        self._accept()
                        continue
                    if s in self.frozen or s not in self.pairs:
                        continue
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self._close(s)
                        continue
                    self._forward(s, data)
