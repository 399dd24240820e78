"""tools/dataset_converters/make_synthetic_flow.py writes both layouts, which
the data set readers take as they are."""
import importlib.util
from pathlib import Path

from mmdropmae.datasets.flow import FlyingChairsDataset, KITTI2015Dataset

REPO = Path(__file__).resolve().parents[2]


def test_cli_writes_chairs_and_kitti_layouts(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'make_synthetic_flow', REPO / 'tools' / 'dataset_converters' / 'make_synthetic_flow.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main([str(tmp_path), '--layout', 'both', '--num-train', '3', '--num-val', '1',
              '--size', '40x32', '--num-shapes', '1-2'])
    out = capsys.readouterr().out
    assert 'FlyingChairs layout' in out and 'KITTI-2015 layout' in out
    assert len(FlyingChairsDataset(data_root=str(tmp_path / 'FlyingChairs'))) == 3
    assert len(FlyingChairsDataset(data_root=str(tmp_path / 'FlyingChairs'), split='val')) == 1
    assert len(KITTI2015Dataset(data_root=str(tmp_path / 'KITTI'))) == 3
    assert len(KITTI2015Dataset(data_root=str(tmp_path / 'KITTI'), split='testing')) == 1
    assert not list(tmp_path.rglob('.tmp_*'))  # atomic writes leave nothing behind
