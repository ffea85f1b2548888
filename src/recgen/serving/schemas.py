"""Request and response bodies of the HTTP service (pydantic models; they define the OpenAPI schema).

Size limits are part of the schema, so a client learns them from ``/openapi.json`` and an oversized
list is a 422 before any work is done. Raw ids are strings; integers are accepted and mean the same
id (``12`` and ``"12"`` are one item).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

#: most ids in one list (history, exclude, candidates)
MAX_IDS = 5000
#: most requests in one POST /recommend/batch
MAX_BATCH = 256
#: largest k accepted by the schema (k must also not exceed the catalogue)
MAX_K = 10_000

RawId = Annotated[str, StringConstraints(min_length=1, max_length=256)] | StrictInt
UnknownPolicy = Literal["reject", "ignore"]
Source = Literal["user", "history", "popularity"]


class RecommendRequest(BaseModel):
    """Top-k recommendations for a known user (``user_id``) or for a history of items (``items``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"user_id": "17", "k": 10}, {"items": ["12", "57", "301"], "k": 5, "exclude": ["50"]}]})

    user_id: RawId | None = Field(None, description="A user the model was trained on; its training history is used.")
    items: list[RawId] | None = Field(
        None, max_length=MAX_IDS,
        description="The items a user interacted with (works for users the model never saw). Exactly one of "
                    "user_id and items must be given.")
    k: int = Field(10, ge=1, le=MAX_K, description="How many items to return (at most the catalogue size).")
    exclude: list[RawId] = Field(default_factory=list, max_length=MAX_IDS,
                                 description="Items never to return (besides the history when exclude_seen).")
    candidates: list[RawId] | None = Field(
        None, min_length=1, max_length=MAX_IDS, description="If given, only these items may be returned.")
    exclude_seen: bool = Field(True, description="Leave the user's history out of the result.")
    unknown_items: UnknownPolicy | None = Field(
        None, description="What to do with item ids the model does not know: 'reject' (422) or 'ignore' (drop "
                          "them and list them in the response). Default: the server's policy.")

    @model_validator(mode="after")
    def _one_of(self) -> RecommendRequest:
        if (self.user_id is None) == (self.items is None):
            raise ValueError("pass exactly one of user_id (a known user) or items (a history of item ids)")
        return self


class RecommendResponse(BaseModel):
    """Recommended item ids, best first, with their scores and where they came from."""

    items: list[str] = Field(description="Recommended item ids, best first (fewer than k when filters leave fewer).")
    scores: list[float] = Field(description="The model's score of each returned item (higher is better).")
    source: Source = Field(description="'user': the model from the user's training history; 'history': the model "
                                       "folded in from the items sent; 'popularity': fallback for an empty history.")
    ignored_items: list[str] = Field(default_factory=list,
                                     description="Unknown item ids dropped under the 'ignore' policy.")
    model: str = Field(description="Name of the model that answered.")
    version: str = Field(description="Version of the model that answered.")


class BatchRequest(BaseModel):
    """Several recommendation requests answered together (scored in one batch)."""

    model_config = ConfigDict(extra="forbid")

    requests: list[RecommendRequest] = Field(min_length=1, max_length=MAX_BATCH)


class BatchResponse(BaseModel):
    results: list[RecommendResponse] = Field(description="One response per request, in order.")


class SimilarResponse(BaseModel):
    """Items most similar to one item."""

    item: str
    items: list[str]
    scores: list[float]
    method: Literal["embedding-cosine", "ease-weights", "knn-similarity", "cooccurrence-cosine"] = Field(
        description="Which item representation produced the similarities.")
    model: str
    version: str


class ModelInfo(BaseModel):
    """The model being served."""

    name: str = Field(description="Name in the store (or the artifact directory's name).")
    version: str
    model: str = Field(description="Registered model type, e.g. 'ease'.")
    config: dict[str, Any]
    recgen_version: str | None = None
    data_fingerprint: str | None = None
    metrics: dict[str, Any]
    n_users: int
    n_items: int
    loaded_at: float = Field(description="Unix time at which this version was loaded.")


class Health(BaseModel):
    """Readiness: ``ready`` once a model is loaded (HTTP 200), else ``loading`` (HTTP 503)."""

    status: Literal["ready", "loading"]
    model: str | None = None
    version: str | None = None
    reloads: int = 0
    last_error: str | None = Field(None, description="Why the last load failed (the previous version keeps serving).")


class ReloadResponse(BaseModel):
    changed: bool = Field(description="True when a new version was swapped in.")
    version: str | None
    last_error: str | None = None


class ErrorBody(BaseModel):
    """Every error answer: a machine-readable code, a message naming the value and the fix."""

    error: str = Field(description="unknown_user, unknown_item, invalid_request, not_found, too_large, "
                                   "not_ready, overloaded, method_not_allowed or internal.")
    message: str
    hint: str | None = None
    detail: list[dict[str, Any]] | None = Field(None, description="Validation errors, one per invalid field.")
