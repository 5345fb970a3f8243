"""Batched generation with a Hugging Face VLM (greedy by default), the way evaluation and SFT monitoring use it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from PIL import Image


def chat_messages(prompt: str, system: str | None = None) -> list[dict]:
    """One user turn with one image then the prompt text (Qwen's layout, paper section 3.1).

    ``system=None`` lets the chat template insert its default system prompt, as the paper's evaluation does.
    """
    msgs: list[dict] = []
    if system is not None:
        msgs.append({"role": "system", "content": [{"type": "text", "text": system}]})
    msgs.append({"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]})
    return msgs


def _batches(n: int, size: int) -> Iterator[range]:
    for i in range(0, n, size):
        yield range(i, min(n, i + size))


def generate(model, processor, images: Sequence[Image.Image], prompts: Sequence[str], *, max_new_tokens: int = 128,
             batch_size: int = 32, do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0,
             top_k: int = 0, skip_special_tokens: bool = True, system: str | None = None,
             progress: bool = False) -> list[str]:
    """Generate one completion per (image, prompt) pair.

    Args:
        model: a ``*ForConditionalGeneration`` VLM; processor: its processor (``padding_side="left"``).
        images, prompts: equal-length sequences (one RGB image per prompt).
        max_new_tokens: completion length cap in tokens.
        batch_size: prompts per ``generate`` call.
        do_sample / temperature / top_p / top_k: sampling settings; greedy when ``do_sample`` is False.
        skip_special_tokens: decode setting (the dialect decides: Qwen2.5-VL True, Qwen2-VL False).
        progress: show a progress bar.

    Returns:
        Decoded completions (``len(prompts)`` strings), in input order.

    Raises:
        ValueError: ``images`` and ``prompts`` differ in length.
    """
    import torch

    if len(images) != len(prompts):
        raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
    tok = processor.tokenizer
    cfg = model.config
    suppress = [t for t in (getattr(cfg, "image_token_id", None), getattr(cfg, "video_token_id", None))
                if t is not None]
    out: list[str] = []
    batches = list(_batches(len(prompts), batch_size))
    if progress:
        from tqdm.auto import tqdm
        batches = tqdm(batches, desc="generate", unit="batch")
    model.eval()
    for idx in batches:
        texts = [processor.apply_chat_template(chat_messages(prompts[i], system), add_generation_prompt=True)
                 for i in idx]
        enc = processor(text=texts, images=[images[i] for i in idx], return_tensors="pt", padding=True)
        kw = dict(max_new_tokens=max_new_tokens, do_sample=do_sample, pad_token_id=tok.pad_token_id,
                  suppress_tokens=suppress or None)
        if do_sample:
            kw.update(temperature=temperature, top_p=top_p, top_k=top_k)
        else:
            kw.update(temperature=None, top_p=None, top_k=None)
        with torch.no_grad():
            seq = model.generate(**enc, **kw)
        comp = seq[:, enc["input_ids"].shape[1]:]
        out.extend(tok.batch_decode(comp, skip_special_tokens=skip_special_tokens))
    return out
