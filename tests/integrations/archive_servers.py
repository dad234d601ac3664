"""Real local archive drops for the tests: an SFTP server (asyncssh's SFTP server, in a thread
of the test process, on a free loopback port, with a freshly generated host key, serving a
temporary folder) and an S3-compatible server (moto's server in its own process, over real
HTTP, with IAM checks on so a wrong access key or secret is refused as AWS refuses it).

Both are reachable from other processes (the Celery worker of the tests) on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncssh
import boto3

S3_ACCESS_KEY_ID_WRONG = "AKIAWRONGWRONGWRONG0"
# The S3 server lets this many requests in before it checks signatures: exactly the three
# IAM calls that create the feed's user, its policy and its access key.
S3_SETUP_REQUESTS = 3
S3_POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SftpServer:
    """asyncssh's SFTP server chrooted to `root`; logins: `username` with `password`, or the
    private key `client_key_text` (OpenSSH format)."""

    def __init__(self, root: Path, *, username: str = "archive", password: str = "drop-pass-1"):
        self.root = root
        self.username = username
        self.password = password
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.fingerprint = self.host_key.get_fingerprint("sha256")  # "SHA256:..."
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key_text = client_key.export_private_key("openssh").decode()
        self._authorized = client_key.export_public_key("openssh")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sftp-server", daemon=True)
        self._acceptor = None
        self.port = 0
        self.renamed: list[str] = []  # files put in place, in order (the client writes .part, then renames)
        self.login_attempts = 0

    def start(self) -> SftpServer:
        self._thread.start()
        self._acceptor = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=30)
        self.port = self._acceptor.get_port()
        return self

    def stop(self) -> None:
        if self._acceptor is not None:
            self._loop.call_soon_threadsafe(self._acceptor.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _listen(self):
        root, server = str(self.root), self
        authorized = asyncssh.import_public_key(self._authorized)

        class Chrooted(asyncssh.SFTPServer):
            def __init__(self, chan):
                super().__init__(chan, chroot=root)

            def posix_rename(self, oldpath, newpath):
                result = super().posix_rename(oldpath, newpath)
                server.renamed.append(newpath.decode())
                return result

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                server.login_attempts += 1
                return username == server.username and password == server.password

            def public_key_auth_supported(self):
                return True

            def validate_public_key(self, username, key):
                server.login_attempts += 1
                return username == server.username and key == authorized

        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[self.host_key],
            server_factory=Server,
            sftp_factory=Chrooted,
            allow_scp=False,
        )

    def files(self) -> dict[str, bytes]:
        """Every file under the root, by path relative to it."""
        paths = sorted(p for p in self.root.rglob("*") if p.is_file())
        return {str(path.relative_to(self.root)): path.read_bytes() for path in paths}


class S3Server:
    """moto's S3-compatible server in a child process; `start()` creates the IAM user whose
    key the feed uses (`access_key_id`, `secret_access_key`) and nothing else."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.access_key_id = ""
        self.secret_access_key = ""

    def start(self) -> S3Server:
        env = {
            **os.environ,
            "INITIAL_NO_AUTH_ACTION_COUNT": str(S3_SETUP_REQUESTS),
            "AWS_ACCESS_KEY_ID": "setup",
            "AWS_SECRET_ACCESS_KEY": "setup",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the S3 server exited:\n{self.log_path.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the S3 server did not listen within 60 s") from None
                time.sleep(0.1)
        iam = self._client("iam", "setup", "setup")
        iam.create_user(UserName="archive-feed")
        iam.put_user_policy(UserName="archive-feed", PolicyName="s3", PolicyDocument=S3_POLICY)
        key = iam.create_access_key(UserName="archive-feed")["AccessKey"]
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def _client(self, service: str, key_id: str, secret: str):
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    def s3(self):
        """A client with the feed user's key (to create buckets and read what was delivered)."""
        return self._client("s3", self.access_key_id, self.secret_access_key)

    def objects(self, bucket: str) -> dict[str, bytes]:
        client = self.s3()
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}
