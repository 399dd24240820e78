"""BEVTrack: a one-stream DropMAE ViT tracker on bird's-eye-view
pseudo-images of LiDAR points (3D single-object tracking).

Network (DropTrack's one-stream design, on BEV images instead of RGB
crops): the template and the search area become 3-channel BEV images
(height, density, reflectance on 0-255:
:func:`mmdropmae.utils.points.rasterize_bev`), so that the pre-trained
patch embedding of the DropMAE encoder loads unchanged; they are patch-
embedded with their own position tables and the DropMAE temporal
embeddings (``z`` = template, ``x`` = search), run jointly ``[z, x]``
through the ViT blocks (the backbone API: ``embed`` and
``forward_tokens``), and the search tokens, as a map, go to
:class:`~mmdropmae.models.heads.BEVCenterHead` (centre heat map + offset,
z, yaw); with ``head.skip_channels=3`` the head also sees the search BEV
image itself, average-pooled to its cells (a shallow skip, as the image
skips of dense decoders, that gives the heat map the fine position of the
points; the ViT tokens carry the template matching).

Test-time logic (Ghostish/Open3DSOT ``models/base_model.py``,
``evaluate_one_sequence`` and ``MatchingBaseModel`` with
``reference_BB: previous_result``, ``shape_aggregation:
firstandprevious``):

* frame 0: the ground-truth box is the result (it is also what the metric
  counts for frame 0);
* frame t: the search area is the frame's points in the previous result
  box x ``search_scale`` (1.25) + ``search_offset`` (2 m), in that box's
  frame (``generate_subwindow``); the template is the first frame's points
  in the first box plus the previous frame's points in the previous result
  box, x ``template_scale`` (1.25) + ``template_offset`` (0), each in its
  box frame (``getModel``); the predicted ``dx, dy, (dz), dyaw`` in the
  reference frame give the new box, with the size of the first box
  (``getOffsetBB``; ``use_z=False`` keeps the reference box's z, as P2B's
  configs, ``True`` as BAT's).
* An empty search area (no point, or a missing / corrupt point cloud)
  keeps the last box and warns, naming the sequence, the frame and the
  file; an empty template warns too and tracking goes on.
"""
import warnings
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from mmdropmae.registry import MODELS
from mmdropmae.structures.data_sample import DataSample
from mmdropmae.utils.points import (bev_resolution, box_from_frame, crop_box_frame,
                                    rasterize_bev)
from ..base import BaseOnlineTracker, TemplateSearchEmbedMixin
from ..trackers.base_sot_tracker import hann2d

__all__ = ['BEVTrack', 'SOT3DTrackingWarning']


class SOT3DTrackingWarning(UserWarning):
    """An empty search area or template while tracking (the message names
    the sequence, frame and point-cloud file)."""


