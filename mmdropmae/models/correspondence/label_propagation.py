"""Self-supervised correspondence evaluation by label propagation.

A frozen encoder gives per-frame features; the labels of frame 0 (object
masks, part masks or keypoint heatmaps) are propagated frame by frame with a
k-NN over the features of a context made of the first frame and the last
``n_context`` frames, restricted to a spatial neighbourhood of each query.

Protocol (defaults follow DINO's ``eval_video_segmentation.py``,
facebookresearch/dino, which is the protocol the ViT self-supervised
literature reports DAVIS-2017 J&F with; CRW (Jabri et al. 2020) uses
topk 10, temperature 0.05 and a 20-frame context):

==================  ========  ==============================================
``n_context``       7         ``--n_last_frames 7`` (CRW: 20 frames)
``radius``          12        ``--size_mask_neighborhood 12``: square window
                              ``|dy| <= r and |dx| <= r`` in feature cells
``topk``            5         ``--topk 5``: the top k affinities of each query
                              over *all* context frames together
``temperature``     0.1       DINO: ``exp(<q, k> / 0.1)`` (CRW: 0.05)
features            last      DINO: output of the last block (with the final
                    block     norm); ``last_k_blocks`` > 1 concatenates the
                              (normed) outputs of the last k blocks
``norm_mask``       True      DINO: per-channel min-max normalisation of the
                              upsampled label map before the argmax
==================  ========  ==============================================

Context labels are the *soft* propagated label maps (not their argmax), as in
DINO/CRW. Weights are ``softmax(topk(sim) / temperature)``, which equals
DINO's ``exp``-then-normalise of the top-k entries.

Test protocol through MMEngine: **one data item = one whole video** (the
data sets are used in ``mode='sequence'``; the ``LoadSequenceFrames``
transform reads the frames at the protocol size and the label maps the
propagation starts from, ``PackSequence`` packs them and the
``SequenceDataPreprocessor`` normalises them); ``predict`` propagates
through the video and returns one data sample per frame (masks: the frame
item keys of :mod:`mmdropmae.datasets.vos.base` + ``pred_mask``, scored by
``VOSMetric`` or ``mIoUMetric``; keypoints: ``pred_keypoints`` /
``gt_keypoints``, scored by ``PCKMetric``).

Checkpoints: ``tools/test.py CONFIG CHECKPOINT`` loads CHECKPOINT with the
runner's ``load_from``; a pre-hook of this model rewrites any DropMAE /
TwinMAE / MAE / timm / encoder-only checkpoint to the encoder keys
(``backbone.*``, decoder dropped, position embedding interpolated by the
ViT), so the encoder of any of them is evaluated.
"""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmdropmae.registry import MODELS
from mmdropmae.structures.data_sample import DataSample, video_frame_samples
from ..base import BaseTaskModel
from ..utils import extract_encoder


