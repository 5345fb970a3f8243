"""pr1-tiny builder: the real Qwen2.5-VL classes, offline tokenizer, SFT mechanics, atomic save, reproducibility."""

from __future__ import annotations

import json

import pytest

from perception_r1.train.build_tiny import build_tiny
from perception_r1.train.sft import SFTStage

STAGES = (SFTStage("localise", 3, 0.0, {"distractors": (0, 0)}), SFTStage("mixed", 3, 0.5, {}))
KW = dict(seed=0, stages=STAGES, eval_every=6, eval_n=2, threads=2)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "a"
    return out, build_tiny(out, **KW)


def test_build_tiny_smoke_loads_like_a_real_checkpoint(built):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    out, info = built
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja", "processor_config.json",
            "build_info.json", "sft_log.jsonl"} <= {p.name for p in out.iterdir()}
    assert not out.with_name("a.tmp").exists()
    assert 3e6 < info["params"] < 4e6
    log = [json.loads(line) for line in (out / "sft_log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 6 and "miou" in log[-1]
    model = AutoModelForImageTextToText.from_pretrained(out)
    proc = AutoProcessor.from_pretrained(out)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(proc).__name__ == "Qwen2_5_VLProcessor"
    tok = proc.tokenizer
    # Qwen's special tokens exist, in Qwen's relative order, and <|im_end|> ends generation
    ids = [tok.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|image_pad|>")]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert tok.eos_token == "<|im_end|>"
    assert model.config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    text = proc.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "hi"}]}],
                                    add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")
    assert text.endswith("<|im_start|>assistant\n") and "<|vision_start|><|image_pad|><|vision_end|>hi" in text


def test_build_is_reproducible(built, tmp_path):
    from safetensors.numpy import load_file

    out_a, a = built
    b = build_tiny(tmp_path / "b", **KW)
    wa, wb = load_file(out_a / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert wa.keys() == wb.keys()
    assert all((wa[k] == wb[k]).all() for k in wa)
    assert a["heldout"] == b["heldout"]
