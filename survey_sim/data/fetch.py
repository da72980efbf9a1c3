"""`survey-sim data fetch`: download the survey files from their public repositories.

For machines without `../shared/surveys`. Every file listed under `[sources."<relative path>"]`
in `data/datasets.toml` is downloaded from `{base}/{repo}/{commit}/{path}` (base:
https://raw.githubusercontent.com, or `$SURVEY_SIM_FETCH_BASE`, or `--base-url`), checked
against its pinned sha256 and stored under the destination folder with the layout of
`../shared/surveys` (e.g. `subpop-eval/subpop_eval.jsonl`).

pooch downloads each file to a temporary file beside its target and moves it into place only
once its sha256 is right: an interrupted, truncated or altered download never replaces a good
file and never leaves a partial one. Files already present with the right hash are skipped.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from ..registry import UnknownName
from .manifest import CACHE_ROOT, MANIFEST_PATH, read_manifest

DEFAULT_BASE_URL = "https://raw.githubusercontent.com"
BASE_URL_ENV = "SURVEY_SIM_FETCH_BASE"
DEFAULT_TIMEOUT = 60.0  # seconds, for connecting and for each read
CHUNK = 1 << 16
TEMP_PREFIX = tempfile.gettempprefix()  # pooch's temporary files: tempfile.NamedTemporaryFile in the target's folder


class FetchError(Exception):
    """One file could not be fetched; the message says which, from where and why."""


class Unreachable(FetchError):
    """The server could not be reached at all (no network, DNS failure, timeout)."""


class ChecksumMismatch(FetchError):
    def __init__(self, name: str, url: str, expected: str, actual: str):
        self.name, self.url, self.expected, self.actual = name, url, expected, actual
        super().__init__(f"{name}: sha256 mismatch for {url}: expected {expected}, got {actual}; "
                         "the download was discarded (nothing was written)")


@dataclass(frozen=True)
class Source:
    """One entry of `[sources]` in the manifest."""

    name: str  # path relative to the data root, e.g. "subpop-eval/subpop_eval.jsonl"
    repo: str  # "owner/name" on GitHub
    commit: str  # full 40-hex commit
    path: str  # path of the file inside the repository
    sha256: str

    def __post_init__(self):
        where = f"{MANIFEST_PATH}: source {self.name!r}"
        rel = PurePosixPath(self.name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"{where}: the key must be a relative path inside the data root")
        if not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", self.repo):
            raise ValueError(f"{where}: repo={self.repo!r} is not owner/name")
        if not re.fullmatch(r"[0-9a-f]{40}", self.commit):
            raise ValueError(f"{where}: commit={self.commit!r} is not a full 40-hex commit id")
        if not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"{where}: sha256={self.sha256!r} is not 64 lowercase hex digits")
        if not self.path or self.path.startswith("/"):
            raise ValueError(f"{where}: path={self.path!r} must be a path inside the repository")

    def url(self, base_url: str | None = None) -> str:
        base = resolve_base_url(base_url)
        return f"{base}/{self.repo}/{self.commit}/{urllib.parse.quote(self.path)}"

    def target(self, dest: str | Path) -> Path:
        return Path(dest).joinpath(*PurePosixPath(self.name).parts)


@dataclass(frozen=True)
class FetchResult:
    name: str
    status: Literal["fetched", "present", "failed"]
    path: Path
    url: str
    reason: str = ""  # why it failed, or a note (e.g. "replaced a copy with a different sha256")
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def describe(self) -> str:
        if self.status == "fetched":
            note = f"; {self.reason}" if self.reason else ""
            return f"fetched ({_size(self.size)}, sha256 ok{note})"
        if self.status == "present":
            return "already there (sha256 ok)"
        return f"FAILED: {self.reason}"


def sources(manifest: dict | None = None) -> dict[str, Source]:
    """The `[sources]` table of the manifest, keyed by path relative to the data root."""
    entries = (manifest if manifest is not None else read_manifest()).get("sources", {})
    found = {}
    for name, fields in entries.items():
        try:
            found[name] = Source(name=name, **fields)
        except TypeError as err:  # unknown or missing key
            raise ValueError(f"{MANIFEST_PATH}: source {name!r}: {err}") from None
    return found


def select_sources(only: Iterable[str] | None = None, table: dict[str, Source] | None = None) -> list[Source]:
    """All sources, or those named in `only` (a relative path, or a folder such as "wvs7-codebook")."""
    table = sources() if table is None else table
    if not only:
        return list(table.values())
    chosen: dict[str, Source] = {}
    for want in only:
        key = want.strip().strip("/")
        hits = [s for n, s in table.items() if n == key or n.startswith(key + "/")]
        if not hits:
            raise UnknownName(f"no pinned source {want!r}; known: {', '.join(table)}")
        chosen.update((s.name, s) for s in hits)
    return list(chosen.values())


def default_dest() -> Path:
    """`$SURVEY_SIM_DATA` if set, else the user cache (~/.cache/survey-sim/surveys)."""
    env = os.environ.get("SURVEY_SIM_DATA")
    return Path(env).expanduser() if env else CACHE_ROOT


def resolve_base_url(base_url: str | None = None) -> str:
    return (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_file(source: Source, dest: str | Path, base_url: str | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> tuple[Path, int]:
    """Download one file into `dest`, verify it, move it into place; (path, bytes).

    pooch streams the download to a temporary file beside the target, checks its sha256 and only
    then moves it into place (a rename within the folder); on any error the temporary file is
    removed and the target left as it was. Raises `ChecksumMismatch`, `Unreachable` or `FetchError`.
    """
    import pooch
    import requests

    url, target = source.url(base_url), source.target(dest)
    # folders made here are removed again if the fetch fails: an empty ~/.cache/survey-sim/surveys
    # would otherwise be taken for a data root
    created = _make_dirs(target.parent)
    done = False
    try:
        downloader = pooch.HTTPDownloader(progressbar=False, timeout=timeout,
                                          headers={"User-Agent": "survey-sim-fetch"})
        pooch.get_logger().setLevel("WARNING")
        pooch.retrieve(url, known_hash=f"sha256:{source.sha256}", fname=target.name, path=target.parent,
                       downloader=downloader)
        target.chmod(0o644)  # pooch's temporary file was private to its owner
        done = True
        return target, target.stat().st_size
    except ValueError as err:  # pooch: the hash of the download is not the pinned one
        actual = re.search(r"got (?:sha256:)?([0-9a-f]{64})", str(err))
        raise ChecksumMismatch(source.name, url, source.sha256, actual.group(1) if actual else "?") from None
    except requests.HTTPError as err:
        raise FetchError(f"HTTP {err.response.status_code} {err.response.reason} for {url}") from None
    except (requests.ConnectionError, requests.Timeout) as err:
        raise Unreachable(_unreachable(url, f"{type(err).__name__}: {err}", dest)) from None
    except requests.RequestException as err:  # a body cut short, ...
        raise FetchError(f"download of {url} interrupted: {type(err).__name__}: {err}") from None
    except OSError as err:  # writing the temporary file: disk full, read-only, ...
        raise FetchError(f"could not write {target.parent} while downloading {url}: {err}") from None
    finally:
        if not done:
            for folder in reversed(created):
                try:
                    folder.rmdir()
                except OSError:  # not empty
                    break


def fetch_all(dest: str | Path | None = None, base_url: str | None = None, only: Iterable[str] | None = None,
              progress: Callable[[str], object] | None = print, timeout: float = DEFAULT_TIMEOUT) -> list[FetchResult]:
    """Fetch every pinned source (or those in `only`) into `dest`; one `FetchResult` per file.

    Never raises for a file that fails: its result says why (the others are still tried, except
    that once the server cannot be reached at all, the rest are marked failed without waiting
    for more timeouts). Raises `KeyError` for a name in `only` that is not a pinned source.
    """
    dest = Path(dest).expanduser() if dest is not None else default_dest()
    chosen = select_sources(only)
    say = progress or (lambda _line: None)
    results: list[FetchResult] = []
    unreachable: str | None = None
    width = len(str(len(chosen)))
    for i, source in enumerate(chosen, 1):
        tag = f"[{i:>{width}}/{len(chosen)}] {source.name}"
        url, target = source.url(base_url), source.target(dest)
        result, lost = _fetch_one(source, dest, base_url, timeout, url, target, unreachable, say, tag)
        if lost and unreachable is None:
            unreachable = urllib.parse.urlsplit(url).netloc or url
        say(f"{tag}: {result.describe()}")
        results.append(result)
    return results


def summary(results: list[FetchResult], dest: str | Path) -> str:
    counts = {s: sum(r.status == s for r in results) for s in ("fetched", "present", "failed")}
    line = (f"{counts['fetched']} fetched, {counts['present']} already there, {counts['failed']} failed "
            f"(in {dest})")
    failed = [r for r in results if not r.ok]
    if failed:
        line += "\nfailed:\n  " + "\n  ".join(f"{r.name}: {r.reason}" for r in failed)
        line += (f"\nRun the command again to retry (good files are kept), or copy the files by hand to "
                 f"{dest} with the layout of ../shared/surveys (sources and sha256: [sources] in {MANIFEST_PATH}).")
    return line


# --- helpers ---------------------------------------------------------------------------------

def _fetch_one(source, dest, base_url, timeout, url, target, unreachable, say, tag) -> tuple[FetchResult, bool]:
    """The result for one file, and whether the server could not be reached at all."""
    def failed(reason: str) -> FetchResult:
        return FetchResult(source.name, "failed", target, url, reason)

    note = ""
    try:
        if target.is_file():
            if sha256_of(target) == source.sha256:
                return FetchResult(source.name, "present", target, url, size=target.stat().st_size), False
            note = "replaced a local copy with a different sha256"
        elif target.exists():
            return failed(f"{target} exists and is not a file"), False
        if unreachable is not None:
            return failed(f"not tried: {unreachable} could not be reached (see above)"), False
        say(f"{tag}: downloading {url}")
        path, size = fetch_file(source, dest, base_url=base_url, timeout=timeout)
        return FetchResult(source.name, "fetched", path, url, note, size), False
    except Unreachable as err:
        return failed(str(err)), True
    except FetchError as err:
        return failed(str(err)), False
    except OSError as err:  # destination not creatable or readable, ...
        return failed(f"could not write {target}: {err}"), False


def _make_dirs(folder: Path) -> list[Path]:
    """mkdir -p; the folders it created, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    missing.reverse()
    for path in missing:
        path.mkdir(exist_ok=True)
    return missing


def _unreachable(url: str, reason, dest) -> str:
    return (f"could not reach {url}: {reason}; this machine may have no internet; "
            f"copy the files by hand to {Path(dest).expanduser()}")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
