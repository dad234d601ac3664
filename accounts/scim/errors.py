"""The SCIM error (RFC 7644 section 3.12): status as a string, `scimType` where the RFC names one."""

from __future__ import annotations

from advocacy.errors import ApplicationError

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_TYPES = {
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
}


class ScimError(ApplicationError):
    """A request SCIM refuses, with the RFC's `scimType` when there is one."""

    def __init__(self, message: str, *, status: int = 400, scim_type: str | None = None):
        super().__init__(message, code=scim_type or "error")
        self.status = status


class VersionMismatch(ApplicationError):
    """If-Match named a version that is no longer the resource's (RFC 7644 section 3.14)."""

    code = "versionMismatch"
    status = 412


def error_body(error: ApplicationError) -> dict:
    body = {"schemas": [ERROR_SCHEMA], "status": str(error.status), "detail": error.message}
    if error.code in SCIM_TYPES:
        body["scimType"] = error.code
    return body
