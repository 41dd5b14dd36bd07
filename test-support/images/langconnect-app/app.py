"""A stand-in for LangConnect in the end-to-end tests. It is NOT LangConnect (no public image of it exists).

It does what the controller and its metrics rely on, the way LangConnect does it: reads POSTGRES_HOST, _PORT,
_USER, _PASSWORD and _DB, keeps documents in the LangChain PGVector tables made by the real langchain-postgres
package (collection display name and owner in the collection's metadata, as LangConnect stores them), and serves
GET /health on 8080 without touching the database.

  GET  /health                           {"status": "ok"}
  POST /collections/<name>/documents     {"texts": [...], "owner": "..."} -> {"collection": ..., "added": n}
  GET  /collections/<name>/count         {"collection": ..., "count": n}

Embeddings are LangChain's DeterministicFakeEmbedding (EMBEDDING_DIMENSION, default 16): no model is needed.
Test infrastructure only.
"""
import json
import os
import signal
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_postgres import PGVector
from sqlalchemy import text

DIMENSION = int(os.environ.get("EMBEDDING_DIMENSION", "16"))


def connection() -> str:
    user = urllib.parse.quote(os.environ["POSTGRES_USER"], safe="")
    password = urllib.parse.quote(os.environ["POSTGRES_PASSWORD"], safe="")
    host = os.environ["POSTGRES_HOST"]
    port = os.environ.get("POSTGRES_PORT", "5432")
    database = os.environ.get("POSTGRES_DB", "postgres")
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{database}"


def store(name: str, owner: str) -> PGVector:
    # LangConnect names the store after a UUID-like id and keeps the display name and owner in the metadata;
    # a stable id per name keeps repeated posts in one collection.
    return PGVector(
        embeddings=DeterministicFakeEmbedding(size=DIMENSION),
        collection_name="collection-" + name,
        collection_metadata={"name": name, "owner_id": owner},
        connection=connection(),
        use_jsonb=True,
    )


class Handler(BaseHTTPRequestHandler):
    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_one_request(self) -> None:
        # As LangConnect's server does, a failure is an error response, not a dropped connection.
        try:
            super().handle_one_request()
        except Exception as error:  # noqa: BLE001 - reported to the client
            try:
                self._reply(500, {"error": f"{type(error).__name__}: {error}"})
            except OSError:
                pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        parts = self.path.strip("/").split("/")
        if parts == ["health"]:
            self._reply(200, {"status": "ok"})
        elif len(parts) == 3 and parts[0] == "collections" and parts[2] == "count":
            vectors = store(parts[1], "")
            with vectors._make_sync_session() as session:  # noqa: SLF001 - the store's own session
                collection = vectors.get_collection(session)
                n = session.execute(text("SELECT count(*) FROM langchain_pg_embedding WHERE collection_id = :c"),
                                    {"c": collection.uuid}).scalar()
            self._reply(200, {"collection": parts[1], "count": n})
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "collections" or parts[2] != "documents":
            self._reply(404, {"error": "not found"})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        texts = body.get("texts", [])
        vectors = store(parts[1], body.get("owner", "e2e"))
        vectors.add_documents([Document(page_content=t, metadata={"n": i}) for i, t in enumerate(texts)])
        self._reply(200, {"collection": parts[1], "added": len(texts)})

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the http.server API
        print("%s %s" % (self.address_string(), format % args), flush=True)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
    # As LangConnect's uvicorn does: SIGTERM stops accepting and ends the process (as PID 1 with no handler, Python
    # ignored it and every pod deletion waited its whole grace period for SIGKILL). shutdown() from another thread,
    # since it waits for serve_forever's loop.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()
