"""Vision Transformer with the DropMAE reference (timm) key names."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdropmae.registry import MODELS
from ..layers import (TokenSelector, TransformerBlock, build_2d_sincos_position_embedding,
                      resize_pos_embed)
from ..utils import extract_encoder, load_checkpoint_file


def _pair(x: Union[int, Sequence[int]]) -> Tuple[int, int]:
    return (x, x) if isinstance(x, int) else tuple(x)


class PatchEmbed(nn.Module):
    """Non-overlapping patch embedding (key ``patch_embed.proj``)."""

    def __init__(self, patch_size: int, in_channels: int, embed_dims: int):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(
            in_channels, embed_dims, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        """(B, C, H, W) -> tokens (B, H/p * W/p, D) and the grid (H/p, W/p)."""
        h, w = x.shape[-2:]
        p = self.patch_size
        if h % p or w % p:
            raise ValueError(f'input size {h}x{w} is not a multiple of the '
                             f'patch size {p}')
        x = self.proj(x)
        return x.flatten(2).transpose(1, 2), (h // p, w // p)


@MODELS.register_module()
class VisionTransformer(BaseModule):
    """ViT encoder for one or two frames, as in DropMAE.

    Parameters carry the reference checkpoint names (timm's): ``patch_embed``,
    ``pos_embed`` (1 x (1 + H*W) x D, row 0 an unused class slot),
    ``temporal_pos_embed_x``/``_z`` (1 x 1 x D each), ``blocks.{i}``,
    ``norm``. There is no class token.

    Inputs of another size than ``img_size`` are supported: the position
    embedding is interpolated (bicubic) to their patch grid, so one model
    serves e.g. 128 templates and 256 search regions. Checkpoints of another
    size are interpolated on load.

    The public API every downstream model uses: :meth:`embed` (patch +
    position + temporal embedding, optionally with the model's own position
    table), :meth:`forward_tokens` (the blocks, with chosen intermediate
    outputs, an attention mask, or a
    :class:`~mmdropmae.models.layers.TokenSelector` between attention and
    MLP) and :meth:`forward`.

    Args:
        arch (str | dict): 'tiny', 'small', 'base', 'large' or a dict with
            ``embed_dims``, ``num_layers``, ``num_heads``, ``mlp_ratio``.
        img_size (int | tuple): Input size the position table is built for.
        patch_size (int): Patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        pos_embed_type (str): 'sincos' (fixed, not trained; MAE/DropMAE) or
            'learned'.
        with_temporal_embed (bool): Create the two learned temporal
            embeddings for two-frame inputs. Defaults to True.
        qkv_bias (bool): Bias in the qkv projections. Defaults to True.
        drop_rate (float): Dropout rate after projections. Defaults to 0.
        drop_path_rate (float): Stochastic depth, linearly increasing over
            blocks. Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        final_norm (bool): Apply ``norm`` to the output. Defaults to True.
        out_indices (int | Sequence[int]): Blocks whose outputs
            :meth:`forward` returns (mmpretrain's ``out_indices``; negative
            from the end). Defaults to -1, the last block.
        out_type (str): 'raw' ((B, L, D) tokens) or 'featmap' ((B, D, h, w)
            map of frame x) outputs of :meth:`forward`.
        attn_cfg (dict, optional): Attention layer config of the blocks.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)``
            loads the encoder of any DropMAE/MAE-style checkpoint (ours,
            the reference layout, an encoder-only export): decoder keys are
            dropped and the position embedding is interpolated.
    """
    arch_zoo = {
        'tiny': dict(embed_dims=192, num_layers=12, num_heads=3, mlp_ratio=4.),
        'small': dict(embed_dims=384, num_layers=12, num_heads=6, mlp_ratio=4.),
        'base': dict(embed_dims=768, num_layers=12, num_heads=12, mlp_ratio=4.),
        'large': dict(
            embed_dims=1024, num_layers=24, num_heads=16, mlp_ratio=4.),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 pos_embed_type: str = 'sincos',
                 with_temporal_embed: bool = True,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 norm_eps: float = 1e-6,
                 final_norm: bool = True,
                 out_indices: Union[int, Sequence[int]] = -1,
                 out_type: str = 'raw',
                 attn_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise KeyError(f'unknown ViT arch {arch!r}; choose from '
                               f'{sorted(self.arch_zoo)} or pass a dict')
            arch = self.arch_zoo[arch]
        missing = {'embed_dims', 'num_layers', 'num_heads'} - set(arch)
        if missing:
            raise KeyError(f'ViT arch dict lacks {sorted(missing)}')
        if pos_embed_type not in ('sincos', 'learned'):
            raise ValueError("pos_embed_type must be 'sincos' or 'learned', "
                             f'got {pos_embed_type!r}')
        self.embed_dims = arch['embed_dims']
        self.num_layers = arch['num_layers']
        self.num_heads = arch['num_heads']
        self.img_size = _pair(img_size)
        self.patch_size = patch_size
        self.grid_size = (self.img_size[0] // patch_size,
                          self.img_size[1] // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.pos_embed_type = pos_embed_type
        if out_type not in ('raw', 'featmap'):
            raise ValueError(f"out_type must be 'raw' or 'featmap', got {out_type!r}")
        self.out_type = out_type

        self.patch_embed = PatchEmbed(patch_size, in_channels, self.embed_dims)
        self.pos_embed = nn.Parameter(
            torch.zeros(1, 1 + self.num_patches, self.embed_dims),
            requires_grad=pos_embed_type == 'learned')
        self.with_temporal_embed = with_temporal_embed
        if with_temporal_embed:
            self.temporal_pos_embed_x = nn.Parameter(
                torch.randn(1, 1, self.embed_dims))
            self.temporal_pos_embed_z = nn.Parameter(
                torch.randn(1, 1, self.embed_dims))
        dpr = torch.linspace(0, drop_path_rate, self.num_layers).tolist()
        self.blocks = nn.ModuleList([
            TransformerBlock(
                self.embed_dims,
                self.num_heads,
                mlp_ratio=arch.get('mlp_ratio', 4.),
                qkv_bias=qkv_bias,
                drop_rate=drop_rate,
                drop_path_rate=dpr[i],
                norm_eps=norm_eps,
                attn_cfg=attn_cfg) for i in range(self.num_layers)
        ])
        self.final_norm = final_norm
        self.out_indices = self._layer_indices(out_indices)
        self.norm = nn.LayerNorm(self.embed_dims, eps=norm_eps)
        self._register_load_state_dict_pre_hook(self._resize_loaded_pos_embed)
        self._init_default_weights()

    # ------------------------------------------------------------ weights
    def _init_default_weights(self) -> None:
        """MAE initialisation: fixed sin-cos table, xavier linears."""
        if self.pos_embed_type == 'sincos':
            self.pos_embed.data.copy_(
                build_2d_sincos_position_embedding(self.grid_size,
                                                   self.embed_dims))
        else:
            nn.init.trunc_normal_(self.pos_embed, std=.02)
        w = self.patch_embed.proj.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        for m in self.blocks.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """Load ``init_cfg=dict(type='Pretrained', checkpoint=...)`` with the
        encoder-aware loader; other init configs go to MMEngine."""
        if isinstance(self.init_cfg, dict) and \
                self.init_cfg.get('type') == 'Pretrained':
            self.load_encoder_checkpoint(self.init_cfg['checkpoint'])
            self._is_init = True
            return
        super().init_weights()

    def load_encoder_checkpoint(self, filename: str, strict: bool = False):
        """Load the encoder part of a DropMAE/MAE checkpoint file.

        Decoder keys (``decoder*``, ``mask_token``) and class-token/classifier
        keys are dropped; the position embedding is interpolated to this
        model's grid. Missing and unexpected keys are logged.

        Returns:
            The ``_IncompatibleKeys`` of ``load_state_dict``.
        """
        logger = MMLogger.get_current_instance()
        checkpoint = load_checkpoint_file(filename, verbose=False)
        state, dropped = extract_encoder(checkpoint)
        if not self.with_temporal_embed:
            state = {
                k: v
                for k, v in state.items() if not k.startswith('temporal_pos')
            }
        result = self.load_state_dict(state, strict=strict)
        logger.info(f'Loaded encoder weights from {filename}: '
                    f'{len(state)} tensors; dropped {len(dropped)} '
                    'decoder/classifier keys')
        if result.missing_keys:
            logger.warning(f'missing keys in {filename}: '
                           f'{result.missing_keys}')
        if result.unexpected_keys:
            logger.warning(f'unexpected keys in {filename}: '
                           f'{result.unexpected_keys}')
        return result

    def _resize_loaded_pos_embed(self, state_dict, prefix, *args, **kwargs):
        key = prefix + 'pos_embed'
        if key not in state_dict:
            return
        ckpt = state_dict[key]
        if ckpt.shape == self.pos_embed.shape:
            return
        rows = ckpt.shape[1]
        extra = 1 if math.isqrt(rows - 1)**2 == rows - 1 else 0
        side = math.isqrt(rows - extra)
        if side * side != rows - extra:
            raise ValueError(f'cannot infer the patch grid of a checkpoint '
                             f'pos_embed of shape {tuple(ckpt.shape)}')
        grid = resize_pos_embed(ckpt, (side, side), self.grid_size, extra)
        if extra == 0:  # add the unused class slot of our layout
            grid = torch.cat([grid.new_zeros(1, 1, grid.shape[-1]), grid], 1)
        MMLogger.get_current_instance().info(
            f'Resized pos_embed from {tuple(ckpt.shape)} to '
            f'{tuple(grid.shape)}')
        state_dict[key] = grid

    # ------------------------------------------------------------ forward
    def grid_pos_embed(self, grid: Tuple[int, int]) -> Tensor:
        """Position embedding (1, h*w, D) of a patch grid, interpolated from
        the stored table when ``grid`` differs from ``grid_size``."""
        table = self.pos_embed[:, 1:]
        if tuple(grid) == self.grid_size:
            return table
        return resize_pos_embed(
            table, self.grid_size, grid, num_extra_tokens=0)

    def embed(self,
              img: Tensor,
              frame: Optional[str] = None,
              pos_embed: Optional[Tensor] = None,
              pos_grid: Optional[Tuple[int, int]] = None) -> Tensor:
        """Patch tokens of one frame with position (and temporal) embedding.

        Args:
            img (Tensor): (B, C, H, W) normalised images.
            frame (str, optional): 'x' (search/current/earlier frame) or 'z'
                (template/reference/later frame) adds that frame's temporal
                embedding; None adds none.
            pos_embed (Tensor, optional): A (1, h0*w0, D) position table to
                use instead of the encoder's (e.g. a tracker's learned
                template/search tables), interpolated when the input grid
                is not ``pos_grid``.
            pos_grid (tuple, optional): (h0, w0) of ``pos_embed``.

        Returns:
            Tensor: (B, H/p * W/p, D).
        """
        tokens, grid = self.patch_embed(img)
        if pos_embed is None:
            pos = self.grid_pos_embed(grid)
        else:
            if pos_grid is None:
                raise ValueError('pos_embed needs its pos_grid (h, w)')
            pos = pos_embed if tuple(grid) == tuple(pos_grid) else \
                resize_pos_embed(pos_embed, pos_grid, grid, num_extra_tokens=0)
        tokens = tokens + pos
        if frame is not None:
            if not self.with_temporal_embed:
                raise ValueError('this ViT has no temporal embeddings '
                                 '(with_temporal_embed=False)')
            if frame not in ('x', 'z'):
                raise ValueError(f"frame must be 'x' or 'z', got {frame!r}")
            tokens = tokens + getattr(self, f'temporal_pos_embed_{frame}')
        return tokens

    def _layer_indices(self, out_indices: Union[int, Sequence[int]]
                       ) -> List[int]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        indices = []
        for i in out_indices:
            j = int(i) + self.num_layers if int(i) < 0 else int(i)
            if not 0 <= j < self.num_layers:
                raise IndexError(f'out index {i} outside the {self.num_layers} '
                                 'blocks')
            indices.append(j)
        return indices

    def forward_tokens(self,
                       tokens: Tensor,
                       out_indices: Optional[Union[int, Sequence[int]]] = None,
                       attn_mask: Optional[Tensor] = None,
                       token_selector: Optional[TokenSelector] = None,
                       out_norm: str = 'last') -> List[Tensor]:
        """Run the blocks on a token sequence.

        Args:
            tokens (Tensor): (B, L, D) embedded tokens (:meth:`embed`).
            out_indices (int | Sequence[int], optional): Blocks whose outputs
                are returned (negative: from the end). Defaults to the
                model's ``out_indices``.
            attn_mask (Tensor, optional): Attention mask of every block,
                broadcastable to (B, heads, L, L): boolean (True = may
                attend) or additive float.
            token_selector (TokenSelector, optional): Runs between the
                attention and the MLP of the blocks in its ``layers`` and
                may change the token set (e.g.
                :class:`~mmdropmae.models.layers.CandidateElimination`).
                Not combinable with ``attn_mask``.
            out_norm (str): 'last': the final norm on the last block's output
                only (mmpretrain's ViT); 'all': on every returned output
                (timm's ``get_intermediate_layers(norm=True)``, DINO).
                Either way only when ``final_norm``.

        Returns:
            list[Tensor]: One (B, L', D) tensor per out index, in that order.
        """
        if attn_mask is not None and token_selector is not None:
            raise ValueError('attn_mask and token_selector cannot be combined '
                             '(the selector changes the token set)')
        if out_norm not in ('last', 'all'):
            raise ValueError(f"out_norm must be 'last' or 'all', got {out_norm!r}")
        indices = self._layer_indices(
            self.out_indices if out_indices is None else out_indices)
        selected = token_selector.layers if token_selector is not None else ()
        outs = {}
        for i, blk in enumerate(self.blocks[:max(indices) + 1]):
            if i in selected:
                tokens, attn = blk.forward_attn(
                    tokens, attn_rows=token_selector.attn_rows(i))
                tokens = blk.forward_mlp(token_selector.select(i, tokens, attn))
            else:
                tokens = blk(tokens, attn_mask)
            if i in indices:
                norm = self.final_norm and (out_norm == 'all'
                                            or i == self.num_layers - 1)
                outs[i] = self.norm(tokens) if norm else tokens
        return [outs[i] for i in indices]

    def tokens_to_featmap(self, tokens: Tensor, grid: Tuple[int, int]) -> Tensor:
        """(B, h*w, D) tokens of one frame -> (B, D, h, w)."""
        return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, *grid)

    def forward(self, x: Tensor, z: Optional[Tensor] = None) -> Tuple[Tensor]:
        """Encode one frame, or two frames jointly.

        Args:
            x (Tensor): (B, C, H, W) frame x.
            z (Tensor, optional): (B, C, H', W') frame z. When given, the
                tokens of both frames (x first) attend to each other.

        Returns:
            tuple[Tensor]: One output per ``out_indices`` entry:
            ``out_type='raw'``: (B, L, D) tokens, x tokens first;
            ``'featmap'``: (B, D, H/p, W/p) map of frame x.
        """
        tokens = self.embed(x) if z is None else torch.cat(
            [self.embed(x, 'x'), self.embed(z, 'z')], dim=1)
        outs = self.forward_tokens(tokens)
        if self.out_type == 'featmap':
            grid = (x.shape[-2] // self.patch_size, x.shape[-1] // self.patch_size)
            n = grid[0] * grid[1]
            outs = [self.tokens_to_featmap(o[:, :n], grid) for o in outs]
        return tuple(outs)
