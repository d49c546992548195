"""--chroma-url against a real Chroma server (`chroma run`, installed by chromadb) on 127.0.0.1."""
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import SEEDS
from helpers import assert_no_traceback, free_port, run, wait_until


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = open(data / "server.log", "wb")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as response:
                return response.status == 200
        except OSError:
            assert proc.poll() is None, (data / "server.log").read_text(errors="replace")
            return False

    try:
        wait_until(up, 60, "the Chroma server to answer")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_ingest_and_search_through_a_chroma_server(chroma_server, tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    ingest = run(["ingest", "seeds", "--chroma-url", chroma_server], cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    assert "in " + chroma_server in ingest.stdout
    assert not (tmp_path / ".rag" / "chroma").exists()  # vectors live on the server

    import chromadb

    host, port = chroma_server.rsplit(":", 1)
    client = chromadb.HttpClient(host="127.0.0.1", port=int(port))
    manifest = json.loads((tmp_path / ".rag" / "manifest.json").read_text())
    collection = client.get_collection(manifest["collection"], embedding_function=None)
    assert collection.count() == sum(len(f["passages"]) for f in manifest["files"].values())

    search = run(["search", "Who is Betsa Mariana?", "--chroma-url", chroma_server, "--json", "-k", "2"],
                 cwd=tmp_path)
    assert search.returncode == 0, search.stderr
    assert "Betsa Mariana" in json.loads(search.stdout)["hits"][0]["text"]
    # The index remembers its server: later commands need not repeat the flag.
    again = run(["search", "Who is Betsa Mariana?", "--json", "-k", "1"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["hits"][0]["id"] == json.loads(search.stdout)["hits"][0]["id"]


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    url = f"http://127.0.0.1:{free_port()}"
    result = run(["ingest", "seeds", "--chroma-url", url], cwd=tmp_path)
    assert result.returncode == 2
    assert_no_traceback(result)
    assert result.stderr.strip().startswith(f"rag: error: cannot reach the Chroma server at {url}")
    assert not (tmp_path / ".rag" / "manifest.json").exists()
