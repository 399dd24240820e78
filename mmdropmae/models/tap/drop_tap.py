"""DropTAP: tracking any point on the DropMAE ViT.

Pipeline (PIPs / TAPIR / CoTracker family):

1. **Frame features.** Every frame is encoded alone by the ViT with the
   temporal embedding ``x`` (the frame being searched). The frame holding a
   query is encoded once more with the temporal embedding ``z`` (the
   reference), and the query feature is read there (bilinear, at the query
   point). In DropMAE pre-training ``x`` and ``z`` mark the two frames whose
   correspondence the model learns, so the query (reference) side and the
   searched side keep the roles they had; correlating a ``z``-embedded
   feature with ``x``-embedded maps is the pre-training situation. Encoding
   frames alone (not jointly with the query frame) keeps the cost linear in
   the number of frames whatever the number of distinct query frames.
   :class:`TAPFeatureNeck` upsamples the patch-grid maps to
   ``feature_stride`` and adds a conv stem for sub-patch detail.
2. **Correlation.** Each query's feature is correlated with every cell of
   every frame of the window (cost volume), pooled into a pyramid
   (:class:`CorrelationPyramid`).
3. **Initialisation.** A global estimate per frame: the cosine argmax,
   refined by a local soft-argmax (TAPIR's track initialisation).
4. **Iterative refinement** over a temporal window of ``window`` frames
   (:class:`TAPRefiner`, ``num_iters`` iterations, weights shared):
   correlation windows at the current estimates -> position and feature
   updates; the estimates are detached between iterations (RAFT/CoTracker).
5. **Visibility head** (:class:`TAPVisibilityHead`) on the last hidden state.

**Online, windowed inference, memory bounded in video length.** Frames are
read, normalised and encoded one window at a time (windows of ``window``
frames, ``window_stride`` apart; CoTracker's sliding windows); the features
of the overlap and the estimates there (which initialise the next window)
are the only state carried over, so the memory of the model does not grow
with the length of the video (only the (N, T, 2) output arrays do). A query
joins when the window reaches its frame. Points before their query frame
(TAP-Vid 'strided' evaluates them) are tracked by a second, backward pass
over the reversed video (CoTracker's ``backward_tracking``); in 'first' mode
they are not evaluated, so the backward pass is skipped and those frames are
reported occluded at the query point.

Coordinates: raster pixels (x, y) of the frames given, queries ``(t, y, x)``
(TAP-Vid). Frames whose size is not a multiple of the patch size, or differs
from ``test_cfg['input_size']``, are resized for the network and the tracks
scaled back.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmdropmae.registry import MODELS
from mmdropmae.structures.data_sample import DataSample
from ..base import BaseTaskModel
from ..data_preprocessors.data_preprocessor import NormalizingDataPreprocessor, _stack
from .correlation import (CorrelationPyramid, bilinear_sample, correlation_volume,
                          raster_to_grid, soft_argmax_init)

FrameGetter = Callable[[Sequence[int]], Tensor]


@MODELS.register_module()
class TAPDataPreprocessor(NormalizingDataPreprocessor):
    """Training clips ``(T, 3, H, W)`` uint8 are stacked to (B, T, 3, H, W)
    and normalised; test videos (one whole video per item) are left as uint8
    for the tracker, which normalises one window at a time (bounded memory).
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        samples = data.get('data_samples')
        if samples is not None:
            samples = self.cast_data(samples)
        if training:
            clips = _stack(inputs, 'clips')
            if clips.ndim != 5:
                raise ValueError(f'expected clips (T, 3, H, W), got a batch {tuple(clips.shape)}')
            return dict(inputs=self.normalize(clips), data_samples=samples)
        if isinstance(inputs, Tensor):
            inputs = [inputs] if inputs.ndim == 4 else list(inputs)
        return dict(inputs=list(inputs), data_samples=samples)


def _field(sample, key):
    v = getattr(sample, key, None)
    if v is None and hasattr(sample, 'metainfo'):
        v = sample.metainfo.get(key)
    return v