@MODELS.register_module()
class BEVTrack(TemplateSearchEmbedMixin, BaseOnlineTracker):
    """One-stream ViT 3D single-object tracker on BEV pseudo-images.

    Args:
        backbone (dict): :class:`VisionTransformer` config (its ``init_cfg``
            loads a DropMAE checkpoint).
        head (dict): :class:`BEVCenterHead` config.
        template_size (int): Template BEV side (px). Defaults to 128.
        search_size (int): Search BEV side (px). Defaults to 256.
        search_scale (float): Open3DSOT ``search_bb_scale``. Defaults to 1.25.
        search_offset (float): Open3DSOT ``search_bb_offset`` (m). Defaults
            to 2.
        template_scale (float): Open3DSOT ``model_bb_scale``. Defaults to 1.25.
        template_offset (float): Open3DSOT ``model_bb_offset``. Defaults to 0.
        z_range (tuple): Box-frame height range of the BEV height channel.
        learn_pos_embed (bool): Own learned template / search position
            tables, initialised from the encoder's (as DropTrack). Defaults
            to True.
        test_cfg (dict, optional): ``window`` ('hann' or None, default
            'hann'), ``use_z`` (default True), ``max_cached_videos`` (8).
        data_preprocessor (dict, optional): Defaults to
            ``TrackingDataPreprocessor`` (ImageNet normalisation of the
            0-255 BEV images).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 template_size: int = 128,
                 search_size: int = 256,
                 search_scale: float = 1.25,
                 search_offset: float = 2.,
                 template_scale: float = 1.25,
                 template_offset: float = 0.,
                 z_range: Tuple[float, float] = (-2., 2.),
                 learn_pos_embed: bool = True,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = MODELS.build(
            data_preprocessor or dict(type='TrackingDataPreprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.init_template_search(template_size, search_size, learn_pos_embed)
        if self.head.feat_size != self.grid_x[0]:
            raise ValueError(f'head.feat_size {self.head.feat_size} does not match the search '
                             f'grid {self.grid_x}')
        self.search_scale = float(search_scale)
        self.search_offset = float(search_offset)
        self.template_scale = float(template_scale)
        self.template_offset = float(template_offset)
        self.z_range = tuple(z_range)
        self.test_cfg = dict(window='hann', use_z=True, max_cached_videos=8)
        self.test_cfg.update(test_cfg or {})
        if self.test_cfg['window'] not in ('hann', None):
            raise ValueError(f"test_cfg.window must be 'hann' or None, got "
                             f"{self.test_cfg['window']!r}")
        self.register_buffer('output_window', hann2d((self.head.map_size, ) * 2), False)

    # ------------------------------------------------------------- weights
    def init_weights(self) -> None:
        super().init_weights()
        self.reset_pos_embed()

    # ------------------------------------------------------------- network
    def forward_pair(self, template: Tensor, search: Tensor) -> Dict[str, Tensor]:
        """Head outputs of normalised BEV images (B, 3, H, W)."""
        z = self.embed(template, 'z')
        x = self.embed(search, 'x')
        tokens = self.backbone.forward_tokens(torch.cat([z, x], 1), out_indices=-1)[0]
        feat = self.backbone.tokens_to_featmap(tokens[:, z.shape[1]:], self.grid_x)
        return self.head(feat, search if self.head.skip_channels else None)

    def _forward(self, inputs: dict, data_samples=None) -> Dict[str, Tensor]:
        return self.forward_pair(inputs['template'], inputs['search'])

    def loss(self, inputs: dict, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        out = self.forward_pair(inputs['template'], inputs['search'])
        dev = out['heatmap'].device
        gt = torch.stack([torch.as_tensor(s.gt_offset_3d) for s in data_samples]).to(dev)
        res = torch.tensor([float(s.metainfo['bev_resolution']) for s in data_samples],
                           device=dev)
        return self.head.loss(out, gt.float(), res, self.search_size)

    # ------------------------------------------------------------ tracking
    def _warn(self, state: dict, meta: dict, what: str) -> None:
        msg = (f"sequence {meta.get('video_name')} frame {meta.get('frame_id')} "
               f"({meta.get('points_path', 'no file')}): {what}")
        state['messages'].append(msg)
        state['frame_messages'].append(msg)
        warnings.warn(msg, SOT3DTrackingWarning)

    def _bev(self, pts: np.ndarray, size: int, res: float) -> Tensor:
        img = rasterize_bev(pts, size, res, self.z_range)
        img = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
        return self.data_preprocessor.normalize(img)

    def init_video(self, frame, data_sample) -> dict:
        meta = data_sample.metainfo
        if 'gt_bbox_3d' not in data_sample:
            raise KeyError(f"sequence {meta.get('video_name')}: frame 0 has no gt_bbox_3d "
                           '(the initial box)')
        box0 = np.asarray(data_sample.gt_bbox_3d, np.float64).reshape(7)
        pts = np.asarray(frame, np.float32).reshape(-1, 4)
        first = crop_box_frame(pts, box0, self.template_scale, self.template_offset)
        state = dict(boxes=[box0], first_points=first, prev_points=first,
                     resolution=bev_resolution(box0, self.search_size, self.search_scale,
                                               self.search_offset),
                     gt=box0.copy(), score=1., messages=[], frame_messages=[],
                     empty_search=False)
        if meta.get('load_error'):
            self._warn(state, meta, f"no point cloud ({meta['load_error']})")
        if len(first) == 0:
            self._warn(state, meta, 'the target has no points in its first box: the template '
                       'starts empty')
        return state

    @torch.no_grad()
    def track_frame(self, frame, state: dict, data_sample) -> None:
        meta = data_sample.metainfo
        state['frame_messages'] = []
        pts = np.asarray(frame, np.float32).reshape(-1, 4)
        ref = state['boxes'][-1]
        gt = getattr(data_sample, 'gt_bbox_3d', None)
        state['gt'] = None if gt is None else np.asarray(gt, np.float64).reshape(7)
        search = crop_box_frame(pts, ref, self.search_scale, self.search_offset)
        state['empty_search'] = len(search) == 0
        if len(search) == 0:
            why = f" ({meta['load_error']})" if meta.get('load_error') else ''
            self._warn(state, meta, f'empty search area{why}: keeping the last box')
            new_box = ref.copy()
            state['score'] = 0.
        else:
            template = np.concatenate([state['first_points'], state['prev_points']], 0)
            if len(template) == 0:
                self._warn(state, meta, 'the target has no points in the template (first and '
                           'previous boxes): tracking on the search area alone')
            res = state['resolution']
            out = self.forward_pair(self._bev(template, self.template_size, res),
                                    self._bev(search, self.search_size, res))
            window = self.output_window if self.test_cfg['window'] == 'hann' else None
            delta, score = self.head.decode(out, torch.tensor([res]), self.search_size, window)
            dx, dy, dz, dyaw = delta[0].cpu().double().numpy()
            if not self.test_cfg['use_z']:
                dz = 0.
            size = state['boxes'][0][3:6]
            new_box = box_from_frame([dx, dy, dz, size[0], size[1], size[2], dyaw], ref)
            state['score'] = float(score[0])
        state['boxes'].append(new_box)
        # the previous-frame part of the next template (Open3DSOT getModel)
        state['prev_points'] = crop_box_frame(pts, new_box, self.template_scale,
                                              self.template_offset)

    def state_to_sample(self, state: dict, sample: DataSample) -> DataSample:
        sample.pred_bbox_3d = np.asarray(state['boxes'][-1], np.float32)
        if state.get('gt') is not None:
            sample.gt_bbox_3d = np.asarray(state['gt'], np.float32)
        sample.pred_score = float(state['score'])
        sample.set_metainfo(dict(empty_search=bool(state['empty_search']),
                                 track_messages=list(state['frame_messages'])))
        return sample
