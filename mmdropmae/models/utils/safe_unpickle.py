"""Read training checkpoints of other code bases without that code.

Released OSTrack / DropTrack tracker files (``*.pth.tar``, written by
``lib/train/trainers/base_trainer.py`` ``save_checkpoint`` of
botaoye/OSTrack and jimmy-dq/DropTrack) pickle objects of the reference
training code next to the weights: ``settings``
(``lib.train.admin.settings.Settings``), ``stats``
(``lib.train.admin.stats.AverageMeter``), ``net_info``, ``constructor``.
``torch.load(weights_only=True)`` refuses them, and a full unpickling needs
the reference code installed (and runs whatever the file asks for).

:func:`safe_torch_load` unpickles with a restricted unpickler instead: only
tensors (and their storages), ``torch.Size``, dtypes and plain containers are
built; every other class or function the file names is replaced by an inert
:class:`StubObject` subclass that records what it was given and executes
nothing. Stubbing is a safety net, not a guarantee that a crafted file is
harmless (a pickle can still be made to exhaust memory): convert only files
you trust.
"""
import collections
import os.path as osp
import pickle
from typing import Any, Dict, List, Tuple

import torch

__all__ = ['StubObject', 'StubUnpickler', 'safe_torch_load', 'SAFE_GLOBALS']


class StubObject:
    """Inert stand-in for an object of a class that is not built.

    Accepts any constructor arguments and pickle state (``__setstate__``,
    ``append``/``extend`` for list-like, ``__setitem__`` for dict-like
    classes) and keeps them in ``_stub_args``, ``_stub_state``,
    ``_stub_items`` for inspection. ``stub_name`` names the stubbed global
    (``module.qualname``).
    """
    stub_name = 'StubObject'

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj._stub_args = args
        obj._stub_kwargs = kwargs
        obj._stub_state = None
        obj._stub_items = {}
        obj._stub_list = []
        return obj

    def __init__(self, *args, **kwargs):
        self._stub_args = args
        self._stub_kwargs = kwargs

    def __setstate__(self, state) -> None:
        self._stub_state = state

    def __setitem__(self, key, value) -> None:
        self._stub_items[key] = value

    def append(self, value) -> None:
        self._stub_list.append(value)

    def extend(self, values) -> None:
        self._stub_list.extend(values)

    def __repr__(self) -> str:
        return f'<stub of {self.stub_name}>'


def _stub_class(module: str, name: str) -> type:
    qual = f'{module}.{name}'
    return type(f'Stub[{qual}]', (StubObject, ), dict(stub_name=qual))


def _rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2`` limited to tensor types: a
    tensor subclass that is not ``torch.Tensor`` / ``Parameter`` comes back
    as a plain tensor (its Python state is dropped)."""
    ret = func(*args)
    if isinstance(new_type, type) and new_type in (torch.Tensor, torch.nn.Parameter) and \
            type(ret) is not new_type:
        ret = ret.as_subclass(new_type)
    return ret


#: Globals the restricted unpickler builds (everything else is stubbed).
SAFE_GLOBALS: Dict[Tuple[str, str], Any] = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('builtins', 'set'): set,
    ('builtins', 'frozenset'): frozenset,
    ('builtins', 'complex'): complex,
    ('builtins', 'slice'): slice,
    ('_codecs', 'encode'): __import__('codecs').encode,  # bytes in protocol 2
    ('torch', 'Size'): torch.Size,
    ('torch', 'device'): torch.device,
    ('torch._utils', '_rebuild_tensor'): torch._utils._rebuild_tensor,
    ('torch._utils', '_rebuild_tensor_v2'): torch._utils._rebuild_tensor_v2,
    ('torch._utils', '_rebuild_parameter'): torch._utils._rebuild_parameter,
    ('torch._utils', '_rebuild_parameter_with_state'):
    getattr(torch._utils, '_rebuild_parameter_with_state', torch._utils._rebuild_parameter),
    ('torch._tensor', '_rebuild_from_type_v2'): _rebuild_from_type_v2,
    ('torch.nn.parameter', 'Parameter'): torch.nn.Parameter,
    ('torch', 'Tensor'): torch.Tensor,
}


class StubUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that builds :data:`SAFE_GLOBALS`, torch dtypes
    and storages, and stubs every other global (recorded in
    :attr:`stubbed`)."""

    def __init__(self, *args, stubbed: Dict[str, int] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stubbed = {} if stubbed is None else stubbed
        self._stubs: Dict[str, type] = {}

    def find_class(self, module: str, name: str):
        key = (module, name)
        if key in SAFE_GLOBALS:
            return SAFE_GLOBALS[key]
        if module == 'torch' and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if module == 'torch' and name.endswith('Storage') and hasattr(torch, name):
            return getattr(torch, name)  # legacy typed storages (old files)
        qual = f'{module}.{name}'
        self.stubbed[qual] = self.stubbed.get(qual, 0) + 1
        if qual not in self._stubs:
            self._stubs[qual] = _stub_class(module, name)
        return self._stubs[qual]


class _StubPickleModule:
    """The ``pickle_module`` handed to ``torch.load``: its ``Unpickler`` is
    a :class:`StubUnpickler` (torch subclasses it for storages) that
    records the stubbed globals in ``self.stubbed``."""

    def __init__(self):
        self.stubbed: Dict[str, int] = {}
        stubbed = self.stubbed

        class Unpickler(StubUnpickler):

            def __init__(self, *args, **kwargs):
                super().__init__(*args, stubbed=stubbed, **kwargs)

        self.Unpickler = Unpickler
        self.__name__ = 'mmdropmae_stub_pickle'

    def load(self, file, **kwargs):
        return self.Unpickler(file, **kwargs).load()


def safe_torch_load(filename: str) -> Tuple[Any, List[str]]:
    """Load a checkpoint onto the CPU without building arbitrary objects.

    Tries ``torch.load(weights_only=True)`` first; when the file pickles
    other objects, it is read again with :class:`StubUnpickler` (tensors and
    plain containers are built, other classes become :class:`StubObject`).

    Args:
        filename (str): The checkpoint file.

    Returns:
        tuple: The loaded object and the sorted list of stubbed globals
        (``module.name``; empty when nothing was stubbed).

    Raises:
        FileNotFoundError: No such file.
        pickle.UnpicklingError: The file is not a readable checkpoint.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename}: no such checkpoint file')
    try:
        return torch.load(filename, map_location='cpu', weights_only=True), []
    except pickle.UnpicklingError:
        pass
    module = _StubPickleModule()
    obj = torch.load(filename, map_location='cpu', weights_only=False, pickle_module=module)
    return obj, sorted(module.stubbed)
