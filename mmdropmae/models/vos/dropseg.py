"""DropSeg: a memory-based video object segmenter on the DropMAE ViT.

For a current frame ``I_t`` and reference (memory) frames ``I_m`` with
per-object masks ``M_m,o``:

1. **Joint encoding.** For every object ``o`` the ViT encodes the token
   sequence ``[embed(I_t, 'x'), embed(I_m, 'z') + mask_embed(M_m,o), ...]``
   (temporal embedding ``x`` for the current frame, ``z`` for references;
   ``mask_embed`` is a ``patch x patch`` conv of the one-channel mask, added
   to the reference tokens), so current and reference tokens attend to each
   other in every block, as in DropMAE pre-training.
2. **Space-time memory read** (STCN-style). Keys are a linear projection of
   the encoder tokens (``key_proj``), shared by query and memory; values are
   a linear projection (``value_proj``) of the per-object reference tokens.
   The affinity ``q k^T / sqrt(d)`` of each current token to all memory
   tokens keeps its ``mem_topk`` largest entries, softmaxed; the readout is
   their weighted value sum.
3. **Mask decoder.** ``[current tokens, readout]`` on the patch grid, fused
   by convs and upsampled x2 ``log2(patch)`` times to full resolution with
   skip features of a small conv stem on the current image; one logit per
   object.
4. **Soft aggregation** (STCN/STM): per-object foreground probabilities
   ``p_o = sigmoid(logit_o)`` become ``[prod_o(1 - p_o), p_1, ..., p_O]``,
   converted to logits ``log(p / (1 - p))`` over background + objects.
5. **Bootstrapped cross-entropy** (STCN ``BootstrappedCE``): plain CE before
   ``start_warm`` iterations, then the mean over the top ``p`` fraction of
   the hardest pixels of the batch, ``p`` annealed linearly from 100% at
   ``start_warm`` to ``top_p`` (15%) at ``end_warm`` and kept there.

Training on 3-frame clips (STCN): frame 1 is segmented from frame 0 (ground
truth masks), frame 2 from frames 0 and 1 (frame 1's predicted soft
masks); the loss is the sum of the two frames' bootstrapped CE.

Inference on a whole sequence per test step (``mode='sequence'`` data set
items packed by :class:`~mmdropmae.datasets.transforms.PackVOSSequence`):
the memory holds the first frame plus every ``mem_every``-th frame and every
frame where an object is initialised; objects appearing later are added at
their first frame (``first_frames``/their reference mask), and each object
reads only memory frames from its first frame on. ``max_mem_frames`` caps
the memory frames encoded jointly with the current frame (the first frame of
the object plus the latest ones) to bound the cost on long videos. Returns
one data sample per frame with ``pred_mask`` ((H, W) object ids at the original
size), the format of :class:`~mmdropmae.evaluation.VOSMetric`, as
:class:`~mmdropmae.structures.DataSample`.
"""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from torch import Tensor, nn

from mmdropmae.registry import MODELS
from mmdropmae.structures.data_sample import DataSample, video_frame_samples
from ..base import BaseTaskModel


# --------------------------------------------------------------------- utils
def aggregate_objects(prob: Tensor, eps: float = 1e-7) -> Tensor:
    """Soft aggregation of per-object foreground probabilities.

    Args:
        prob (Tensor): (B, O, H, W) probabilities in [0, 1]; absent (padded)
            objects must be 0.

    Returns:
        Tensor: (B, 1 + O, H, W) logits over background + objects.
    """
    bg = torch.prod(1 - prob, dim=1, keepdim=True)
    new_prob = torch.cat([bg, prob], dim=1).clamp(eps, 1 - eps)
    return torch.log(new_prob / (1 - new_prob))


def bootstrap_top_p(it: int, start_warm: int, end_warm: int, top_p: float) -> float:
    """Fraction of hardest pixels kept by the bootstrapped CE at iteration
    ``it``: 1 before ``start_warm``, linear to ``top_p`` at ``end_warm``."""
    if it < start_warm:
        return 1.0
    if it >= end_warm or end_warm <= start_warm:
        return float(top_p)
    return float(top_p + (1 - top_p) * (end_warm - it) / (end_warm - start_warm))


