"""The dashboard page and the PNG plots.

Three routers, each tagged for its scope (service.security): the plots of a job under
"jobs" and of a version under "models" (GET: `read`); the page and its static files under
"ui", which is public: they are the same for everyone and hold no data (the page asks the
API for everything with the key the user enters).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel

from service.deps import ContextDep, SessionDep
from service.errors import NotFound, problem_responses
from service.ui import service
from service.ui.service import Png

PNG = "image/png"
PNG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {PNG: {"schema": {"type": "string", "format": "binary"}}},
        "description": "A PNG image",
    },
    304: {"description": "Not modified (If-None-Match)"},
    404: {
        **problem_responses(404)[404],
        "description": "Unknown job, model or version, or a plot that does not apply",
    },
    410: problem_responses(410)[410],
}
RefPath = Annotated[str, Path(description="A version number or an alias (latest always exists)")]
INM = Annotated[str | None, Header(description="An ETag from an earlier answer")]

jobs_router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=problem_responses(404))
models_router = APIRouter(
    prefix="/v1/models/{name}/versions/{ref}/plots",
    tags=["models"],
    responses=problem_responses(404, 410),
)
router = APIRouter(tags=["ui"])


def png_response(png: Png, if_none_match: str | None) -> Response:
    # no-cache: revalidate every time ({ref} may move, a running job's curve grows)
    headers = {"ETag": png.etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and png.etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(content=png.content, media_type=PNG, headers=headers)


@jobs_router.get(
    "/{job_id}/plots/loss.png",
    operation_id="read_job_loss_plot",
    summary="Training and validation loss per epoch (live while the job runs)",
    response_class=Response,
    responses=PNG_RESPONSES,
)
def read_job_loss_plot(
    ctx: ContextDep, session: SessionDep, job_id: str, if_none_match: INM = None
) -> Response:
    return png_response(service.job_loss_plot(ctx, session=session, job_id=job_id), if_none_match)


class VersionPlots(BaseModel):
    model: str
    version: int
    plots: dict[str, str]


@models_router.get(
    "",
    operation_id="list_version_plots",
    summary="The plots that apply to this version, with their URLs",
)
def list_version_plots(session: SessionDep, name: str, ref: RefPath) -> VersionPlots:
    version, names = service.list_version_plots(session=session, name=name, ref=ref)
    base = f"/v1/models/{name}/versions/{version}/plots"
    return VersionPlots(model=name, version=version, plots={n: f"{base}/{n}.png" for n in names})


PLOT_SUMMARIES = {
    "reconstructions": "Validation rows above their reconstructions (images, or bars per feature)",
    "latent": "The validation codings in 2-D (PCA-projected past 2), coloured by label",
    "samples": "Generated samples: a VAE's prior, else a Gaussian fitted to the codings",
    "features": "The first layer's weights as images (image datasets only)",
    "scores": "Histogram of the validation anomaly scores with the threshold",
}


def _add_version_plot(plot: str) -> None:
    def read_plot(
        ctx: ContextDep, session: SessionDep, name: str, ref: RefPath, if_none_match: INM = None
    ) -> Response:
        png = service.version_plot(ctx, session=session, name=name, ref=ref, plot=plot)
        return png_response(png, if_none_match)

    read_plot.__name__ = f"read_{plot}_plot"
    models_router.add_api_route(
        f"/{plot}.png",
        read_plot,
        methods=["GET"],
        operation_id=f"read_{plot}_plot",
        summary=PLOT_SUMMARIES[plot],
        response_class=Response,
        responses=PNG_RESPONSES,
    )


for _plot in service.VERSION_PLOTS:
    _add_version_plot(_plot)


STATIC = files("service.ui") / "static"
ASSETS = {"app.js": "text/javascript", "sweeps.js": "text/javascript", "style.css": "text/css"}


@router.get("/", include_in_schema=False)
def redirect_to_dashboard() -> RedirectResponse:
    """A browser pointed at the service lands on the dashboard, not on a 404."""
    return RedirectResponse("/ui")


@router.get(
    "/ui",
    operation_id="read_dashboard",
    summary="The dashboard (one HTML page; the API key is entered there)",
    response_class=HTMLResponse,
)
def read_dashboard() -> HTMLResponse:
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))


@router.get(
    "/ui/static/{filename}",
    operation_id="read_dashboard_asset",
    summary="The dashboard's script and style sheet",
    response_class=Response,
    responses=problem_responses(404),
)
def read_dashboard_asset(filename: str) -> Response:
    if filename not in ASSETS:
        raise NotFound(f"no dashboard file {filename!r}", code="file_not_found")
    return Response(
        (STATIC / filename).read_bytes(),
        media_type=ASSETS[filename],
        headers={"Cache-Control": "no-cache"},
    )
