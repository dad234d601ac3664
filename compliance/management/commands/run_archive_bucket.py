"""Serve `make run`'s local S3-compatible bucket for the demo archive feed: moto's server (a
dev requirement, requirements-dev.txt) on 127.0.0.1:ARCHIVE_DEMO_BUCKET_PORT with the bucket
`acme-archive`, where seed_demo's destination "Demo archive bucket" delivers. Without moto it
says so and waits (Procfile.dev stops every process when one exits). The bucket lives in
memory: restarting `make run` empties it.

The bucket is readable without a key (demo only). List what was delivered:
`curl 'http://127.0.0.1:8768/acme-archive?list-type=2'`; read a file:
`curl http://127.0.0.1:8768/acme-archive/feed/<day>/manifest.json`."""

from __future__ import annotations

import importlib.util
import json
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

DEMO_BUCKET = "acme-archive"
DEMO_ACCESS_KEY_ID = "demo-archive-key"
DEMO_SECRET = "demo-archive-secret"  # moto's server accepts any key; the demo's own, not a secret
READ_ANYONE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{DEMO_BUCKET}", f"arn:aws:s3:::{DEMO_BUCKET}/*"],
        }
    ],
}


def demo_endpoint() -> str:
    return f"http://127.0.0.1:{settings.ARCHIVE_DEMO_BUCKET_PORT}"


def moto_installed() -> bool:
    return importlib.util.find_spec("moto") is not None


class Command(BaseCommand):
    help = "Serve the local S3-compatible bucket of the demo archive feed (moto, when installed)."

    def handle(self, *args, **options):
        stop = threading.Event()
        if not moto_installed():
            self.stdout.write(
                "ARCHIVE BUCKET OFF: moto is not installed (pip install -r requirements-dev.txt); "
                "the demo archive feed has no bucket."
            )
            self.stdout.flush()
            stop.wait()
            return
        import boto3
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=settings.ARCHIVE_DEMO_BUCKET_PORT, verbose=False)
        server.start()
        s3 = boto3.session.Session().client(
            "s3",
            endpoint_url=demo_endpoint(),
            region_name="us-east-1",
            aws_access_key_id=DEMO_ACCESS_KEY_ID,
            aws_secret_access_key=DEMO_SECRET,
        )
        s3.create_bucket(Bucket=DEMO_BUCKET)
        # Readable without a key, so a browser or curl shows what the feed delivered (demo only).
        s3.put_bucket_policy(Bucket=DEMO_BUCKET, Policy=json.dumps(READ_ANYONE))
        self.stdout.write(f"ARCHIVE BUCKET LISTENING {demo_endpoint()}/{DEMO_BUCKET}")
        self.stdout.flush()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
