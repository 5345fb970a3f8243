"""Boxes and points: coordinate frames, conversions and vectorised IoU / GIoU / L1 / L2 matrices.

Every conversion between coordinate frames in the project lives here. The three frames:

* ``original`` -- pixels of the image file as stored on disk (canonical records use this frame).
* ``resized``  -- pixels of the image after the Qwen2-VL / Qwen2.5-VL processor resized it
  (``smart_resize``: each side a multiple of 28, area within ``[min_pixels, max_pixels]``).
  Qwen2.5-VL writes ``bbox_2d`` / ``point_2d`` in this frame.
* ``norm1000`` -- integers in ``[0, 1000)`` relative to width / height (Qwen2-VL's ``<|box_start|>`` frame).

Notation for shapes: ``N`` predicted boxes / points, ``M`` ground-truth boxes / points.
Boxes are ``xyxy`` (x1, y1, x2, y2) unless a name says otherwise. Pure numpy, no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy.spatial.distance import cdist

#: Qwen2-VL patch size (14) x spatial merge size (2): one LLM token covers a 28 x 28 pixel cell.
QWEN_FACTOR = 28
#: The Qwen2-VL image processor's own defaults (min 4 tokens, max 16384 tokens).
QWEN_DEFAULT_MIN_PIXELS = 56 * 56
QWEN_DEFAULT_MAX_PIXELS = 28 * 28 * 16384


class Frame(str, Enum):
    """Coordinate frame of a box or point (see module docstring)."""

    original = "original"
    resized = "resized"
    norm1000 = "norm1000"


def smart_resize(
    height: int,
    width: int,
    factor: int = QWEN_FACTOR,
    min_pixels: int = QWEN_DEFAULT_MIN_PIXELS,
    max_pixels: int = QWEN_DEFAULT_MAX_PIXELS,
) -> tuple[int, int]:
    """Qwen2-VL's resize rule: the ``(height, width)`` the processor resizes an image to.

    Follows ``transformers.models.qwen2_vl.image_processing_qwen2_vl.smart_resize`` (and ``qwen_vl_utils``)
    exactly; a test checks the two agree on many sizes. Kept here so that ``tasks`` need no transformers import.

    Args:
        height, width: original image size in pixels (> 0).
        factor: both output sides are multiples of it (28 for Qwen2-VL / Qwen2.5-VL).
        min_pixels, max_pixels: bounds on the output area in pixels.

    Returns:
        ``(resized_height, resized_width)`` in pixels.

    Raises:
        ValueError: if a side is not positive or the aspect ratio exceeds 200 (as the processor does).
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got height={height}, width={width}")
    if max(height, width) / min(height, width) > 200:
        ratio = max(height, width) / min(height, width)
        raise ValueError(f"absolute aspect ratio must be smaller than 200, got {ratio}")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@dataclass(frozen=True)
class FrameSpec:
    """What is needed to move coordinates between frames for one image.

    Attributes:
        width, height: original image size in pixels.
        min_pixels, max_pixels: the processor's pixel limits (define the ``resized`` frame).
    """

    width: int
    height: int
    min_pixels: int = QWEN_DEFAULT_MIN_PIXELS
    max_pixels: int = QWEN_DEFAULT_MAX_PIXELS

    @property
    def resized_size(self) -> tuple[int, int]:
        """``(resized_width, resized_height)`` in pixels after Qwen's ``smart_resize``."""
        h, w = smart_resize(self.height, self.width, min_pixels=self.min_pixels, max_pixels=self.max_pixels)
        return w, h

    def scale_to_original(self, frame: Frame | str) -> tuple[float, float]:
        """Multipliers ``(sx, sy)`` that take x / y coordinates in ``frame`` to original-image pixels."""
        frame = Frame(frame)
        if frame is Frame.original:
            return 1.0, 1.0
        if frame is Frame.resized:
            rw, rh = self.resized_size
            return self.width / rw, self.height / rh
        return self.width / 1000.0, self.height / 1000.0