@MODELS.register_module()
class DropTAP(BaseTaskModel):
    """Query-point tracker on a DropMAE ViT (see the module docstring).

    Args:
        backbone (dict): :class:`~mmdropmae.models.VisionTransformer` config
            (with temporal embeddings).
        neck (dict): :class:`TAPFeatureNeck` config (``in_channels`` is set
            from the backbone).
        out_indices (Sequence[int]): ViT blocks feeding the neck.
        refiner (dict): :class:`TAPRefiner` options (dims are set).
        num_iters (int): Refinement iterations in training.
        corr_levels (int): Correlation pyramid levels.
        corr_radius (int): Correlation window radius (cells).
        init_temperature (float): Temperature of the soft-argmax init.
        loss_track (dict): :class:`TrackSequenceLoss` config.
        loss_vis (dict): :class:`VisibilityBCELoss` config.
        test_cfg (dict): ``window`` (frames per window), ``window_stride``,
            ``num_iters``, ``input_size`` ((h, w) or None: the frame size
            rounded to the patch size), ``backward_tracking`` (True),
            ``max_queries`` (queries per chunk), ``vis_threshold`` (0.5).
        data_preprocessor (dict, optional): Default :class:`TAPDataPreprocessor`.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 refiner: Optional[dict] = None,
                 num_iters: int = 4,
                 corr_levels: int = 3,
                 corr_radius: int = 3,
                 init_temperature: float = 0.05,
                 loss_track: Optional[dict] = None,
                 loss_vis: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = MODELS.build(data_preprocessor or dict(type='TAPDataPreprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if not getattr(self.backbone, 'with_temporal_embed', False):
            raise ValueError('DropTAP needs a ViT with temporal embeddings (x and z)')
        self.out_indices = [out_indices] if isinstance(out_indices, int) else list(out_indices)
        neck = dict(neck or {})
        neck.setdefault('type', 'TAPFeatureNeck')
        neck['in_channels'] = self.backbone.embed_dims * len(self.out_indices)
        self.neck = MODELS.build(neck)
        self.patch_size = self.backbone.patch_size
        self.feature_stride = self.neck.feature_stride
        c = self.neck.out_channels
        corr_dims = corr_levels * (2 * corr_radius + 1)**2
        refiner = dict(refiner or {})
        refiner.setdefault('type', 'TAPRefiner')
        refiner.update(corr_dims=corr_dims, feat_dims=c)
        self.refiner = MODELS.build(refiner)
        self.vis_head = MODELS.build(
            dict(type='TAPVisibilityHead', hidden_dims=self.refiner.inp.out_features,
                 corr_dims=corr_dims))
        self.num_iters = num_iters
        self.corr_levels = corr_levels
        self.corr_radius = corr_radius
        self.init_temperature = init_temperature
        self.loss_track = MODELS.build(loss_track or dict(type='TrackSequenceLoss'))
        self.loss_vis = MODELS.build(loss_vis or dict(type='VisibilityBCELoss'))
        self.test_cfg = dict(window=8, window_stride=4, num_iters=num_iters, input_size=None,
                             backward_tracking=True, max_queries=256, vis_threshold=0.5)
        self.test_cfg.update(test_cfg or {})

    # ------------------------------------------------------------ features
    def encode(self, imgs: Tensor, frame: str = 'x') -> Tensor:
        """(M, 3, H, W) normalised frames -> (M, C, H / s, W / s) features
        (``frame``: the temporal embedding, 'x' searched / 'z' query)."""
        bb = self.backbone
        grid = (imgs.shape[-2] // self.patch_size, imgs.shape[-1] // self.patch_size)
        outs = bb.forward_tokens(bb.embed(imgs, frame), out_indices=self.out_indices)
        return self.neck([bb.tokens_to_featmap(o, grid) for o in outs], imgs)

    def query_features(self, frames: Tensor, queries: Tensor) -> Tensor:
        """Query features read on the ``z``-encoded query frames.

        Args:
            frames (Tensor): (B, T, 3, H, W) normalised (or any indexable of
                frames for one video when B = 1).
            queries (Tensor): (B, N, 3) (t, y, x), t an index into T.

        Returns:
            Tensor: (B, N, C).
        """
        b, n = queries.shape[:2]
        tq = queries[..., 0].round().long()
        flat = torch.arange(b, device=tq.device)[:, None] * frames.shape[1] + tq
        uniq, inv = torch.unique(flat, return_inverse=True)
        fmap = self.encode(frames.flatten(0, 1)[uniq], 'z')  # U, C, h, w
        size = frames.shape[-2:]
        xy = queries[..., [2, 1]].reshape(1, b * n, 2)
        feats = []
        for u in range(len(uniq)):
            sel = (inv.flatten() == u).nonzero()[:, 0]
            feats.append((sel, bilinear_sample(fmap[u:u + 1], xy[:, sel], size)[0]))
        out = fmap.new_zeros(b * n, fmap.shape[1])
        for sel, f in feats:
            out[sel] = f
        return out.view(b, n, -1)

    # ------------------------------------------------------------ tracking
    def track_window(self, fmaps: Tensor, qfeat: Tensor, qxy: Tensor, active: Tensor,
                     img_size: Tuple[int, int], num_iters: int,
                     init_pos: Optional[Tensor] = None, init_valid: Optional[Tensor] = None,
                     init_feats: Optional[Tensor] = None) -> Dict[str, object]:
        """Refine the tracks of N queries over a window of S frames.

        Args:
            fmaps (Tensor): (B, S, C, h, w) frame features ('x').
            qfeat (Tensor): (B, N, C) query features.
            qxy (Tensor): (B, N, 2) query points (x, y).
            active (Tensor): (B, N, S) bool, frames at or after the query.
            img_size (tuple): (H, W) of the network input.
            num_iters (int): Iterations.
            init_pos (Tensor, optional): (B, N, S, 2) estimates carried over
                (where ``init_valid``), replacing the global initialisation.
            init_valid (Tensor, optional): (B, N, S) bool.
            init_feats (Tensor, optional): (B, N, S, C) track features
                carried over (where ``init_valid``).

        Returns:
            dict: ``positions`` (list of (B, N, S, 2): the initialisation and
            each iteration), ``vis_logits`` (B, N, S), ``feats`` (B, N, S, C).
        """
        b, n = qfeat.shape[:2]
        s = fmaps.shape[1]
        corr = correlation_volume(qfeat, fmaps)
        pyr = CorrelationPyramid(corr, img_size, self.corr_levels, self.corr_radius)
        pos = soft_argmax_init(qfeat, fmaps, img_size, self.init_temperature)
        feats = qfeat[:, :, None].expand(b, n, s, qfeat.shape[-1])
        if init_pos is not None:
            valid = init_valid[..., None]
            pos = torch.where(valid, init_pos, pos)
            if init_feats is not None:
                feats = torch.where(valid, init_feats, feats)
        act = active[..., None]
        q = qxy[:, :, None].expand(b, n, s, 2)
        pos = torch.where(act, pos, q)
        positions = [pos]
        actf = active.to(pos.dtype)
        hidden = None
        for _ in range(num_iters):
            pos = pos.detach()
            c = pyr.sample(pos)
            delta, dfeat, hidden = self.refiner(c, feats, pos - q, actf,
                                                raster_to_grid(pos, img_size))
            pos = pos + delta * actf[..., None]
            feats = feats + dfeat
            positions.append(pos)
        if hidden is None:
            raise ValueError('num_iters must be >= 1')
        vis = self.vis_head(hidden, pyr.sample(pos.detach()))
        return dict(positions=positions, vis_logits=vis, feats=feats)

    # ------------------------------------------------------------ training
    def _targets(self, data_samples, device):
        q = torch.stack([torch.as_tensor(_field(s, 'query_points')) for s in data_samples])
        gt = torch.stack([torch.as_tensor(_field(s, 'gt_tracks')) for s in data_samples])
        occ = torch.stack([torch.as_tensor(_field(s, 'gt_occluded')) for s in data_samples])
        return q.float().to(device), gt.float().to(device), occ.bool().to(device)

    def _forward_clip(self, clips: Tensor, queries: Tensor, num_iters: int) -> dict:
        b, t = clips.shape[:2]
        size = tuple(clips.shape[-2:])
        fmaps = self.encode(clips.flatten(0, 1), 'x')
        fmaps = fmaps.view(b, t, *fmaps.shape[1:])
        qfeat = self.query_features(clips, queries)
        tq = queries[..., 0].round().long()
        active = torch.arange(t, device=clips.device)[None, None] >= tq[..., None]
        return self.track_window(fmaps, qfeat, queries[..., [2, 1]], active, size, num_iters)

    def _forward(self, inputs: Tensor, data_samples=None):
        """(B, T, 3, H, W) normalised clips -> the :meth:`track_window` dict."""
        q, _, _ = self._targets(data_samples, inputs.device)
        return self._forward_clip(inputs, q, self.num_iters)

    def loss(self, inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        q, gt, occ = self._targets(data_samples, inputs.device)
        out = self._forward_clip(inputs, q, self.num_iters)
        t = inputs.shape[1]
        tq = q[..., 0].round().long()
        after = torch.arange(t, device=inputs.device)[None, None] > tq[..., None]
        losses = dict(
            loss_track=self.loss_track(out['positions'], gt, after & ~occ),
            loss_vis=self.loss_vis(out['vis_logits'], ~occ, after))
        with torch.no_grad():
            w = (after & ~occ).float()
            err = (out['positions'][-1] - gt).norm(dim=-1)
            losses['epe'] = (err * w).sum() / w.sum().clamp(min=1)
            err0 = (out['positions'][0] - gt).norm(dim=-1)
            losses['epe_init'] = (err0 * w).sum() / w.sum().clamp(min=1)
        return losses

    # ------------------------------------------------------------ inference
    def _input_size(self, h: int, w: int) -> Tuple[int, int]:
        size = self.test_cfg.get('input_size')
        if size is not None:
            return int(size[0]), int(size[1])
        p = self.patch_size
        return max(p, int(round(h / p)) * p), max(p, int(round(w / p)) * p)

    @torch.no_grad()
    def track_online(self, get_frames: FrameGetter, num_frames: int, queries: Tensor,
                     img_size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """Forward-in-time online tracking of one video, window by window.

        Args:
            get_frames (callable): indices -> (k, 3, H, W) normalised frames
                at the network input size.
            num_frames (int): T.
            queries (Tensor): (N, 3) (t, y, x) at the network input size.
            img_size (tuple): (H, W) of the network input.

        Returns:
            tuple: positions (N, T, 2) and visibility logits (N, T); frames
            before a query's frame hold the query point and -inf.
        """
        cfg = self.test_cfg
        s_len = max(1, int(cfg['window']))
        stride = max(1, min(s_len, int(cfg.get('window_stride') or s_len // 2 or 1)))
        iters = int(cfg.get('num_iters') or self.num_iters)
        chunk = max(1, int(cfg.get('max_queries') or len(queries) or 1))
        device = queries.device
        n = queries.shape[0]
        tq = queries[:, 0].round().long().clamp(0, num_frames - 1)
        qxy = queries[:, [2, 1]]
        out_pos = qxy[:, None].repeat(1, num_frames, 1)
        out_vis = torch.full((n, num_frames), float('-inf'), device=device)
        qfeat = None
        have = torch.zeros(n, dtype=torch.bool, device=device)
        starts = list(range(0, max(num_frames - s_len, 0) + 1, stride))
        if starts[-1] + s_len < num_frames:
            starts.append(num_frames - s_len)
        cache: Dict[int, Tensor] = {}
        carry: Dict[int, Tuple[Tensor, Tensor, Tensor]] = {}  # t -> pos, feats, valid
        for wi, w0 in enumerate(starts):
            idx = list(range(w0, min(w0 + s_len, num_frames)))
            nxt = starts[wi + 1] if wi + 1 < len(starts) else num_frames
            if not have.any() and not ((tq >= idx[0]) & (tq <= idx[-1])).any():
                cache = {}  # no query yet: nothing to encode
                continue
            new = [t for t in idx if t not in cache]
            if new:
                frames = get_frames(new)
                fm = self.encode(frames, 'x')
                for t, f in zip(new, fm):
                    cache[t] = f
            joining = (~have) & (tq >= idx[0]) & (tq <= idx[-1])
            if joining.any():
                js = joining.nonzero()[:, 0]
                tqs = sorted(set(tq[js].tolist()))
                zmaps = self.encode(get_frames(tqs), 'z')
                if qfeat is None:
                    qfeat = zmaps.new_zeros(n, zmaps.shape[1])
                for k, t in enumerate(tqs):
                    sel = js[tq[js] == t]
                    qfeat[sel] = bilinear_sample(zmaps[k:k + 1], qxy[None, sel], img_size)[0]
                have |= joining
            if qfeat is None or not have.any():
                cache = {t: f for t, f in cache.items() if t >= nxt}
                continue
            fmaps = torch.stack([cache[t] for t in idx])[None]
            t_idx = torch.as_tensor(idx, device=device)
            sel_all = have.nonzero()[:, 0]
            new_carry: Dict[int, Tuple[Tensor, Tensor, Tensor]] = {}
            c = fmaps.shape[2]
            keep_t = [t for t in idx if t >= nxt]
            for k in range(0, len(sel_all), chunk):
                sel = sel_all[k:k + chunk]
                active = t_idx[None] >= tq[sel, None]
                init_pos = qxy.new_zeros(len(sel), len(idx), 2)
                init_feats = qxy.new_zeros(len(sel), len(idx), c)
                init_valid = torch.zeros(len(sel), len(idx), dtype=torch.bool, device=device)
                for j, t in enumerate(idx):
                    if t in carry:
                        p, f, v = carry[t]
                        init_pos[:, j], init_feats[:, j], init_valid[:, j] = p[sel], f[sel], v[sel]
                out = self.track_window(fmaps, qfeat[None, sel], qxy[None, sel], active[None],
                                        img_size, iters, init_pos[None], init_valid[None],
                                        init_feats[None])
                pos, vis, feats = out['positions'][-1][0], out['vis_logits'][0], out['feats'][0]
                act = active
                cur = out_pos[sel][:, idx]
                out_pos[sel[:, None], t_idx[None]] = torch.where(act[..., None], pos, cur)
                cur_v = out_vis[sel][:, idx]
                out_vis[sel[:, None], t_idx[None]] = torch.where(act, vis, cur_v)
                for j, t in enumerate(idx):
                    if t not in keep_t:
                        continue
                    if t not in new_carry:
                        new_carry[t] = (qxy.new_zeros(n, 2), qxy.new_zeros(n, c),
                                        torch.zeros(n, dtype=torch.bool, device=device))
                    p, f, v = new_carry[t]
                    p[sel], f[sel], v[sel] = pos[:, j], feats[:, j], act[:, j]
            carry = new_carry
            cache = {t: f for t, f in cache.items() if t >= nxt}
        return out_pos, out_vis

    @torch.no_grad()
    def track_video(self, frames: Union[Tensor, FrameGetter], queries: Tensor,
                    num_frames: Optional[int] = None, frame_size: Optional[Tuple[int, int]] = None,
                    query_mode: str = 'strided') -> Tuple[Tensor, Tensor]:
        """Track queries through a whole video, online.

        Args:
            frames (Tensor | callable): (T, 3, H, W) uint8 RGB frames, or a
                function ``indices -> (k, 3, H, W)`` uint8 frames (videos
                that are decoded lazily: memory of a window only).
            queries (Tensor): (N, 3) (t, y, x) raster pixels of the frames.
            num_frames (int, optional): T (needed with a callable).
            frame_size (tuple, optional): (H, W) (needed with a callable).
            query_mode (str): 'first' skips the backward pass (frames before
                the query are not evaluated there).

        Returns:
            tuple: ``pred_tracks`` (N, T, 2) (x, y) and ``pred_occluded``
            (N, T) bool; the query frame holds the query point, visible.
        """
        device = self.refiner.inp.weight.device
        if callable(frames) and not isinstance(frames, Tensor):
            read = frames
            if num_frames is None or frame_size is None:
                raise ValueError('a frame function needs num_frames and frame_size')
            t_all, (h0, w0) = int(num_frames), tuple(frame_size)
        else:
            t_all, h0, w0 = frames.shape[0], frames.shape[2], frames.shape[3]

            def read(idx, _f=frames):
                return _f[list(idx)]
        h, w = self._input_size(h0, w0)
        sx, sy = w / w0, h / h0

        def get(idx, reverse=False):
            idx = [t_all - 1 - t for t in idx] if reverse else list(idx)
            x = self.data_preprocessor.normalize(read(idx).to(device))
            if x.shape[-2:] != (h, w):
                x = F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False,
                                  antialias=True)
            return x

        q = torch.as_tensor(queries, dtype=torch.float32, device=device).reshape(-1, 3)
        qs = torch.stack([q[:, 0], q[:, 1] * sy, q[:, 2] * sx], -1)
        n = len(q)
        if n == 0:
            return (torch.zeros(0, t_all, 2), torch.zeros(0, t_all, dtype=torch.bool))
        tq = qs[:, 0].round().long()
        if tq.min() < 0 or tq.max() >= t_all:
            raise ValueError(f'query frames must lie in [0, {t_all}), got '
                             f'[{int(tq.min())}, {int(tq.max())}]')
        pos, vis = self.track_online(get, t_all, qs, (h, w))
        before = torch.arange(t_all, device=device)[None] < tq[:, None]
        if self.test_cfg.get('backward_tracking', True) and query_mode != 'first' \
                and bool(before.any()):
            rq = qs.clone()
            rq[:, 0] = t_all - 1 - qs[:, 0]
            bpos, bvis = self.track_online(lambda idx: get(idx, True), t_all, rq, (h, w))
            bpos, bvis = bpos.flip(1), bvis.flip(1)
            pos = torch.where(before[..., None], bpos, pos)
            vis = torch.where(before, bvis, vis)
        thr = float(self.test_cfg.get('vis_threshold', 0.5))
        occluded = torch.sigmoid(vis) < thr
        rows = torch.arange(n, device=device)
        pos[rows, tq] = qs[:, [2, 1]]
        occluded[rows, tq] = False
        pos = pos / pos.new_tensor([sx, sy])
        return pos.cpu(), occluded.cpu()

    def predict(self, inputs: List[Tensor], data_samples: List) -> List[DataSample]:
        """One item per video: (T, 3, H, W) uint8 frames and a data sample
        with ``query_points``; returns one data sample per video with
        ``pred_tracks`` / ``pred_occluded`` (and the ground truth and
        metainfo passed through)."""
        results = []
        for frames, sample in zip(inputs, data_samples):
            meta = dict(sample.metainfo) if hasattr(sample, 'metainfo') else {}
            queries = torch.as_tensor(_field(sample, 'query_points'))
            tracks, occ = self.track_video(frames, queries,
                                           query_mode=meta.get('query_mode', 'strided'))
            out = DataSample(metainfo=meta)
            out.query_points = queries.detach().cpu().numpy().astype(np.float32)
            for key in ('gt_tracks', 'gt_occluded'):
                v = _field(sample, key)
                if v is not None:
                    setattr(out, key, torch.as_tensor(v).cpu().numpy())
            out.pred_tracks = tracks.numpy().astype(np.float32)
            out.pred_occluded = occ.numpy()
            results.append(out)
        return results
