"""pr1-tiny: a tiny model of the real Qwen2.5-VL architecture, built offline.

Same classes as a real checkpoint (``Qwen2_5_VLForConditionalGeneration``, ``Qwen2_5_VLProcessor``,
``Qwen2Tokenizer``, ``Qwen2VLImageProcessor``), Qwen's 14 special tokens in their real relative order, and the
Qwen2.5-VL-Instruct chat template verbatim. The byte-level BPE tokenizer is trained by the ``tokenizers`` library on a
corpus of this project's prompts and answers, so nothing is downloaded. It is NOT a perception model for natural
images: it has a few million parameters and has only seen synthetic shapes.

Recipe and traps follow ``shared/reference/cpu-feasibility.md`` (section 1) of the project.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from ..data.synthetic import COLORS, COUNT_CATEGORIES, SHAPES
from ..tasks.prompts import COUNTING_PROMPT, GROUNDING_PROMPT

#: Qwen's special tokens in their real relative order (ids 151643.. in a real checkpoint).
SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]

#: Qwen2's pre-tokenizer regex (digits are split one per token, as in the real tokenizer).
PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

#: Qwen2.5-VL-Instruct chat template, verbatim.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image'"
    " or 'image' in content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture "
    "{{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video'"
    " or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video "
    "{{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}"
    "{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "<|im_start|>assistant\n{% endif %}"
)

#: Processor pixel limits of pr1-tiny: 4..64 visual tokens (56x56 .. 224x224 pixels).
TINY_MIN_PIXELS = 56 * 56
TINY_MAX_PIXELS = 224 * 224

#: Architecture of pr1-tiny (the "small" config measured in cpu-feasibility.md: 3.4M parameters).
TINY_ARCH = dict(hidden=256, layers=4, heads=4, kv_heads=2, vision_hidden=128, vision_depth=2, bpe_vocab=512)

COCO_NAMES = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis",
    "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
    "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
    "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
]


def tokenizer_corpus(n: int = 6000, seed: int = 0) -> list[str]:
    """Text the BPE tokenizer is trained on: chat scaffolding, the task prompts, answers with random coordinates."""
    rng = random.Random(seed)
    lines = ["system", "user", "assistant", "You are a helpful assistant.", "You are a helpful assistant. "]
    words = [f"{s} {c} {sh}" for s in ("large", "small", "") for c in COLORS for sh in SHAPES]
    words += [f"{c} {sh} on the {side}" for c in COLORS for sh in SHAPES for side in ("left", "right")]
    words += [f"{c} {sh} at the {side}" for c in COLORS for sh in SHAPES for side in ("top", "bottom")]
    for w in words:
        lines.append(GROUNDING_PROMPT.format(question=w.strip()))
    for c in list(COUNT_CATEGORIES) + COCO_NAMES:
        lines.append(COUNTING_PROMPT.format(question=c))
        lines.append(GROUNDING_PROMPT.format(question=c))
    for _ in range(n):
        k = rng.randint(0, 6)
        kind = rng.random()
        items = []
        for _ in range(max(k, 1)):
            if kind < 0.8:
                x1, y1 = rng.randint(0, 200), rng.randint(0, 200)
                items.append({"bbox_2d": [x1, y1, x1 + rng.randint(4, 90), y1 + rng.randint(4, 90)]})
            else:
                items.append({"point_2d": [rng.randint(0, 250), rng.randint(0, 250)]})
            if rng.random() < 0.2:
                items[-1]["label"] = rng.choice(COUNT_CATEGORIES + tuple(COCO_NAMES))
        lines.append(json.dumps(items if k else []))
        lines.append("```json\n" + json.dumps(items, indent=2) + "\n```")
    return lines


def build_tokenizer(bpe_vocab: int = 512, seed: int = 0):
    """Byte-level BPE trained offline on :func:`tokenizer_corpus`, wrapped as a Qwen2 tokenizer with Qwen's specials."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    tk = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tk.normalizer = normalizers.NFC()
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=bpe_vocab, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tk.train_from_iterator(tokenizer_corpus(seed=seed), trainer=trainer)
    d = json.loads(tk.to_str())
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in d["model"]["merges"]]
    tok = Qwen2TokenizerFast(vocab=d["model"]["vocab"], merges=merges, unk_token=None, bos_token=None,
                             eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=4096)
    tok.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS})
    tok.eos_token = "<|im_end|>"
    tok.chat_template = CHAT_TEMPLATE
    return tok


def build_random_tiny(out: str | Path | None = None, seed: int = 0, arch: dict | None = None):
    """Build an untrained pr1-tiny (random weights) and its processor.

    Args:
        out: if given, save model + processor there (a checkpoint directory like a real one).
        seed: torch seed for the weights; arch: overrides of :data:`TINY_ARCH`.

    Returns:
        ``(model, processor)``.
    """
    import torch
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    a = {**TINY_ARCH, **(arch or {})}
    torch.manual_seed(seed)
    tok = build_tokenizer(a["bpe_vocab"], seed=seed)
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    size = {"shortest_edge": TINY_MIN_PIXELS, "longest_edge": TINY_MAX_PIXELS}
    improc = Qwen2VLImageProcessor(size=size, patch_size=14, temporal_patch_size=2, merge_size=2)
    vproc = Qwen2VLVideoProcessor(size=size, patch_size=14, temporal_patch_size=2, merge_size=2)
    proc = Qwen2_5_VLProcessor(image_processor=improc, tokenizer=tok, video_processor=vproc,
                               chat_template=CHAT_TEMPLATE)
    hidden, heads = a["hidden"], a["heads"]
    half = hidden // heads // 2
    sec = [half - 2 * (half * 3 // 8), half * 3 // 8, half * 3 // 8]  # Qwen's 2:3:3 split, sums to head_dim / 2
    cfg = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=((len(tok) + 63) // 64) * 64, hidden_size=hidden, intermediate_size=2 * hidden,
            num_hidden_layers=a["layers"], num_attention_heads=heads, num_key_value_heads=a["kv_heads"],
            max_position_embeddings=4096, rms_norm_eps=1e-6, use_sliding_window=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": sec},
            bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
        ),
        vision_config=dict(
            depth=a["vision_depth"], hidden_size=a["vision_hidden"], intermediate_size=2 * a["vision_hidden"],
            num_heads=2, out_hidden_size=hidden, patch_size=14, spatial_merge_size=2, temporal_patch_size=2,
            window_size=112, fullatt_block_indexes=[a["vision_depth"] - 1],
        ),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    model = Qwen2_5_VLForConditionalGeneration(cfg)
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"], eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"], do_sample=False,
    )
    if out is not None:
        save_checkpoint(model, proc, out)
    return model, proc


def save_checkpoint(model, processor, out: str | Path) -> Path:
    """Save model (safetensors) + processor into ``out`` atomically: written to a sibling temp dir, then renamed."""
    import shutil

    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    processor.save_pretrained(tmp)
    if out.exists():
        old = out.with_name(out.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)
    return out