def to_original(coords: np.ndarray, spec: FrameSpec, frame: Frame | str) -> np.ndarray:
    """Convert boxes ``(..., 4)`` xyxy or points ``(..., 2)`` xy from ``frame`` to original-image pixels.

    Args:
        coords: array whose last axis is 4 (boxes) or 2 (points), in ``frame`` units.
        spec: the image's size and processor pixel limits.
        frame: the frame ``coords`` are in.

    Returns:
        float64 array of the same shape, in pixels of the original image (not clipped).
    """
    sx, sy = spec.scale_to_original(frame)
    return _scale(coords, sx, sy)


def from_original(coords: np.ndarray, spec: FrameSpec, frame: Frame | str) -> np.ndarray:
    """Inverse of :func:`to_original`: original-image pixels to ``frame`` units (float, not rounded)."""
    sx, sy = spec.scale_to_original(frame)
    return _scale(coords, 1.0 / sx, 1.0 / sy)


def _scale(coords: np.ndarray, sx: float, sy: float) -> np.ndarray:
    a = np.asarray(coords, dtype=np.float64)
    if a.shape[-1] not in (2, 4):
        raise ValueError(f"last axis must be 2 (points) or 4 (boxes), got shape {a.shape}")
    mult = np.array([sx, sy] * (a.shape[-1] // 2))
    return a * mult


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas of xyxy boxes ``(N, 4)`` -> ``(N,)``; inverted or degenerate boxes have area 0."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def iou_matrix(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Pairwise IoU of xyxy boxes.

    Args:
        pred: ``(N, 4)`` boxes; gt: ``(M, 4)`` boxes, same frame. Inverted boxes count as empty.

    Returns:
        ``(N, M)`` float64 IoU in [0, 1]; 0 where the union is empty (no division by zero).
    """
    p = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    g = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(p[:, None, :2], g[None, :, :2])
    rb = np.minimum(p[:, None, 2:], g[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(p)[:, None] + box_area(g)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.nan_to_num(out, nan=0.0)


def box_iou(a: np.ndarray | list[float], b: np.ndarray | list[float]) -> float:
    """IoU of two xyxy boxes (same frame), in [0, 1]; 0 for empty / inverted / non-finite boxes."""
    return float(iou_matrix(np.asarray(a, dtype=np.float64)[None], np.asarray(b, dtype=np.float64)[None])[0, 0])


def giou_matrix(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Pairwise generalised IoU (Rezatofighi et al. 2019) of xyxy boxes: ``(N, 4), (M, 4) -> (N, M)`` in [-1, 1]."""
    p = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    g = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    iou = iou_matrix(p, g)
    lt = np.maximum(p[:, None, :2], g[None, :, :2])
    rb = np.minimum(p[:, None, 2:], g[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(p)[:, None] + box_area(g)[None, :] - inter
    elt = np.minimum(p[:, None, :2], g[None, :, :2])
    erb = np.maximum(p[:, None, 2:], g[None, :, 2:])
    ewh = np.clip(erb - elt, 0, None)
    enclose = ewh[..., 0] * ewh[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(enclose > 0, iou - (enclose - union) / np.where(enclose > 0, enclose, 1.0), iou)
    return np.nan_to_num(out, nan=0.0)


def l1_matrix(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Pairwise L1 distance of coordinate vectors: ``(N, D), (M, D) -> (N, M)`` (D = 2 or 4), same units as input."""
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    return np.abs(p[:, None, :] - g[None, :, :]).sum(-1)


def l2_matrix(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distance of points: ``(N, 2), (M, 2) -> (N, M)``, same units as input."""
    p = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    g = np.asarray(gt, dtype=np.float64).reshape(-1, 2)
    if len(p) == 0 or len(g) == 0:
        return np.zeros((len(p), len(g)))
    return cdist(p, g)


def box_centers(boxes: np.ndarray) -> np.ndarray:
    """Centres of xyxy boxes: ``(N, 4) -> (N, 2)``, same frame."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """xyxy ``(N, 4)`` -> COCO xywh ``(N, 4)``."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """COCO xywh ``(N, 4)`` -> xyxy ``(N, 4)``."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], axis=1)
