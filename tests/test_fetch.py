"""`survey-sim data fetch` against a local HTTP server (no network needed)."""
import hashlib
import os
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from survey_sim import cli
from survey_sim.data import fetch
from survey_sim.data.fetch import ChecksumMismatch, FetchError, fetch_all, fetch_file, sources

SHARED = Path(__file__).resolve().parents[2] / "shared"
SMALL = ["subpop-eval/LICENSE", "wvs7-codebook/WV7_Chinese.jsonl"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def real_root() -> Path:
    root = Path(os.environ.get("SURVEY_SIM_DATA") or SHARED / "surveys")
    if not all((root / name).is_file() for name in SMALL):
        pytest.skip(f"real survey files not found under {root}")
    return root


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, real_root):
    """Serves {repo}/{commit}/{path} for the SMALL files; yields (base_url, served folder)."""
    served = tmp_path / "served"
    for name in SMALL:
        src = sources()[name]
        target = served / src.repo / src.commit / src.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real_root / name, target)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def leftovers(dest: Path) -> list[Path]:
    return [p for p in dest.rglob("*") if p.name.startswith(fetch.TEMP_PREFIX)]


def test_sources_table_matches_shared_sha256sums():
    table = sources()
    sums_file = SHARED / "SHA256SUMS"
    if not sums_file.is_file():
        pytest.skip(f"{sums_file} not found")
    sums = {}
    for line in sums_file.read_text().splitlines():
        digest, rel = line.split(maxsplit=1)
        if rel.startswith("surveys/"):
            sums[rel.removeprefix("surveys/")] = digest
    assert {name: s.sha256 for name, s in table.items()} == sums
    assert sources()["subpop-eval/LICENSE"].url() == (
        "https://raw.githubusercontent.com/Stefanstud/subpop/35916686294ba03c93f8eb32382e7aefa8315761/LICENSE")


def test_fetch_then_already_there(server, tmp_path, real_root):
    base, _ = server
    dest = tmp_path / "dest"
    lines = []
    results = fetch_all(dest, base_url=base, only=SMALL, progress=lines.append)
    assert [r.status for r in results] == ["fetched", "fetched"]
    for name in SMALL:
        assert sha(dest / name) == sha(real_root / name) == sources()[name].sha256
    assert any("downloading" in line and base in line for line in lines)
    assert not leftovers(dest)

    lines.clear()
    again = fetch_all(dest, base_url=base, only=SMALL, progress=lines.append)
    assert [r.status for r in again] == ["present", "present"]
    assert all("already there" in line for line in lines) and len(lines) == 2


def test_folder_selection_and_env_base(server, tmp_path, monkeypatch):
    base, _ = server
    monkeypatch.setenv(fetch.BASE_URL_ENV, base)
    results = fetch_all(tmp_path / "dest", only=["subpop-eval/LICENSE"], progress=None)
    assert [r.status for r in results] == ["fetched"]
    assert {s.name for s in fetch.select_sources(["wvs7-codebook"])} == {
        "wvs7-codebook/codebook.json", "wvs7-codebook/question_metadata.json",
        "wvs7-codebook/WV7_English.jsonl", "wvs7-codebook/WV7_Chinese.jsonl"}
    with pytest.raises(KeyError, match="no pinned source"):
        fetch.select_sources(["nope.json"])


def test_sha_mismatch_keeps_good_file_and_leaves_nothing(server, tmp_path):
    base, served = server
    dest = tmp_path / "dest"
    name = "subpop-eval/LICENSE"
    fetch_all(dest, base_url=base, only=[name], progress=None)
    good = (dest / name).read_bytes()

    src = sources()[name]
    (served / src.repo / src.commit / src.path).write_text("tampered\n")
    assert fetch_file(src, dest, base_url=base) == (dest / name, len(good))  # a good copy is kept, not fetched
    with pytest.raises(ChecksumMismatch) as err:
        fetch_file(src, tmp_path / "fresh", base_url=base)
    message = str(err.value)
    assert name in message and src.sha256 in message and hashlib.sha256(b"tampered\n").hexdigest() in message
    assert (dest / name).read_bytes() == good
    assert not (tmp_path / "fresh").exists()  # neither a partial file nor empty folders

    # a local copy with a wrong hash is re-downloaded, but a bad download does not replace it
    (dest / name).write_text("locally edited\n")
    [result] = fetch_all(dest, base_url=base, only=[name], progress=None)
    assert result.status == "failed" and "sha256 mismatch" in result.reason
    assert (dest / name).read_text() == "locally edited\n"
    assert not leftovers(dest)


