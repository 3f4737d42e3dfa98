"""Which object store an AESVC_ARTIFACT_URL names, and what to tell the operator when it
refuses the start.

obstore (Rust's object_store) parses the URL and reads the credential and endpoint
variables itself; this module only knows the URL forms it accepts, so that any other URL
is refused before it quietly becomes a folder, and the variables worth checking, so that a
refusal names them. It imports nothing from the service: config.py validates with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Provider:
    name: str
    bucket_word: str  # what the provider calls the top-level namespace
    schemes: tuple[str, ...]
    https_host_suffixes: tuple[str, ...]  # account URLs given as https://
    allow_http_variable: str  # object_store's own switch; our client options would hide it
    endpoint_hint: str
    credentials_hint: str
    missing_bucket_codes: tuple[str, ...]  # in the server's answer, as obstore quotes it
    refused_codes: tuple[str, ...]  # statuses with their reason: a bare "403" may be a time


S3 = Provider(
    name="S3",
    bucket_word="bucket",
    schemes=("s3", "s3a"),
    https_host_suffixes=(),
    allow_http_variable="AWS_ALLOW_HTTP",
    endpoint_hint="AWS_ENDPOINT_URL",
    credentials_hint="AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the platform's credentials",
    missing_bucket_codes=("NoSuchBucket",),
    refused_codes=("403 Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"),
)
GCS = Provider(
    name="Google Cloud Storage",
    bucket_word="bucket",
    schemes=("gs",),
    https_host_suffixes=(),
    allow_http_variable="GOOGLE_ALLOW_HTTP",
    endpoint_hint="gcs_base_url in the GOOGLE_SERVICE_ACCOUNT file",
    credentials_hint=(
        "GOOGLE_SERVICE_ACCOUNT / GOOGLE_SERVICE_ACCOUNT_KEY / "
        "GOOGLE_APPLICATION_CREDENTIALS or the platform's credentials"
    ),
    missing_bucket_codes=("NoSuchBucket",),
    refused_codes=("401 Unauthorized", "403 Forbidden", "AccessDenied"),
)
AZURE = Provider(
    name="Azure Blob Storage",
    bucket_word="container",
    schemes=("az", "azure", "abfs", "abfss", "adl"),
    https_host_suffixes=(
        ".blob.core.windows.net",
        ".dfs.core.windows.net",
        ".blob.fabric.microsoft.com",
        ".dfs.fabric.microsoft.com",
    ),
    allow_http_variable="AZURE_ALLOW_HTTP",
    endpoint_hint=(
        "AZURE_STORAGE_ENDPOINT, or AZURITE_BLOB_STORAGE_URL with AZURE_STORAGE_USE_EMULATOR"
    ),
    credentials_hint=(
        "AZURE_STORAGE_ACCOUNT_NAME / AZURE_STORAGE_ACCOUNT_KEY, a SAS token, "
        "or the platform's credentials"
    ),
    missing_bucket_codes=("ContainerNotFound",),
    refused_codes=("403 Forbidden", "AuthenticationFailed", "AuthorizationFailure"),
)
PROVIDERS = (S3, GCS, AZURE)
KNOWN_FORMS = (
    "a folder path, file://, s3://bucket/prefix, gs://bucket/prefix, az://container/prefix "
    "(or azure://, abfs[s]://, adl://, https://<account>.blob.core.windows.net/<container>/)"
)


def provider_for(url: str) -> Provider | None:
    """The object store `url` names, or None (a folder, or a URL no provider takes)."""
    if "://" not in url:
        return None
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    for provider in PROVIDERS:
        if scheme in provider.schemes:
            return provider
        suffixes = provider.https_host_suffixes
        if scheme == "https" and suffixes and host.endswith(suffixes):
            return provider
    return None


def names_a_bucket(url: str) -> bool:
    """An account URL names its container in the path; the other forms in the host."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "https":
        return bool(parts.path.strip("/"))
    return bool(parts.netloc.strip("/"))
