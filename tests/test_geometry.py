"""Coordinate frames and box geometry (perception_r1.geometry)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from perception_r1 import geometry as G
from perception_r1.geometry import Frame, FrameSpec

SIZES = [(1, 1), (28, 28), (29, 57), (100, 120), (333, 517), (480, 640), (1080, 1920), (37, 4000), (3000, 20)]
LIMITS = [(56 * 56, 224 * 224), (3136, 12845056), (256 * 28 * 28, 1280 * 28 * 28), (28 * 28, 28 * 28 * 4)]


@pytest.mark.parametrize(("hw", "limits"), list(itertools.product(SIZES, LIMITS)))
def test_smart_resize_matches_transformers(hw, limits):
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as ref

    h, w = hw
    lo, hi = limits
    ours = G.smart_resize(h, w, min_pixels=lo, max_pixels=hi)
    assert ours == ref(h, w, min_pixels=lo, max_pixels=hi)
    assert ours[0] % 28 == 0 and ours[1] % 28 == 0


def test_smart_resize_rejects_bad_sizes():
    with pytest.raises(ValueError, match="positive"):
        G.smart_resize(0, 10)
    with pytest.raises(ValueError, match="aspect ratio"):
        G.smart_resize(10, 2500)


def test_resized_frame_of_a_coco_sized_image():
    # 480x640 with max 224*224: round -> 476x644 = 306544 > 50176, beta = sqrt(307200/50176) = 2.4744;
    # h = floor(480/2.4744/28)*28 = floor(6.93)*28 = 168, w = floor(640/2.4744/28)*28 = floor(9.24)*28 = 252
    spec = FrameSpec(640, 480, 56 * 56, 224 * 224)
    assert spec.resized_size == (252, 168)
    sx, sy = spec.scale_to_original("resized")
    assert sx == pytest.approx(640 / 252) and sy == pytest.approx(480 / 168)


@pytest.mark.parametrize("frame", list(Frame))
@pytest.mark.parametrize("wh", [(333, 517), (517, 333), (29, 1001), (112, 112)])
def test_round_trip_boxes_and_points(frame, wh):
    spec = FrameSpec(wh[0], wh[1], 3136, 50176)
    rng = np.random.default_rng(0)
    boxes = rng.uniform(0, min(wh), size=(20, 4))
    pts = rng.uniform(0, min(wh), size=(20, 2))
    for a in (boxes, pts):
        there = G.from_original(a, spec, frame)
        back = G.to_original(there, spec, frame)
        np.testing.assert_allclose(back, a, rtol=1e-12, atol=1e-9)


def test_norm1000_is_relative_to_original_size():
    spec = FrameSpec(200, 400)
    # x in [0,1000) of the width, y of the height: (500, 250) -> (100, 100) px
    np.testing.assert_allclose(G.to_original(np.array([500.0, 250.0]), spec, "norm1000"), [100.0, 100.0])
    np.testing.assert_allclose(G.to_original(np.array([0, 0, 1000, 1000.0]), spec, "norm1000"), [0, 0, 200, 400])


def test_scale_rejects_wrong_last_axis():
    with pytest.raises(ValueError, match="last axis"):
        G.to_original(np.zeros((2, 3)), FrameSpec(10, 10), "original")


def test_iou_matrix_hand_computed():
    # two 10x10 boxes overlapping by 5 in x: inter 5*10 = 50, union 100+100-50 = 150
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_allclose(G.iou_matrix(a, b), [[50 / 150, 0.0, 1.0]])
    assert G.box_iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(1 / 3)


def test_iou_degenerate_boxes_are_zero_without_warnings():
    bad = np.array([[10, 10, 0, 0], [5, 5, 5, 5], [np.nan, 0, 10, 10], [0, 0, np.inf, 10]])
    good = np.array([[0, 0, 10, 10]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = G.iou_matrix(bad, good)
    assert m.shape == (4, 1)
    assert np.isfinite(m).all()
    assert m[0, 0] == 0 and m[1, 0] == 0 and m[2, 0] == 0


def test_giou_hand_computed():
    # disjoint [0,0,1,1] and [2,0,3,1]: iou 0, union 2, enclosing [0,0,3,1] area 3 -> giou = 0 - (3-2)/3
    g = G.giou_matrix(np.array([[0, 0, 1, 1]]), np.array([[2, 0, 3, 1], [0, 0, 1, 1]]))
    np.testing.assert_allclose(g, [[-1 / 3, 1.0]])


def test_l1_l2_centres_and_xywh():
    p = np.array([[0.0, 0.0], [3.0, 4.0]])
    g = np.array([[0.0, 0.0]])
    np.testing.assert_allclose(G.l2_matrix(p, g), [[0.0], [5.0]])
    np.testing.assert_allclose(G.l1_matrix(p, g), [[0.0], [7.0]])
    np.testing.assert_allclose(G.box_centers(np.array([[0, 0, 10, 4]])), [[5, 2]])
    xywh = G.xyxy_to_xywh(np.array([[1, 2, 4, 8]]))
    np.testing.assert_allclose(xywh, [[1, 2, 3, 6]])
    np.testing.assert_allclose(G.xywh_to_xyxy(xywh), [[1, 2, 4, 8]])
    assert G.box_area(np.array([[0, 0, 2, 3], [3, 3, 1, 1]])).tolist() == [6.0, 0.0]
    assert math.isclose(G.l2_matrix(np.zeros((0, 2)), g).size, 0)