def test_404_names_the_url(server, tmp_path):
    base, served = server
    src = sources()["wvs7-codebook/WV7_Chinese.jsonl"]
    (served / src.repo / src.commit / src.path).unlink()
    [result] = fetch_all(tmp_path / "dest", base_url=base, only=[src.name], progress=None)
    assert result.status == "failed"
    assert "HTTP 404" in result.reason and src.url(base) in result.reason
    assert not (tmp_path / "dest").exists()


def test_unreachable_says_so_and_skips_the_rest(tmp_path):
    with socket_closed_port() as port:
        results = fetch_all(tmp_path / "dest", base_url=f"http://127.0.0.1:{port}", only=SMALL,
                            progress=None, timeout=2)
    assert [r.status for r in results] == ["failed", "failed"]
    assert results[0].reason.startswith("could not reach http://127.0.0.1:")
    assert "may have no internet" in results[0].reason and str(tmp_path / "dest") in results[0].reason
    assert results[1].reason.startswith("not tried")
    assert not (tmp_path / "dest").exists()  # no empty folder left to be taken for a data root
    with pytest.raises(FetchError):
        fetch_file(sources()[SMALL[0]], tmp_path / "dest", base_url=f"http://127.0.0.1:{port}", timeout=2)


class TruncatingHandler(QuietHandler):
    """Promises more bytes than it sends, then closes: an interrupted download."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"partial content")
        self.wfile.flush()
        self.close_connection = True


def test_interrupted_download_replaces_nothing(tmp_path):
    name = "subpop-eval/LICENSE"
    dest = tmp_path / "dest"
    (dest / "subpop-eval").mkdir(parents=True)
    (dest / name).write_text("old copy\n")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), TruncatingHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        [result] = fetch_all(dest, base_url=f"http://127.0.0.1:{httpd.server_address[1]}", only=[name],
                             progress=None, timeout=5)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
    assert result.status == "failed" and "interrupted" in result.reason and "15 bytes read" in result.reason
    assert (dest / name).read_text() == "old copy\n"
    assert not leftovers(dest)


def test_no_data_message_names_the_fetch_command(monkeypatch, tmp_path):
    from survey_sim.data import manifest

    monkeypatch.delenv("SURVEY_SIM_DATA", raising=False)
    monkeypatch.setattr(manifest, "candidate_roots", lambda: [("nowhere", tmp_path / "missing")])
    with pytest.raises(manifest.DataRootNotFound, match="survey-sim data fetch"):
        manifest.data_root()


def test_cli_exit_codes(server, tmp_path, capsys):
    base, served = server
    dest = tmp_path / "dest"
    argv = ["data", "fetch", "--only", *SMALL, "--dest", str(dest), "--base-url", base]
    assert cli.main(argv) == 0
    assert "2 fetched, 0 already there, 0 failed" in capsys.readouterr().out
    assert cli.main(argv) == 0
    assert "0 fetched, 2 already there, 0 failed" in capsys.readouterr().out

    src = sources()[SMALL[1]]
    (served / src.repo / src.commit / src.path).unlink()
    (dest / SMALL[1]).unlink()
    assert cli.main(argv) == cli.EXIT_DATA
    out = capsys.readouterr().out
    assert "1 failed" in out and "HTTP 404" in out and "copy the files by hand" in out

    assert cli.main(["data", "fetch", "--only", "nope.json", "--dest", str(dest), "--base-url", base]) == cli.EXIT_USAGE


class socket_closed_port:
    """A local port with nothing listening on it (connection refused at once)."""

    def __enter__(self):
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc):
        return False