@MODELS.register_module()
class BootstrappedCELoss(nn.Module):
    """STCN's bootstrapped cross-entropy.

    ``loss = mean of the top p * num_pixels per-pixel CE values`` over the
    whole batch (flattened), ``p = bootstrap_top_p(it, ...)``. STCN main
    training: ``start_warm=20000, end_warm=70000, top_p=0.15``.

    Args:
        start_warm (int): Iteration where bootstrapping starts.
        end_warm (int): Iteration where ``p`` reaches ``top_p``.
        top_p (float): Final fraction of hardest pixels.
        ignore_index (int): Target value ignored (excluded from the pool).
    """

    def __init__(self, start_warm: int = 20000, end_warm: int = 70000, top_p: float = 0.15,
                 ignore_index: int = 255):
        super().__init__()
        if not 0 < top_p <= 1:
            raise ValueError(f'top_p must be in (0, 1], got {top_p}')
        self.start_warm = start_warm
        self.end_warm = end_warm
        self.top_p = top_p
        self.ignore_index = ignore_index

    def top_p_at(self, it: int) -> float:
        return bootstrap_top_p(it, self.start_warm, self.end_warm, self.top_p)

    def forward(self, logits: Tensor, target: Tensor, it: int = 0):
        """(B, C, H, W) logits, (B, H, W) long target -> (loss, p)."""
        p = self.top_p_at(it)
        raw = F.cross_entropy(logits, target, reduction='none',
                              ignore_index=self.ignore_index).flatten()
        raw = raw[target.flatten() != self.ignore_index]
        if raw.numel() == 0:
            return logits.sum() * 0, p
        if p >= 1:
            return raw.mean(), p
        k = max(1, int(raw.numel() * p))
        loss, _ = torch.topk(raw, k, sorted=False)
        return loss.mean(), p


# --------------------------------------------------------------------- model
class _ConvReLU(nn.Sequential):

    def __init__(self, cin, cout, stride=1):
        super().__init__(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(min(8, cout), cout),
                         nn.ReLU(inplace=True))


class MaskDecoder(nn.Module):
    """Fuse ``[tokens, readout]`` on the patch grid and upsample x2 per stage
    to the input size, adding skip features of a conv stem on the image."""

    def __init__(self, in_channels: int, channels: int, patch_size: int):
        super().__init__()
        n = int(round(math.log2(patch_size)))
        if 2**n != patch_size:
            raise ValueError(f'patch size must be a power of 2, got {patch_size}')
        self.num_stages = n
        self.fuse = nn.Sequential(_ConvReLU(in_channels, channels), _ConvReLU(channels, channels))
        # image stem: features at 1/2, 1/4, ..., 1/2^(n-1)
        stem, skip_ch, c = [], [], 3
        for i in range(n - 1):
            cout = min(channels, 16 * 2**i)
            stem.append(_ConvReLU(c, cout, stride=2))
            skip_ch.append(cout)
            c = cout
        self.stem = nn.ModuleList(stem)
        ups = []
        for i in range(n):  # stage i outputs scale 1/2^(n-1-i)
            level = n - 1 - i  # 0 = full resolution
            extra = skip_ch[level - 1] if level >= 1 else 0
            ups.append(_ConvReLU(channels + extra, channels))
        self.ups = nn.ModuleList(ups)
        self.pred = nn.Conv2d(channels, 1, 3, 1, 1)

    def image_skips(self, img: Tensor) -> List[Tensor]:
        skips, x = [], img
        for layer in self.stem:
            x = layer(x)
            skips.append(x)
        return skips  # [1/2, 1/4, ...]

    def forward(self, x: Tensor, skips: List[Tensor], size) -> Tensor:
        x = self.fuse(x)
        n = self.num_stages
        for i, up in enumerate(self.ups):
            level = n - 1 - i
            target = size if level == 0 else skips[level - 1].shape[-2:]
            x = F.interpolate(x, size=target, mode='bilinear', align_corners=False)
            if level >= 1:
                x = torch.cat([x, skips[level - 1]], 1)
            x = up(x)
        return self.pred(x)[:, 0]


