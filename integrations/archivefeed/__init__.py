"""Drops for archiving vendors (Smarsh, Global Relay and the like): an SFTP server or an
S3-compatible bucket that the vendor collects RFC 5322 messages from.

Two clients with one small interface (`FeedTarget`: `check()`, `put(path, data)`,
`close()`), `sftp.SftpTarget` (paramiko) and `s3.S3Target` (boto3), every failure one of
`integrations.archivefeed.errors`, whose message is written for a compliance officer.
"""
