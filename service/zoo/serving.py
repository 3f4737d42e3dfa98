"""The stored unit: preprocessing + network, in the dataset's raw units."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from service.zoo.build import build_autoencoder
from service.zoo.nets import Autoencoder
from service.zoo.preprocess import Preprocessor
from service.zoo.spec import ModelSpec

FORMAT_VERSION = 2  # 2: the anomaly score's statistics (SCORE_BUFFERS) are stored tensors
READABLE_FORMATS = (1, 2)
SCORE_BUFFERS = ("error_scale", "coding_mean", "coding_precision")
# The anomaly score's coding statistics leave outliers out (ServingModel._robust_statistics):
# the share of rows left out at first (PyOD's default contamination), how many times those
# are chosen again, the quantile of a gaussian's distances that rows are let back within,
# and the fewest rows kept per coding unit for a covariance worth the name.
SCORE_TRIM, TRIM_STEPS, REWEIGHT_QUANTILE, ROWS_PER_CODING_UNIT = 0.1, 3, 0.999, 5
# A score term's scale is its mean over this share of the fitted rows, the smallest (_typical).
TYPICAL_SHARE = 0.9
DISTANCE_ROWS = 1 << 16  # rows per pass of _distances: its temporaries stay small


class ServingModel(nn.Module):
    """Every method takes and returns raw units; the network sees preprocessed data."""

    error_scale: torch.Tensor
    coding_mean: torch.Tensor
    coding_precision: torch.Tensor

    def __init__(self, preprocessor: Preprocessor, autoencoder: Autoencoder) -> None:
        super().__init__()
        self.preprocessor = preprocessor
        self.autoencoder = autoencoder
        for name, value in neutral_score_buffers(autoencoder.code_size).items():
            self.register_buffer(name, value)

    def encode(self, x_raw: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.encode(self.preprocessor(x_raw))  # (B, code_size)

    def encode_stats(self, x_raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.autoencoder.encode_stats(self.preprocessor(x_raw))  # mean, log_var

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.preprocessor.inverse(self.autoencoder.decode(z))  # (B, F) raw

    def reconstruct(self, x_raw: torch.Tensor) -> torch.Tensor:
        return self.preprocessor.inverse(self.autoencoder(self.preprocessor(x_raw)))

    def row_errors(self, x_raw: torch.Tensor) -> torch.Tensor:
        """The anomaly score of each row (B,): how far it lies from the training data.

        Two terms, as PCA process monitoring scores a row (its Q and T^2 statistics):
        - off the learned manifold: the row's mean squared reconstruction error, measured
          in the preprocessed space (every feature on a comparable scale, so no feature
          dominates by its units);
        - along it: the squared Mahalanobis distance of its codings from the training
          rows' codings.
        Each term is in units of its typical value on the rows the model was fitted on
        (fit_score, _typical), so a typical one of those rows scores about 1 + 1 and
        neither term outweighs the other by its scale; the threshold is a quantile of
        those rows' scores.
        """
        x = self.preprocessor(x_raw)  # (B, F)
        codings = self.autoencoder.encode(x)  # (B, code)
        errors = (self.autoencoder.decode(codings) - x).square().mean(dim=1)  # (B,)
        centred = codings - self.coding_mean  # (B, code)
        t2 = ((centred @ self.coding_precision) * centred).sum(dim=1)  # (B,)
        return errors / self.error_scale + t2 / self.autoencoder.code_size

    @torch.no_grad()
    def fit_score(
        self, X_train_raw: torch.Tensor, X_val_raw: torch.Tensor, *, trim: float | None = None
    ) -> None:
        """Set the score's statistics: the mean and precision of the training rows'
        codings, then each term's scale (_typical) over the training and validation rows
        together, the rows the threshold is a quantile of. `trim` (score_trim): leave out
        up to that share of outlying training rows from the mean and precision."""
        codings = self.encode(X_train_raw).double()  # (N, code)
        if trim is None:
            mean, precision = self._coding_statistics(codings)
        else:
            mean, precision = self._robust_statistics(codings, trim)
        x = self.preprocessor(torch.cat([X_train_raw, X_val_raw]))
        fitted = self.autoencoder.encode(x)
        errors = (self.autoencoder.decode(fitted) - x).square().mean(dim=1)
        t2 = _typical(_distances(fitted.double(), mean, precision))
        code = self.autoencoder.code_size
        self.error_scale.fill_(max(_typical(errors), 1e-12))
        self.coding_mean.copy_(mean.float())
        # 0 where nearly every coding is alike: the precision as it is
        self.coding_precision.copy_((precision * (code / t2 if t2 > 0 else 1.0)).float())

    def _robust_statistics(
        self, codings: torch.Tensor, trim: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The codings' mean and precision, fitted to the rows that are not outliers.

        A user's unlabelled rows hold the outliers the score is to find, and a covariance
        that counts them stretches toward them and hides them. As the reweighted Minimum
        Covariance Determinant does: a few concentration steps (the statistics of the
        1 - `trim` share of rows nearest the last ones, from all the rows), then every row
        within the 0.999 quantile of a gaussian cloud's distances, once those are scaled to
        its median, and never fewer rows than the steps kept: the centre moves and the
        ellipsoid turns away from the outliers; its size is set after, as the plain
        statistics' is (fit_score; docs/models.md, "Outliers among the training rows"). The
        plain statistics stand where the rows are too few for the code size, where a
        coding is not finite, and where the fit collapses to a point (more than half the
        rows alike).
        """
        from scipy.stats import chi2  # here: it costs the API process 0.4 s and 60 MB at start

        plain_mean, plain_precision = self._coding_statistics(codings)
        n, code = codings.shape
        kept = math.ceil((1.0 - trim) * n)
        if kept < ROWS_PER_CODING_UNIT * code or not bool(torch.isfinite(codings).all()):
            return plain_mean, plain_precision
        mean, precision = plain_mean, plain_precision
        for _ in range(TRIM_STEPS):
            nearest = torch.argsort(_distances(codings, mean, precision))[:kept]
            mean, precision = self._coding_statistics(codings[nearest])
        distances = _distances(codings, mean, precision)
        scale = float(distances.median()) / chi2.ppf(0.5, code)
        cut = max(scale * chi2.ppf(REWEIGHT_QUANTILE, code), float(distances.kthvalue(kept)[0]))
        mean, precision = self._coding_statistics(codings[distances <= cut])
        plain = float(_distances(codings, plain_mean, plain_precision).median())
        robust = float(_distances(codings, mean, precision).median())
        if not (plain > 0 and robust > plain * 1e-6):
            return plain_mean, plain_precision
        return mean, precision

    def _coding_statistics(self, codings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (code,) and ridged precision (code, code) of codings (N, code), float64."""
        code = codings.shape[1]
        cov = torch.cov(codings.T).reshape(code, code) if len(codings) > 1 else None
        if cov is None or not bool(torch.isfinite(cov).all()):
            cov = torch.eye(code, dtype=torch.float64)
        # a ridge of 1e-3 of the mean variance: a coding unit that barely varies on the
        # training rows must not turn a small move at serving time into a huge score. On a
        # linear path the codings are PCA's scores in the data's units, whose variances
        # may differ a million-fold by right: each unit's ridge is then 1e-3 of its own
        # variance (the mean's would hide every direction but the first)
        variance = cov.diagonal().clamp_min(1e-12)
        if self.autoencoder.linear_path is None:
            ridge = 1e-3 * variance.mean() * torch.ones_like(variance)
        else:
            ridge = 1e-3 * variance + 1e-9 * variance.max()
        return codings.mean(dim=0), torch.linalg.pinv(cov + torch.diag(ridge))

    def forward(self, x_raw: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(x_raw)


def score_trim(spec: ModelSpec) -> float | None:
    """The share of training rows the score's statistics may leave out: the spec's
    `contamination`, at least SCORE_TRIM. None (the plain statistics) for sparse and
    variational models, whose codings are no gaussian cloud (sigmoid activations near 0,
    units the prior switched off): a gaussian's quantiles would leave out clean rows."""
    arch = spec.architecture
    if spec.regularization.sparsity is not None or arch.kind in ("vae", "conv_vae"):
        return None
    return max(SCORE_TRIM, spec.training.contamination)


def _typical(values: torch.Tensor) -> float:
    """A score term's scale: the mean of its TYPICAL_SHARE smallest values. The outliers
    among the rows (a user's unlabelled rows hold them) do not set it, as they would a
    mean; nor do rows alike, as they would a median where more than half are (idle
    sensors)."""
    kept = torch.sort(values.flatten()).values[: max(1, math.ceil(TYPICAL_SHARE * values.numel()))]
    return float(kept.double().mean())


def _distances(codings: torch.Tensor, mean: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    """Each row's squared Mahalanobis distance (N,), DISTANCE_ROWS rows at a time."""
    out = torch.empty(len(codings), dtype=codings.dtype)
    for start in range(0, len(codings), DISTANCE_ROWS):
        centred = codings[start : start + DISTANCE_ROWS] - mean
        out[start : start + DISTANCE_ROWS] = ((centred @ precision) * centred).sum(dim=1)
    return out


def serving_config(
    spec: ModelSpec, n_features: int, image_shape: tuple[int, ...] | None
) -> dict[str, Any]:
    """The JSON-safe description that, with the tensors, rebuilds a ServingModel."""
    return {
        "spec": spec.model_dump(mode="json"),
        "n_features": int(n_features),
        "image_shape": None if image_shape is None else [int(v) for v in image_shape],
        "format_version": FORMAT_VERSION,
    }


def build_serving_model(
    spec: ModelSpec, n_features: int, image_shape: tuple[int, int, int] | None
) -> ServingModel:
    autoencoder = build_autoencoder(spec, n_features=n_features, image_shape=image_shape)
    return ServingModel(Preprocessor(n_features), autoencoder)


def _parse_config(config: dict[str, Any]) -> tuple[ModelSpec, int, tuple[int, int, int] | None]:
    if config.get("format_version") not in READABLE_FORMATS:
        raise ValueError(
            f"unsupported format_version {config.get('format_version')!r} "
            f"(this service reads {list(READABLE_FORMATS)})"
        )
    spec = ModelSpec.stored(config["spec"])
    n_features = int(config["n_features"])
    shape = config.get("image_shape")
    if shape is not None and len(shape) != 3:
        raise ValueError(f"image_shape must be [height, width, channels], got {shape}")
    image_shape = None if shape is None else (int(shape[0]), int(shape[1]), int(shape[2]))
    return spec, n_features, image_shape


def neutral_score_buffers(code_size: int) -> dict[str, torch.Tensor]:
    """SCORE_BUFFERS until fit_score (and in a format 1 file, which has none): the score is
    then the plain reconstruction error."""
    return {
        "error_scale": torch.ones(1),  # (1,)
        "coding_mean": torch.zeros(code_size),  # (code,)
        "coding_precision": torch.zeros(code_size, code_size),  # (code, code)
    }


def check_tensors(expected: dict[str, torch.Tensor], tensors: dict[str, torch.Tensor]) -> None:
    """Names and shapes must match exactly, values must be finite floats."""
    check_tensor_names(expected, tensors)
    for name, want in expected.items():
        got = tensors[name]
        check_tensor_type(name, tuple(got.shape), got.dtype, tuple(want.shape))
        check_tensor_values(name, got)


def check_tensor_names(expected: Iterable[str], got: Iterable[str]) -> None:
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if missing or extra:
        raise ValueError(f"tensor names do not match the config: missing {missing}, extra {extra}")


def check_tensor_type(
    name: str, shape: tuple[int, ...], dtype: torch.dtype | str, want: tuple[int, ...]
) -> None:
    """The shape, and a float dtype (`dtype`: a file's own name for one torch lacks)."""
    if shape != want:
        raise ValueError(f"tensor '{name}' has shape {shape}, expected {want}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"tensor '{name}' has dtype {dtype}, expected a float type")


def check_tensor_values(name: str, values: torch.Tensor) -> None:
    """Finite as float32, as loaded (`values`: the tensor or any part of it)."""
    if not bool(torch.isfinite(values.to(torch.float32)).all()):
        raise ValueError(f"tensor '{name}' holds non-finite values (as float32)")


def check_scale(scale: torch.Tensor) -> None:
    """preprocessor.scale, as float32: the preprocessing divides by it."""
    if not bool((scale != 0).all()) or math.isnan(float(scale.sum())):
        raise ValueError("tensor 'preprocessor.scale' must be non-zero")


def load_serving_model(config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> ServingModel:
    """Rebuild a ServingModel (CPU, eval mode) and check the tensors strictly against it."""
    spec, n_features, image_shape = _parse_config(config)
    model = build_serving_model(spec, n_features, image_shape)
    expected = model.state_dict()
    if config["format_version"] == 1:  # no score statistics: the plain reconstruction error
        tensors = {**tensors, **{k: expected[k] for k in SCORE_BUFFERS}}
    check_tensors(expected, tensors)
    model.load_state_dict({k: v.to(torch.float32) for k, v in tensors.items()}, strict=True)
    check_scale(model.preprocessor.scale)
    return model.eval()
