"""COCO-derived grounding and counting sets built from COCO instance annotations.

These are *derived* sets, not RefCOCO or PixMo-Count, and are labelled so:

* COCO-derived counting: per image and category present in it, the non-crowd instances of that category
  (points = box centres). Categories absent from an image are not included.
* COCO-derived grounding: per image, every category with exactly one non-crowd instance (and no crowd region);
  the expression is the category name and the target is that instance's box.

Coordinates: COCO ``bbox`` is ``[x, y, w, h]`` in original-image pixels; records use xyxy original pixels.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from .records import DataError


def load_coco(path: str | Path) -> dict:
    """Load a COCO instances JSON and check the keys we use.

    Raises:
        DataError: missing file, bad JSON, missing ``images`` / ``annotations`` / ``categories``, an annotation
            missing ``image_id`` / ``category_id`` / ``bbox``, an unknown image or category id, a non-positive box.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file does not exist")
    try:
        coco = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    for key in ("images", "annotations", "categories"):
        if key not in coco or not isinstance(coco[key], list):
            raise DataError(f"{path}: missing list field '{key}'")
    img_ids = set()
    for i, im in enumerate(coco["images"]):
        for k in ("id", "file_name", "width", "height"):
            if k not in im:
                raise DataError(f"{path}: images[{i}]: missing field '{k}'")
        img_ids.add(im["id"])
    cat_ids = set()
    for i, c in enumerate(coco["categories"]):
        for k in ("id", "name"):
            if k not in c:
                raise DataError(f"{path}: categories[{i}]: missing field '{k}'")
        cat_ids.add(c["id"])
    for i, a in enumerate(coco["annotations"]):
        for k in ("image_id", "category_id", "bbox"):
            if k not in a:
                raise DataError(f"{path}: annotations[{i}] (id {a.get('id', '?')}): missing field '{k}'")
        if a["image_id"] not in img_ids:
            raise DataError(f"{path}: annotations[{i}] (id {a.get('id', '?')}): field 'image_id': "
                            f"unknown image id {a['image_id']}")
        if a["category_id"] not in cat_ids:
            raise DataError(f"{path}: annotations[{i}] (id {a.get('id', '?')}): field 'category_id': "
                            f"unknown category id {a['category_id']}")
        b = a["bbox"]
        if not (isinstance(b, list) and len(b) == 4 and all(isinstance(v, int | float) for v in b)) or b[2] <= 0 \
                or b[3] <= 0:
            raise DataError(f"{path}: annotations[{i}] (id {a.get('id', '?')}): field 'bbox': "
                            f"expected [x, y, w, h] with w, h > 0, got {b}")
    return coco


def coco_derived(task: str, annotations: str | Path, images: str | Path) -> list[dict]:
    """Build COCO-derived canonical records (see module docstring) with absolute image paths.

    Args:
        task: ``"grounding"`` or ``"counting"``. annotations: COCO instances JSON. images: folder of the images.

    Raises:
        DataError: bad annotation file (see :func:`load_coco`) or an image file that does not exist.
        ValueError: unknown task.
    """
    if task not in ("grounding", "counting"):
        raise ValueError(f"unknown task {task!r}: expected 'grounding' or 'counting'")
    coco = load_coco(annotations)
    images = Path(images)
    cats = {c["id"]: c["name"] for c in coco["categories"]}
    by_img: dict[int, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    crowd: dict[int, set[int]] = defaultdict(set)
    for a in coco["annotations"]:
        if a.get("iscrowd", 0):
            crowd[a["image_id"]].add(a["category_id"])
        else:
            by_img[a["image_id"]][a["category_id"]].append(a)
    out = []
    for im in sorted(coco["images"], key=lambda x: x["id"]):
        path = images / im["file_name"]
        if not path.exists():
            raise DataError(f"{annotations}: image id {im['id']}: field 'file_name': {path} does not exist")
        for cid in sorted(by_img.get(im["id"], {})):
            anns = by_img[im["id"]][cid]
            boxes = [[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                     for a in anns]
            rid = f"coco-{im['id']}-{cid}"
            if task == "counting":
                pts = [[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] for b in boxes]
                out.append({"id": rid, "image": str(path.resolve()), "problem": cats[cid], "points": pts,
                            "count": len(pts), "boxes": boxes, "source": "COCO-derived counting"})
            elif len(anns) == 1 and cid not in crowd.get(im["id"], set()):
                out.append({"id": rid, "image": str(path.resolve()), "problem": cats[cid], "box": boxes[0],
                            "source": "COCO-derived grounding"})
    return out
