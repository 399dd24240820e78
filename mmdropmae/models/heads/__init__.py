from .bev_center_head import BEVCenterHead
from .center_head import CenterHead, generate_heatmap
from .dpt_head import DPTFeatureHead
from .flow_head import DPTFlowHead, convex_upsample  # noqa: F401
from .mae_head import MAEPretrainHead, patchify, unpatchify

__all__ = ['MAEPretrainHead', 'patchify', 'unpatchify', 'CenterHead', 'generate_heatmap',
           'DPTFeatureHead', 'BEVCenterHead']
