"""Test data made by LangChain's own PGVector store, so the tables are exactly what LangConnect creates.

Usage: make_collections.py DSN NAME:OWNER:COUNT:DIM [NAME:OWNER:COUNT:DIM ...]
Prints one line per collection: "<uuid> <name> <count>".
Test infrastructure only; run by the Java tests with the virtualenv scripts/test-env.sh prepares.
"""
import sys
import uuid

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_postgres import PGVector
from sqlalchemy import text


def main() -> None:
    dsn = sys.argv[1]
    for spec in sys.argv[2:]:
        name, owner, count, dim = spec.split(":")
        # LangConnect names the store after a UUID and keeps the display name and owner in the metadata.
        store = PGVector(
            embeddings=DeterministicFakeEmbedding(size=int(dim)),
            collection_name=str(uuid.uuid4()),
            collection_metadata={"name": name, "owner_id": owner},
            connection=dsn,
            use_jsonb=True,
        )
        batch = 500
        total = int(count)
        for start in range(0, total, batch):
            docs = [Document(page_content=f"{name} document {i}", metadata={"n": i})
                    for i in range(start, min(total, start + batch))]
            store.add_documents(docs)
        with store._make_sync_session() as session:  # noqa: SLF001 - the store's own session
            collection = store.get_collection(session)
            uid = collection.uuid
            n = session.execute(text("SELECT count(*) FROM langchain_pg_embedding WHERE collection_id = :c"),
                                {"c": uid}).scalar()
        print(uid, name, n, flush=True)


if __name__ == "__main__":
    main()
