"""RFC 9457 problem details: every error the API answers is `application/problem+json` with
`type`, `title`, `status`, `detail`, and an `errors` list where a request had several
problems (each account's, in the same words as the chat's preview)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://crier.dev/problems/"


class ProblemItem(BaseModel):
    """One thing wrong with the request."""

    message: str = Field(
        examples=["@news: Text is 5,999 characters; Telegram channel allows 4,096 in a post."]
    )
    #: The request field it is about ("time", "media_ids"), when there is one.
    field: str | None = Field(default=None, examples=["time"])
    #: The account it is about, for a platform's check.
    account_id: int | None = Field(default=None, examples=[3])
    account: str | None = Field(default=None, examples=["@news"])
    code: str | None = Field(default=None, examples=["text_too_long"])


class Problem(BaseModel):
    """An error, as RFC 9457 describes it."""

    type: str = Field(default="about:blank", examples=[TYPE_BASE + "validation"])
    title: str = Field(examples=["The post can't be scheduled"])
    status: int = Field(examples=[422])
    detail: str | None = Field(
        default=None,
        examples=["@news: Text is 5,999 characters; Telegram channel allows 4,096 in a post."],
    )
    errors: list[ProblemItem] | None = None


class ApiProblem(Exception):
    """An answer other than success; raised anywhere under a route."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        kind: str | None = None,
        errors: Sequence[ProblemItem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        problem = Problem(
            type=TYPE_BASE + self.kind if self.kind else "about:blank",
            title=self.title,
            status=self.status,
            detail=self.detail,
            errors=self.errors or None,
        )
        return problem.model_dump(exclude_none=True)

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.body(), status_code=self.status, headers=self.headers, media_type=MEDIA_TYPE
        )


def not_found(what: str = "post", ident: int | str | None = None) -> ApiProblem:
    """What another user's id and an id that doesn't exist both answer."""
    shown = f" {ident}" if ident is not None else ""
    return ApiProblem(404, "Not found", f"There is no {what}{shown} among yours.", kind="not-found")


def invalid(detail: str, errors: Sequence[ProblemItem] = ()) -> ApiProblem:
    return ApiProblem(
        422,
        "The request can't be carried out",
        detail,
        kind="validation",
        errors=errors or [ProblemItem(message=detail)],
    )


#: For the OpenAPI document: the problem answers each route may give.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    words = {
        401: "No token, or a token that is unknown or revoked",
        403: "The token may not do this (read-only), or API access is off",
        404: "No such id among the caller's",
        409: "The post is in a state that doesn't allow this",
        413: "The upload is too large",
        422: "The request is not valid; `errors` lists each problem",
        429: "Too many requests for this token; see Retry-After",
    }
    return {
        status: {
            "model": Problem,
            "description": words.get(status, "Error"),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