@MODELS.register_module()
class PatchPixelEncoder(BaseModule):
    """A parameter-free "encoder" whose feature of a patch is its pixels.

    Useful to test the propagation machinery: on a video whose content only
    translates by whole patches, patch pixels match exactly.

    Args:
        patch_size (int): Patch size (feature stride).
        proj_dims (int, optional): If set, a fixed random projection
            (seeded) of the ``3 * p * p`` pixel vector to this many dims.
        center (bool): Subtract each patch vector's mean. Defaults to False.
    """

    def __init__(self, patch_size: int = 8, proj_dims: Optional[int] = None,
                 center: bool = False, seed: int = 0, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.patch_size = patch_size
        self.center = center
        if proj_dims:
            g = torch.Generator().manual_seed(seed)
            proj = torch.randn(3 * patch_size * patch_size, proj_dims, generator=g)
            self.register_buffer('proj', proj, persistent=False)
        else:
            self.proj = None

    def forward(self, img: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, D, H/p, W/p)."""
        p = self.patch_size
        b, _, h, w = img.shape
        x = F.unfold(img, kernel_size=p, stride=p)  # B, 3pp, L
        if self.center:
            x = x - x.mean(1, keepdim=True)
        if self.proj is not None:
            x = torch.einsum('bdl,de->bel', x, self.proj)
        return x.reshape(b, -1, h // p, w // p)


def neighbourhood_mask(h: int, w: int, radius: int, device=None) -> Tensor:
    """(h*w keys, h*w queries) bool mask: key within the square window of
    half-size ``radius`` (feature cells) around the query."""
    ys, xs = torch.meshgrid(
        torch.arange(h, device=device), torch.arange(w, device=device), indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    return ((ys[:, None] - ys[None, :]).abs() <= radius) & \
        ((xs[:, None] - xs[None, :]).abs() <= radius)


def propagate_step(query: Tensor, keys: Tensor, labels: Tensor, topk: int,
                   temperature: float, nbr: Optional[Tensor] = None) -> Tensor:
    """Propagate labels of context frames to one query frame.

    Args:
        query (Tensor): (D, h, w) L2-normalised features of the target.
        keys (Tensor): (N, D, h, w) L2-normalised features of the context.
        labels (Tensor): (N, C, h, w) label maps of the context.
        topk (int): Affinities kept per query (over all context frames).
        temperature (float): Softmax temperature.
        nbr (Tensor, optional): (h*w, h*w) neighbourhood mask (keys x
            queries); None: no spatial restriction.

    Returns:
        Tensor: (C, h, w) label map of the target.
    """
    n, d, h, w = keys.shape
    c = labels.shape[1]
    q = query.reshape(d, h * w)
    k = keys.reshape(n, d, h * w)
    sim = torch.einsum('ndk,dq->nkq', k, q)  # N, keys, queries
    if nbr is not None:
        sim = sim.masked_fill(~nbr[None], float('-inf'))
    sim = sim.reshape(n * h * w, h * w)
    kk = min(topk, sim.shape[0])
    vals, idx = sim.topk(kk, dim=0)  # kk, queries
    weights = torch.softmax(vals / temperature, dim=0)
    weights = torch.nan_to_num(weights, nan=0.0)
    lab = labels.reshape(n, c, h * w).permute(0, 2, 1).reshape(n * h * w, c)
    out = (lab[idx] * weights[..., None]).sum(0)  # queries, C
    return out.t().reshape(c, h, w)


def propagate_labels(feats: Tensor, first_labels: Tensor, n_context: int = 7,
                     radius: int = 12, topk: int = 5, temperature: float = 0.1,
                     inject: Optional[Dict[int, Tuple[Tensor, Tensor]]] = None) -> Tensor:
    """Propagate ``first_labels`` through a video.

    Args:
        feats (Tensor): (T, D, h, w) L2-normalised features.
        first_labels (Tensor): (C, h, w) labels of frame 0.
        n_context (int): Previous frames in the context (besides frame 0).
        radius (int): Neighbourhood half-size in cells; <= 0: unrestricted.
        topk, temperature: See :func:`propagate_step`.
        inject (dict, optional): frame -> (weight (h, w), labels (C, h, w)):
            labels given at that frame (objects first annotated there) are
            blended in: ``(1 - weight) * propagated + weight * labels``.

    Returns:
        Tensor: (T, C, h, w) label maps (frame 0 = ``first_labels``).
    """
    t_total, _, h, w = feats.shape
    nbr = neighbourhood_mask(h, w, radius, feats.device) if radius > 0 else None
    out = [first_labels]
    for t in range(1, t_total):
        ctx = [0] + list(range(max(1, t - n_context), t))
        lab = propagate_step(feats[t], feats[ctx], torch.stack([out[i] for i in ctx]), topk,
                             temperature, nbr)
        if inject and t in inject:
            wgt, given = inject[t]
            lab = (1 - wgt[None]) * lab + wgt[None] * given
        out.append(lab)
    return torch.stack(out)


def _norm_mask(x: Tensor) -> Tensor:
    """DINO's per-channel min-max normalisation (channels with max > 0)."""
    out = x.clone()
    for i in range(x.shape[0]):
        ch = x[i]
        if ch.max() > 0:
            ch = ch - ch.min()
            if ch.max() > 0:
                ch = ch / ch.max()
            out[i] = ch
    return out


@MODELS.register_module()
class LabelPropagation(BaseTaskModel):
    """Label propagation with a frozen encoder (see the module docstring).

    Args:
        backbone (dict): Encoder config: a ``VisionTransformer`` (used
            through its ``embed`` / ``forward_tokens`` API), or any module
            returning (B, D, h, w) features (e.g. ``PatchPixelEncoder``).
        task (str): ``'mask'`` (DAVIS objects, VIP parts) or ``'keypoint'``
            (JHMDB joints propagated as Gaussian heatmaps).
        num_classes (int, optional): Masks: fixed label set ``0..C-1``
            (VIP: 20 part classes). None: the video's ``object_ids`` + 0
            (DAVIS).
        n_context, radius, topk, temperature: Protocol (module docstring).
        last_k_blocks (int): ViT: concatenate the outputs of the last k blocks
            (each with the final norm when the ViT has one). Defaults to 1.
        norm_mask (bool): DINO's min-max normalisation before the argmax.
        keypoint_sigma (float): Std of the keypoint heatmaps in feature cells.
            Defaults to 0.5 (ours; at 1/16 resolution a joint's mass then sits
            on about one cell and its neighbours).
        data_preprocessor (dict, optional): Defaults to
            :class:`~mmdropmae.models.SequenceDataPreprocessor` (ImageNet
            mean/std).

    The frame size of the protocol (DINO: short side 480, floored to a
    multiple of 64) is set in the test pipeline, on
    :class:`~mmdropmae.datasets.LoadSequenceFrames`.
    """

    def __init__(self,
                 backbone: dict,
                 task: str = 'mask',
                 num_classes: Optional[int] = None,
                 n_context: int = 7,
                 radius: int = 12,
                 topk: int = 5,
                 temperature: float = 0.1,
                 last_k_blocks: int = 1,
                 norm_mask: bool = True,
                 keypoint_sigma: float = 0.5,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            data_preprocessor=MODELS.build(data_preprocessor
                                           or dict(type='SequenceDataPreprocessor')),
            init_cfg=init_cfg)
        if task not in ('mask', 'keypoint'):
            raise ValueError(f"task must be 'mask' or 'keypoint', got {task!r}")
        if topk < 1 or temperature <= 0 or n_context < 0 or last_k_blocks < 1:
            raise ValueError('need topk >= 1, temperature > 0, n_context >= 0, '
                             'last_k_blocks >= 1')
        self.backbone = MODELS.build(backbone)
        self.backbone.requires_grad_(False)
        self.backbone.eval()
        self.task = task
        self.num_classes = num_classes
        self.n_context = n_context
        self.radius = radius
        self.topk = topk
        self.temperature = temperature
        self.last_k_blocks = last_k_blocks
        self.norm_mask = norm_mask
        self.keypoint_sigma = keypoint_sigma
        self._register_load_state_dict_pre_hook(self._encoder_checkpoint_hook)

    # ----------------------------------------------------------- weights
    def train(self, mode: bool = True):
        super().train(mode)
        self.backbone.eval()  # frozen, always eval
        return self

    @staticmethod
    def _encoder_checkpoint_hook(state_dict, prefix, *args, **kwargs):
        """Rewrite a checkpoint of any layout to ``backbone.*`` encoder keys."""
        if prefix:
            return
        if any(k.startswith('backbone.') for k in state_dict) and not any(
                k.startswith(('neck.', 'head.', 'decoder')) for k in state_dict):
            return
        encoder, _ = extract_encoder(dict(state_dict))
        state_dict.clear()
        state_dict.update({'backbone.' + k: v for k, v in encoder.items()})

    def load_encoder_checkpoint(self, filename: str):
        """Load the encoder of any DropMAE/MAE-style checkpoint file."""
        return self.backbone.load_encoder_checkpoint(filename)

    # ----------------------------------------------------------- features
    @torch.no_grad()
    def extract_features(self, imgs: Tensor, chunk: int = 8) -> Tensor:
        """(T, 3, H, W) -> L2-normalised (T, D, h, w) features, one frame at a
        time through the encoder (single-frame embedding)."""
        feats = []
        for i in range(0, imgs.shape[0], chunk):
            feats.append(self._features(imgs[i:i + chunk]))
        return F.normalize(torch.cat(feats), dim=1)

    def _features(self, x: Tensor) -> Tensor:
        bb = self.backbone
        if hasattr(bb, 'forward_tokens'):  # a VisionTransformer
            p = bb.patch_size
            k = self.last_k_blocks
            outs = bb.forward_tokens(bb.embed(x), out_indices=list(range(-k, 0)),
                                     out_norm='all')
            outs = [F.normalize(o, dim=-1) for o in outs] if len(outs) > 1 else outs
            return bb.tokens_to_featmap(torch.cat(outs, -1),
                                        (x.shape[-2] // p, x.shape[-1] // p))
        out = bb(x)
        if isinstance(out, (tuple, list)):
            out = out[-1]
        if out.dim() != 4:
            raise ValueError('a non-ViT backbone must return (B, D, h, w) features, '
                             f'got shape {tuple(out.shape)}')
        return out

    # ----------------------------------------------------------- labels
    @staticmethod
    def _to_grid(onehot: Tensor, h: int, w: int) -> Tensor:
        """(C, H, W) -> (C, h, w) by area averaging (soft labels)."""
        return F.interpolate(onehot[None], size=(h, w), mode='area')[0]

    def _label_map(self, seq: dict, t: int) -> np.ndarray:
        """The label map of frame ``t`` (void 255 -> 0 and DAVIS-2016
        objects merged to 1 when the labels are object ids)."""
        m = np.asarray(seq['label_maps'][t]).astype(np.int64)
        if self.num_classes is None:
            m = np.where(m == 255, 0, m)
            if seq.get('single_object', False):
                m = (m > 0).astype(np.int64)
        return m

    def _classes(self, seq: dict) -> List[int]:
        if self.num_classes is not None:
            return list(range(self.num_classes))
        if seq.get('single_object', False):
            return [0, 1]
        return [0] + sorted(int(i) for i in (seq.get('object_ids') or []))

    def _device(self) -> torch.device:
        return self.data_preprocessor.mean.device

    def _onehot(self, mask: np.ndarray, classes: List[int]) -> Tensor:
        m = torch.from_numpy(mask).to(self._device())
        return torch.stack([(m == c).float() for c in classes])

    def _heatmaps(self, kpts: np.ndarray, img_hw, h: int, w: int) -> Tensor:
        """(J, 2) pixel (x, y) -> (J, h, w) Gaussians in feature cells."""
        sy, sx = h / img_hw[0], w / img_hw[1]
        ys = torch.arange(h, dtype=torch.float32) + 0.5
        xs = torch.arange(w, dtype=torch.float32) + 0.5
        maps = []
        for x, y in np.asarray(kpts, dtype=np.float32):
            if not (np.isfinite(x) and np.isfinite(y)):
                maps.append(torch.zeros(h, w))
                continue
            cx, cy = (x + 0.5) * sx, (y + 0.5) * sy
            g = torch.exp(-((ys[:, None] - cy)**2 + (xs[None, :] - cx)**2) /
                          (2 * self.keypoint_sigma**2))
            maps.append(g)
        return torch.stack(maps).to(self._device())

    # ----------------------------------------------------------- inference
    @torch.no_grad()
    def predict_sequence(self, imgs: Tensor, seq: dict) -> List[DataSample]:
        """Propagate through one video.

        Args:
            imgs (Tensor): (T, 3, H', W') normalised frames at the protocol
                size.
            seq (dict): The video's metainfo (``LoadSequenceFrames``:
                ``ori_shape``, ``label_maps``; the data set's entry).

        Returns:
            list[DataSample]: One per frame.
        """
        feats = self.extract_features(imgs)
        _, _, h, w = feats.shape
        ori_h, ori_w = seq['ori_shape']
        ori_h = int(seq.get('height') or ori_h)
        ori_w = int(seq.get('width') or ori_w)
        n = imgs.shape[0]
        if self.task == 'keypoint':
            return self._predict_keypoints(seq, feats, (ori_h, ori_w))

        if 0 not in (seq.get('label_maps') or {}):
            raise ValueError(f'{seq.get("video_name")}: no annotation of frame 0')
        classes = self._classes(seq)
        first = self._label_map(seq, 0)
        labels0 = self._to_grid(self._onehot(first, classes), h, w)
        # objects first annotated after frame 0 (YouTube-VOS style)
        inject, given_full = {}, {}
        first_frames = {int(k): int(v) for k, v in (seq.get('first_frames') or {}).items()}
        for t in sorted(set(v for v in first_frames.values() if v > 0)):
            if t >= n or t not in seq['label_maps']:
                continue
            ids = [i for i, v in first_frames.items() if v == t and i in classes]
            gt = self._label_map(seq, t)
            sel = np.isin(gt, ids)
            onehot = self._onehot(np.where(sel, gt, 0), classes)
            wgt = self._to_grid(torch.from_numpy(sel).float()[None].to(onehot), h, w)[0]
            inject[t] = (wgt, self._to_grid(onehot, h, w))
            given_full[t] = (sel, gt)
        maps = propagate_labels(feats, labels0, self.n_context, self.radius, self.topk,
                                self.temperature, inject)
        cls = np.asarray(classes)
        preds = []
        for t in range(n):
            if t == 0:
                pred = np.where(np.isin(first, cls), first, 0)
            else:
                up = F.interpolate(maps[t][None], size=(ori_h, ori_w), mode='bilinear',
                                   align_corners=False)[0]
                if self.norm_mask:
                    up = _norm_mask(up)
                pred = cls[up.argmax(0).cpu().numpy()]
                if t in given_full:
                    sel, gt = given_full[t]
                    pred = np.where(sel, gt, pred)
            preds.append(pred.astype(np.uint8 if cls.max() < 256 else np.int32))
        samples = video_frame_samples(seq, n)
        for sample, pred in zip(samples, preds):
            sample.pred_mask = pred
        return samples

    def _predict_keypoints(self, seq: dict, feats: Tensor, ori_hw) -> List[DataSample]:
        kpts = np.asarray(seq['keypoints'], dtype=np.float32)  # T, J, 2
        if kpts.ndim != 3 or kpts.shape[-1] != 2:
            raise ValueError(f'keypoints must be (T, J, 2), got {kpts.shape}')
        _, _, h, w = feats.shape
        labels0 = self._heatmaps(kpts[0], ori_hw, h, w)
        maps = propagate_labels(feats, labels0, self.n_context, self.radius, self.topk,
                                self.temperature)
        samples = video_frame_samples(seq, feats.shape[0])
        for t, sample in enumerate(samples):
            if t == 0:
                pred = kpts[0].copy()
            else:
                up = F.interpolate(maps[t][None], size=ori_hw, mode='bilinear',
                                   align_corners=False)[0]
                flat = up.flatten(1).argmax(1).cpu().numpy()
                pred = np.stack([flat % ori_hw[1], flat // ori_hw[1]], 1).astype(np.float32)
            sample.pred_keypoints = pred
            sample.gt_keypoints = kpts[t] if t < len(kpts) else None
        return samples

    # ----------------------------------------------------------- BaseTaskModel API
    def predict(self, inputs: List[Tensor], data_samples: List) -> List[DataSample]:
        """One item per video: ``inputs`` its normalised frames, the data
        sample its metainfo; one output sample per frame."""
        out = []
        for imgs, sample in zip(inputs, data_samples):
            out.extend(self.predict_sequence(imgs, dict(sample.metainfo)))
        return out

    def _forward(self, inputs: List[Tensor], data_samples=None) -> List[Tensor]:
        """The L2-normalised feature maps of each video."""
        return [self.extract_features(imgs) for imgs in inputs]

    def loss(self, inputs, data_samples=None):
        raise RuntimeError('LabelPropagation is an evaluator of frozen encoders: '
                           'it has no loss (no training)')

    def train_step(self, data, optim_wrapper):
        raise RuntimeError('LabelPropagation has nothing to train')