@MODELS.register_module()
class DropSeg(BaseTaskModel):
    """Memory-based VOS on a DropMAE ViT (see the module docstring).

    Args:
        backbone (dict): :class:`VisionTransformer` config (with temporal
            embeddings); ``init_cfg=dict(type='Pretrained', checkpoint=...)``
            loads a DropMAE checkpoint's encoder.
        key_dims (int): Key dimension of the memory read.
        value_dims (int, optional): Value dimension (default: ViT width).
        decoder_channels (int): Channels of the mask decoder.
        mem_topk (int): Top-k affinities kept per query token (STCN: 20).
        loss (dict): :class:`BootstrappedCELoss` config.
        test_cfg (dict): ``mem_every`` (memory every k-th frame, STCN: 5),
            ``max_mem_frames`` (None: all memory frames), ``short_side``
            (resize frames so their short side has this length; None: keep),
            all rounded to multiples of the patch size.
        data_preprocessor (dict, optional): Default
            :class:`~mmdropmae.models.VOSDataPreprocessor`.
    """

    def __init__(self,
                 backbone: dict,
                 key_dims: int = 64,
                 value_dims: Optional[int] = None,
                 decoder_channels: int = 64,
                 mem_topk: int = 20,
                 loss: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = MODELS.build(data_preprocessor or dict(type='VOSDataPreprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if not getattr(self.backbone, 'with_temporal_embed', False):
            raise ValueError('DropSeg needs a ViT with temporal embeddings')
        d = self.backbone.embed_dims
        p = self.backbone.patch_size
        self.patch_size = p
        value_dims = value_dims or d
        self.mask_embed = nn.Conv2d(1, d, p, p)
        nn.init.trunc_normal_(self.mask_embed.weight, std=.02)
        nn.init.zeros_(self.mask_embed.bias)
        self.key_proj = nn.Linear(d, key_dims)
        self.value_proj = nn.Linear(d, value_dims)
        self.mem_topk = mem_topk
        self.decoder = MaskDecoder(d + value_dims, decoder_channels, p)
        self.loss_module = MODELS.build(loss or dict(type='BootstrappedCELoss'))
        self.test_cfg = dict(mem_every=5, max_mem_frames=None, short_side=None)
        self.test_cfg.update(test_cfg or {})

    # ------------------------------------------------------------- core
    def memory_read(self, query: Tensor, mem: Tensor) -> Tensor:
        """Top-k softmax read of per-object memory.

        Args:
            query (Tensor): (B, N, D) current tokens.
            mem (Tensor): (B, M, D) memory (reference) tokens.

        Returns:
            Tensor: (B, N, Dv) readout.
        """
        q = self.key_proj(query)
        k = self.key_proj(mem)
        v = self.value_proj(mem)
        aff = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])
        topk = min(self.mem_topk, aff.shape[-1])
        vals, idx = aff.topk(topk, dim=-1)
        w = vals.softmax(dim=-1)
        sparse = torch.zeros_like(aff).scatter_(-1, idx, w)
        return sparse @ v

    def segment(self, img: Tensor, ref_imgs: Tensor, ref_masks: Tensor) -> Tensor:
        """Per-object logits of the current frame.

        Args:
            img (Tensor): (B, 3, H, W) normalised current frame.
            ref_imgs (Tensor): (B, R, 3, H, W) normalised references.
            ref_masks (Tensor): (B, O, R, H, W) object masks / probabilities
                of the references.

        Returns:
            Tensor: (B, O, H, W) foreground logits.
        """
        b, o, r, h, w = ref_masks.shape
        bb = self.backbone
        x = bb.embed(img, 'x')  # B, N, D
        n, d = x.shape[1:]
        z = bb.embed(ref_imgs.flatten(0, 1), 'z').view(b, r, n, d)
        m = self.mask_embed(ref_masks.reshape(b * o * r, 1, h, w).to(img.dtype))
        m = m.flatten(2).transpose(1, 2).reshape(b, o, r, n, d)
        zo = (z[:, None] + m).reshape(b * o, r * n, d)
        tokens = torch.cat([x[:, None].expand(b, o, n, d).reshape(b * o, n, d), zo], 1)
        feats = bb.forward_tokens(tokens, out_indices=-1)[0]
        cur, mem = feats[:, :n], feats[:, n:]
        read = self.memory_read(cur, mem)
        gh, gw = h // self.patch_size, w // self.patch_size
        dec_in = torch.cat([cur, read], -1).transpose(1, 2).reshape(b * o, -1, gh, gw)
        skips = [s.repeat_interleave(o, 0) for s in self.decoder.image_skips(img)]
        return self.decoder(dec_in, skips, (h, w)).view(b, o, h, w)

    # ------------------------------------------------------------- training
    def _forward(self, inputs: dict, data_samples=None) -> List[Tensor]:
        return self.forward_clip(inputs['imgs'], inputs['masks'])

    def forward_clip(self, imgs: Tensor, masks: Tensor) -> List[Tensor]:
        """Aggregated logits (B, 1 + O, H, W) of frames 1.. of a clip.

        Frame ``t`` reads frames ``0..t-1`` (frame 0 with its ground truth,
        later ones with the predicted soft masks)."""
        b, t = imgs.shape[:2]
        if t < 2:
            raise ValueError(f'a training clip needs >= 2 frames, got {t}')
        num_obj = max(1, int(masks.max()))
        ids = torch.arange(1, num_obj + 1, device=masks.device).view(1, -1, 1, 1)
        # objects of the reference frame (others are padding)
        present = (masks[:, 0, None] == ids).flatten(2).any(-1)  # B, O
        first = (masks[:, 0, None] == ids).float()  # B, O, H, W
        ref_masks = [first]
        outs = []
        for i in range(1, t):
            logit = self.segment(imgs[:, i], imgs[:, :i], torch.stack(ref_masks, 2))
            prob = torch.sigmoid(logit) * present[..., None, None]
            agg = aggregate_objects(prob)
            outs.append(agg)
            ref_masks.append(agg.softmax(1)[:, 1:])
        return outs

    def loss(self, inputs: dict, data_samples=None) -> Dict[str, Tensor]:
        imgs, masks = inputs['imgs'], inputs['masks']
        it = MessageHub.get_current_instance().get_info('iter', 0) or 0
        outs = self.forward_clip(imgs, masks)
        losses, p = {}, 1.0
        for i, logits in enumerate(outs, start=1):
            target = masks[:, i].clone()
            target[target >= logits.shape[1]] = self.loss_module.ignore_index
            # objects absent from the reference frame cannot be segmented
            ref_ids = masks[:, 0].flatten(1)
            for o in range(1, logits.shape[1]):
                absent = ~(ref_ids == o).any(1)  # B
                target[absent[:, None, None] & (target == o)] = \
                    self.loss_module.ignore_index
            li, p = self.loss_module(logits, target, it)
            losses[f'loss_f{i}'] = li
            with torch.no_grad():
                pred = logits.argmax(1)
                inter = ((pred > 0) & (target > 0)).sum()
                union = ((pred > 0) | (target > 0)).sum().clamp(min=1)
                losses[f'iou_f{i}'] = (inter.float() / union.float()).detach()
        losses['top_p'] = torch.tensor(p)
        return losses

    # ------------------------------------------------------------- inference
    def _work_size(self, h: int, w: int):
        p = self.patch_size
        short = self.test_cfg.get('short_side')
        s = short / min(h, w) if short else 1.0
        return (max(p, int(round(h * s / p)) * p), max(p, int(round(w * s / p)) * p))

    @torch.no_grad()
    def segment_video(self, frames: Tensor, object_ids: Sequence[int],
                      first_frames: Dict[int, int], init_masks: Dict[int, np.ndarray]
                      ) -> List[np.ndarray]:
        """Segment a video.

        Args:
            frames (Tensor): (T, 3, H, W) uint8 RGB frames.
            object_ids (list[int]): Object ids of the video.
            first_frames (dict): id -> frame where its reference mask is given.
            init_masks (dict): frame index -> (H, W) id map holding the
                reference masks of the objects initialised at that frame.

        Returns:
            list[np.ndarray]: (H, W) uint8 id maps, one per frame.
        """
        device = self.mask_embed.weight.device
        t_total, _, H, W = frames.shape
        h, w = self._work_size(H, W)
        objs = sorted(int(o) for o in object_ids)
        starts = {o: int(first_frames.get(o, first_frames.get(str(o), 0))) for o in objs}
        num = len(objs)
        mem_every = max(1, int(self.test_cfg['mem_every']))
        cap = self.test_cfg.get('max_mem_frames')
        memory = []  # (t, img (3,h,w), prob (O,h,w))
        preds = []
        for t in range(t_total):
            img = self.data_preprocessor.normalize(frames[t:t + 1].to(device))
            img = F.interpolate(img, size=(h, w), mode='bilinear', align_corners=False)
            prob = img.new_zeros(num, h, w)
            groups: Dict[tuple, List[int]] = {}
            for j, o in enumerate(objs):
                if starts[o] >= t:
                    continue
                refs = [i for i, m in enumerate(memory) if m[0] >= starts[o]]
                if not refs:
                    continue
                if cap and len(refs) > cap:
                    refs = refs[:1] + refs[len(refs) - (cap - 1):] if cap > 1 else refs[:1]
                groups.setdefault(tuple(refs), []).append(j)
            for refs, js in groups.items():
                ref_imgs = torch.stack([memory[i][1] for i in refs])[None]
                ref_masks = torch.stack([memory[i][2][js] for i in refs], 1)[None]
                prob[js] = torch.sigmoid(self.segment(img, ref_imgs, ref_masks))[0]
            init = init_masks.get(t)
            if init is None:
                init = init_masks.get(str(t))
            new_objs = [j for j, o in enumerate(objs) if starts[o] == t]
            init_t = None
            if init is not None and new_objs:
                init_t = torch.as_tensor(np.asarray(init).astype(np.int64), device=device)
                small = F.interpolate(init_t[None, None].float(), size=(h, w),
                                      mode='nearest')[0, 0].long()
                for j in new_objs:
                    m = (small == objs[j]).to(prob.dtype)
                    prob = prob * (1 - m)
                    prob[j] = m
            agg = aggregate_objects(prob[None])
            full = F.interpolate(agg, size=(H, W), mode='bilinear', align_corners=False)
            idx = full.argmax(1)[0]
            lut = torch.tensor([0] + objs, device=device)
            pred = lut[idx]
            if init_t is not None:
                for j in new_objs:
                    pred[init_t == objs[j]] = objs[j]
            preds.append(pred.to(torch.uint8 if max(objs or [0]) < 256 else torch.int32)
                         .cpu().numpy())
            if t % mem_every == 0 or new_objs:
                memory.append((t, img[0], agg.softmax(1)[0, 1:]))
        return preds

    def predict(self, inputs: List, data_samples: List) -> List[DataSample]:
        """One test item = one whole video; returns one data sample per frame
        (the video's metainfo plus ``frame_id``, ``frame_name`` and
        ``gt_mask_path``, and the ``pred_mask`` field)."""
        if isinstance(inputs, dict):  # pseudo_collate: dict of lists
            inputs = [dict(frames=f) for f in inputs['frames']]
        results = []
        for inp, sample in zip(inputs, data_samples):
            meta = dict(sample.metainfo) if hasattr(sample, 'metainfo') else dict(sample)
            frames = inp['frames'] if isinstance(inp, dict) else inp
            init_masks = meta.pop('init_masks', {})
            preds = self.segment_video(frames, meta['object_ids'], meta['first_frames'],
                                       init_masks)
            samples = video_frame_samples(meta, len(preds))
            for out, pred in zip(samples, preds):
                out.pred_mask = pred
            results.extend(samples)
        return results
