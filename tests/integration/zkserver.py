"""A real ZooKeeper server (Debian's zookeeper package) for the tests: its
own free loopback port and temporary data directory, stopped at the end,
also when the test failed."""
import socket
import subprocess
import time

from kazoo.client import KazooClient
from support import free_port
from kazoo.handlers.threading import KazooTimeoutError

CLASSPATH = "/usr/share/java/zookeeper.jar"


class ZooKeeper:
    def __init__(self, tmp_path, port=None):
        self.dir = tmp_path / f"zk-{id(self)}"
        (self.dir / "data").mkdir(parents=True)
        self.port = port or free_port()
        self.cfg = self.dir / "zoo.cfg"
        self.cfg.write_text(f"tickTime=200\ndataDir={self.dir / 'data'}\nclientPort={self.port}\n"
                            "clientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
                            "minSessionTimeout=400\nmaxSessionTimeout=20000\n4lw.commands.whitelist=ruok\n")
        self.proc = None

    @property
    def hosts(self):
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=30):
        log = open(self.dir / "server.log", "ab")
        self.proc = subprocess.Popen(["java", "-Xmx256m", "-cp", CLASSPATH,
                                      "org.apache.zookeeper.server.ZooKeeperServerMain", str(self.cfg)],
                                     stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"ruok")
                    if s.recv(4) == b"imok":
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError((self.dir / "server.log").read_text())
            time.sleep(0.1)
        raise RuntimeError(f"ZooKeeper did not answer on {self.port} within {timeout}s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def client(self, auth=None):
        k = KazooClient(hosts=self.hosts, timeout=5, auth_data=auth)
        try:
            k.start(timeout=10)
        except KazooTimeoutError:
            k.close()
            raise
        return k
